"""SVHN (Street View House Numbers), cropped-digit format, resolved offline when possible.

:func:`load_svhn` tries, for each of ``train_32x32.mat`` and ``test_32x32.mat``:

1. the file in ``data/`` or a ``CNNLAB_DATA_DIR`` folder, MD5-verified (a file with another MD5
   is refused with a one-line message, never used);
2. a download from :data:`URL` with ``keras.utils.get_file`` (progress bar, MD5-checked) into
   ``data/``, where step 1 finds it next time.

If either file cannot be had, both splits come from the generated stand-in
(:mod:`cnnlab.data.svhn_stand_in`, cached as ``data/svhn_stand_in-v<N>.npz``): never silently,
the stand-in banner is always printed and ``info.stand_in`` is True.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnlab import config
from cnnlab.data import svhn_stand_in
from cnnlab.fileio import md5_file
from cnnlab.results import stand_in_banner

URL = "http://ufldl.stanford.edu/housenumbers/"
MD5 = {
    "train_32x32.mat": "e26dedcc434d2e4c54c9b2d4a06d8373",
    "test_32x32.mat": "eb5a983be6a315427106f1b164d9cef3",
}
"""Official MD5 sums of the cropped-digit files (the sums torchvision's SVHN loader checks)."""
SPLITS = {"train": "train_32x32.mat", "test": "test_32x32.mat"}
DOWNLOAD_TIMEOUT = 30.0
"""Seconds a stalled connection may block; offline (no DNS) the download fails at once."""

SvhnSplits = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class SvhnInfo:
    """Where the images came from: ``source`` (one line without absolute paths, for results JSON),
    whether it is the stand-in, and ``recipe``: for the stand-in, how it was made (version, seed,
    sizes), to key trained weights by (``Experiment(recipe=info.recipe)``) since its generated
    pixels can differ between CPUs in rare rounding cases; None for the real files, whose bytes
    are the key."""

    source: str
    stand_in: bool
    recipe: str | None = None


class SvhnFileError(ValueError):
    """A local SVHN file exists but is refused (wrong MD5, unreadable, wrong layout)."""


def read_mat(path: str | Path, md5: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One official cropped-digit file -> images (n, 32, 32, 3) uint8 and labels (n,) uint8 in 0..9.

    The file holds ``X`` (32, 32, 3, n) uint8 and ``y`` (n, 1) with labels 1..10, 10 meaning the
    digit 0. If ``md5`` is given the file's MD5 must match it. Raises ``FileNotFoundError`` or
    :class:`SvhnFileError`.
    """
    import scipy.io

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    if md5 is not None:
        got = md5_file(path)
        if got != md5:
            raise SvhnFileError(f"{path}: MD5 {got} is not the official {md5}")
    try:
        mat = scipy.io.loadmat(path)
        x, y = mat["X"], np.asarray(mat["y"])
    except Exception as err:  # a truncated or non-MATLAB file, or missing keys
        raise SvhnFileError(f"{path}: unreadable .mat ({type(err).__name__}: {err})") from None
    if x.ndim != 4 or x.shape[:3] != (32, 32, 3) or x.dtype != np.uint8:
        raise SvhnFileError(f"{path}: expected X of shape (32, 32, 3, n) uint8, got {x.shape} {x.dtype}")
    n = x.shape[3]
    if y.size != n or y.ndim not in (1, 2) or not np.issubdtype(y.dtype, np.number):
        raise SvhnFileError(f"{path}: expected y of shape ({n}, 1) matching X, got {y.shape} {y.dtype}")
    y = y.reshape(-1)
    if n and (not np.all(y == np.round(y)) or y.min() < 1 or y.max() > 10):
        raise SvhnFileError(f"{path}: expected labels 1..10 (10 = digit 0), got range [{y.min()}, {y.max()}]")
    return np.ascontiguousarray(x.transpose(3, 0, 1, 2)), (y.astype(np.int64) % 10).astype(np.uint8)


def find_local(name: str, *, verbose: bool = True) -> tuple[Path | None, list[str]]:
    """The first ``name`` in :func:`cnnlab.config.data_dirs` whose MD5 is official, and why others failed.

    Returns (path or None, reasons). A file with a wrong MD5 is refused with a one-line message.
    """
    if name not in MD5:
        raise ValueError(f"name: expected one of {sorted(MD5)}, got {name!r}")
    reasons = []
    for folder in config.data_dirs():
        path = folder / name
        if not path.is_file():
            continue
        got = md5_file(path)
        if got == MD5[name]:
            return path, reasons
        reasons.append(f"{config.shown_path(path)} refused (MD5 {got[:12]}..., official {MD5[name][:12]}...)")
        if verbose:
            print(f"SVHN: refusing {config.shown_path(path)}: MD5 {got} is not the official {MD5[name]}")
    if not reasons:
        reasons.append(f"not in {' or '.join(config.shown_path(d) + '/' for d in config.data_dirs())}")
    return None, reasons


@contextlib.contextmanager
def _socket_timeout(seconds: float):
    saved = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(saved)


def _download(name: str) -> Path:
    """Fetch ``name`` from :data:`URL` into ``config.DATA_DIR`` (or its user-cache copy if read-only)
    with Keras (MD5 check). Keras' own "Downloading data from ..." line and progress bar are muted: the
    loader reports the outcome in one line (a notebook run offline would otherwise show a download
    that never happens)."""
    from cnnlab import quiet_tensorflow  # noqa: F401
    import keras

    folder = config.writable_dir(config.DATA_DIR)  # created: get_file falls back to /tmp if it is missing
    interactive = keras.config.is_interactive_logging_enabled()
    keras.config.disable_interactive_logging()
    try:
        with _socket_timeout(DOWNLOAD_TIMEOUT):
            path = keras.utils.get_file(fname=name, origin=URL + name, file_hash=MD5[name], hash_algorithm="md5",
                                        cache_dir=str(folder), cache_subdir=".")
    finally:
        if interactive:
            keras.config.enable_interactive_logging()
    return Path(path)


def _download_failure(err: Exception) -> str:
    """One short phrase for a failed download: no URLs, errno texts or paths."""
    message = " ".join(str(err).replace(f"{config.ROOT}/", "").split()) or type(err).__name__
    if "URL fetch failure" in message or isinstance(err, OSError):
        return "the SVHN site could not be reached (offline?)"
    return f"download failed ({message})"


def _real(verbose: bool) -> tuple[SvhnSplits | None, str]:
    """Both official splits, or None and a one-line account of every source tried."""
    paths, where, failures = {}, [], []
    for name in SPLITS.values():  # resolve both files before reading either
        path, reasons = find_local(name, verbose=verbose)
        if path is None:
            try:
                path = _download(name)
                where.append(f"{name} downloaded from {URL}")
            except Exception as err:  # offline: URL fetch failure; a bad download: hash mismatch
                failures.append((name, f"{'; '.join(reasons)}; {_download_failure(err)}"))
                continue
        else:
            where.append(config.shown_path(path))
        paths[name] = path
    if failures:
        by_reason = {}
        for name, reason in failures:
            by_reason.setdefault(reason, []).append(name)
        return None, " | ".join(f"{' and '.join(names)}: {reason}" for reason, names in by_reason.items())
    splits = []
    for name, path in paths.items():
        try:
            splits.append(read_mat(path, MD5[name]))
        except (FileNotFoundError, SvhnFileError) as err:  # changed since it was checked
            return None, f"{name}: {err}"
    return (splits[0], splits[1]), "SVHN cropped digits (official files, MD5-verified): " + ", ".join(where)


def load_svhn(*, verbose: bool = True) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], SvhnInfo]:
    """SVHN as ``((x_train, y_train), (x_test, y_test), info)``.

    Shapes: x_train (73257, 32, 32, 3) uint8, y_train (73257,) uint8 digits 0..9 (the official
    label 10 is digit 0), x_test (26032, 32, 32, 3) uint8, y_test (26032,) uint8; ``info`` is an
    :class:`SvhnInfo`. Without the real files (offline) this returns the generated stand-in and
    prints :func:`cnnlab.results.stand_in_banner` even when ``verbose`` is False (the one place it
    is printed: a notebook shows the loader's output, not a banner of its own).
    """
    real, account = _real(verbose)
    if real is not None:
        if verbose:
            print(f"SVHN: loaded {account}")
        return real[0], real[1], SvhnInfo(source=account, stand_in=False)
    # generated (about 20 s) or read from its local cache without a word, so the output is the same either way
    (x_train, y_train), (x_test, y_test) = svhn_stand_in.load_stand_in(verbose=False)
    source = (f"generated SVHN-like stand-in (cnnlab.data.svhn_stand_in v{svhn_stand_in.VERSION}, seed "
              f"{svhn_stand_in.SEED}: font-rendered digits, not photographs) because real SVHN was unavailable: {account}")
    print(stand_in_banner(source))
    recipe = (f"svhn_stand_in v{svhn_stand_in.VERSION} difficulty {svhn_stand_in.DIFFICULTY} seed {svhn_stand_in.SEED} "
              f"sizes {len(x_train)} {len(x_test)}")
    return (x_train, y_train), (x_test, y_test), SvhnInfo(source=source, stand_in=True, recipe=recipe)
