"""CIFAR-10 from the course's JPEG copies, verified by SHA-256 and decoded to uint8 images.

No package registry carries CIFAR-10 and the notebooks run offline, so the data are JPEG
(quality 75) copies of all 60,000 CIFAR-10 images in the original order with their exact labels
(decoded pixels differ from the originals by about 6/255 on average). Each split is one ``.npz``:
``jpeg`` (uint8, all files back to back), ``offsets`` (int64, n + 1) and ``labels`` (uint8).

Where they are found, in order: ``data/<file>`` (the test split is vendored there), then
``<dir>/cifar10/<file>`` and ``<dir>/<file>`` for each ``CNNLAB_DATA_DIR`` folder. A file whose
SHA-256 differs from :data:`FILES` is refused.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from cnnlab import config
from cnnlab.fileio import sha256_file

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
FILES = {
    "test": ("cifar10_test_jpeg.npz", "840f1007bb5ac699f6d838efc1fe21a38daeb68d060dcece5672510b7e1e2af3", 10_000),
    "train": ("cifar10_train_jpeg.npz", "fa8e01c0cca1c37f03f21877a85c10f1f0440a739166aa66004553e5f86c208c", 50_000),
}
"""split -> (file name, SHA-256 from the shared copy's SHA256SUMS manifest, number of images)."""


class Cifar10Unavailable(FileNotFoundError):
    """The split's file is in none of the searched folders; the message says where to put it."""


def find(split: str) -> Path:
    """The verified file of ``split`` ("test" or "train")."""
    if split not in FILES:
        raise ValueError(f"split: expected 'test' or 'train', got {split!r}")
    name, expected, _ = FILES[split]
    candidates = [config.DATA_DIR / name] + [p for d in config.data_dirs()[1:] for p in (d / "cifar10" / name, d / name)]
    for path in candidates:
        if path.is_file():
            got = sha256_file(path)
            if got != expected:
                raise ValueError(f"{name}: expected SHA-256 {expected[:16]}..., got {got[:16]}... (a different or damaged "
                                 f"file); replace it with the course's copy")
            return path
    raise Cifar10Unavailable(f"{name} (CIFAR-10 {split} split as JPEG copies) not found in data/ or CNNLAB_DATA_DIR; "
                             f"put it into data/ or set CNNLAB_DATA_DIR to the folder holding cifar10/{name}")


def available(split: str) -> bool:
    """Whether the verified file of ``split`` can be found (the training split is not vendored)."""
    try:
        find(split)
    except Cifar10Unavailable:
        return False
    return True


def decode(jpeg: np.ndarray, offsets: np.ndarray, indices=None) -> np.ndarray:
    """Images ``(len(indices), 32, 32, 3) uint8`` from back-to-back JPEG bytes (all by default)."""
    from PIL import Image

    indices = range(len(offsets) - 1) if indices is None else indices
    out = [np.asarray(Image.open(io.BytesIO(jpeg[offsets[i]:offsets[i + 1]].tobytes())).convert("RGB")) for i in indices]
    return np.stack(out) if out else np.zeros((0, 32, 32, 3), np.uint8)


def load_cifar10(split: str = "test", *, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: images ``(n, 32, 32, 3) uint8`` and labels ``(n,) int64`` in 0..9 (:data:`CLASSES`),
    in the original CIFAR-10 order; the first ``limit`` images if given."""
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0):
        raise ValueError(f"limit: expected a positive int or None, got {limit!r}")
    with np.load(find(split), allow_pickle=False) as f:
        jpeg, offsets, labels = f["jpeg"], f["offsets"], f["labels"]
    n = len(labels) if limit is None else min(limit, len(labels))
    return decode(jpeg, offsets, range(n)), labels[:n].astype(np.int64)
