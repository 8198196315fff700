"""Vectorised numpy transforms of image batches; randomness comes only from an ``rng`` argument.

Image batches here are ``(n, h, w)`` (or ``(n, h, w, c)`` where stated), any numeric dtype;
outputs keep the input dtype.
"""

from __future__ import annotations

import numpy as np


def _check_batch(images, name: str = "images", *, ndim=(3,)) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim not in ndim or images.shape[0] == 0:
        want = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"{name}: expected a non-empty {want} batch (n, h, w[, c]), got shape {images.shape}")
    if not (np.issubdtype(images.dtype, np.number) or images.dtype == bool):
        raise ValueError(f"{name}: expected a numeric dtype, got {images.dtype}")
    return images


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng: expected a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


def _check_labels(y, n: int) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y: expected ({n},) integer labels matching the images, got shape {y.shape} dtype {y.dtype}")
    return y


def place_on_canvas(images, size: int = 50, *, rng) -> tuple[np.ndarray, np.ndarray]:
    """Paste each image at a uniformly random position fully inside a blank ``size x size`` canvas.

    images: (n, h, w) with h, w <= size. Returns canvases (n, size, size) of the input dtype and
    positions (n, 2) int: the (row, column) of each image's top-left corner, each in [0, size - h].
    """
    images = _check_batch(images)
    rng = _check_rng(rng)
    n, h, w = images.shape
    if not isinstance(size, (int, np.integer)) or size < max(h, w):
        raise ValueError(f"size: expected an int >= the image size {max(h, w)}, got {size!r}")
    positions = np.stack([rng.integers(0, size - h + 1, n), rng.integers(0, size - w + 1, n)], axis=1)
    rows = positions[:, :1] + np.arange(h)  # (n, h)
    cols = positions[:, 1:] + np.arange(w)  # (n, w)
    canvases = np.zeros((n, size, size), dtype=images.dtype)
    canvases[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]] = images
    return canvases, positions


def rot90(images, k) -> np.ndarray:
    """Rotate each image counter-clockwise by ``k`` quarter turns (``np.rot90`` convention).

    images: (n, h, w) or (n, h, w, c); k: an int, or (n,) ints (one per image, any sign).
    Per-image turns with an odd k need square images. Returns an array of the input's dtype.
    """
    images = _check_batch(images, ndim=(3, 4))
    k = np.asarray(k)
    if not np.issubdtype(k.dtype, np.integer) or k.shape not in ((), (len(images),)):
        raise ValueError(f"k: expected an int or ({len(images)},) ints, got shape {k.shape} dtype {k.dtype}")
    if k.ndim == 0:
        return np.rot90(images, int(k), axes=(1, 2)).copy()
    k = k % 4
    if np.any(k % 2) and images.shape[1] != images.shape[2]:
        raise ValueError(f"images: odd per-image turns need square images, got {images.shape[1]}x{images.shape[2]}")
    out = np.empty_like(images)
    for turns in range(4):  # four vectorised calls, one per distinct angle
        idx = np.flatnonzero(k == turns)
        out[idx] = np.rot90(images[idx], turns, axes=(1, 2))
    return out


def rotated_dataset(x, y, *, rng, per_class: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A rotated copy of (x, y) with exactly balanced classes and rotations.

    Balancing: every class keeps the same number of images, ``per_class`` (default: the rarest
    class's count rounded down to a multiple of 4), drawn at random without replacement; within
    each class, each of the four rotations 0, 90, 180, 270 degrees is used on exactly a quarter of
    them. x: (n, h, h[, c]); y: (n,) ints. Returns (images, labels, quarter_turns), shuffled.
    """
    x = _check_batch(x, "x", ndim=(3, 4))
    y = _check_labels(y, len(x))
    rng = _check_rng(rng)
    classes, counts = np.unique(y, return_counts=True)
    limit = counts.min() // 4 * 4
    per_class = limit if per_class is None else per_class
    if not isinstance(per_class, (int, np.integer)) or per_class <= 0 or per_class % 4 or per_class > limit:
        raise ValueError(f"per_class: expected a positive multiple of 4 <= {limit} (rarest class), got {per_class!r}")
    chosen = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in classes])
    turns = np.tile(np.repeat(np.arange(4), per_class // 4), len(classes))
    order = rng.permutation(len(chosen))
    chosen, turns = chosen[order], turns[order]
    return rot90(x[chosen], turns), y[chosen], turns


def digit_pairs(x, y, n: int, axis: int = 1, *, rng, pairs=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` random pairs of images joined along an image axis, with both labels and their sum.

    axis 1 puts the two digits side by side ((n, h, 2w)); axis 0 stacks them ((n, 2h, w)).
    x: (m, h, w); y: (m,) ints. Without ``pairs`` both images are drawn uniformly from ``x``; with
    ``pairs`` (an iterable of (first, second) labels, e.g. all but some held-out ones) each sample
    picks one of those label pairs uniformly, then an image of each label uniformly.
    Returns images, labels (n, 2) (first = left or top), sums (n,).
    """
    x = _check_batch(x, "x")
    y = _check_labels(y, len(x))
    rng = _check_rng(rng)
    if axis not in (0, 1):
        raise ValueError(f"axis: expected 0 (stacked) or 1 (side by side), got {axis!r}")
    if not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"n: expected a positive int, got {n!r}")
    uniform = pairs is None
    idx = rng.integers(0, len(x), size=(n, 2)) if uniform else _indices_of_label_pairs(y, _check_pairs(pairs, y), n, rng)
    images = np.concatenate([x[idx[:, 0]], x[idx[:, 1]]], axis=axis + 1)
    labels = y[idx]
    return images, labels, labels.sum(axis=1)


def _check_pairs(pairs, y: np.ndarray) -> np.ndarray:
    array = np.asarray(list(pairs))
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"pairs: expected a non-empty list of (first, second) integer labels, got shape {array.shape}")
    missing = np.setdiff1d(array, y)
    if missing.size:
        raise ValueError(f"pairs: labels {missing.tolist()} have no image in y (labels present: {np.unique(y).tolist()})")
    return array


def _indices_of_label_pairs(y: np.ndarray, pairs: np.ndarray, n: int, rng) -> np.ndarray:
    """(n, 2) image indices: a uniformly chosen row of ``pairs`` per sample, then a uniform image of each label."""
    order = np.argsort(y, kind="stable")
    classes, starts, counts = np.unique(y[order], return_index=True, return_counts=True)
    chosen = np.searchsorted(classes, pairs[rng.integers(0, len(pairs), n)])  # (n, 2) positions in classes
    offsets = (rng.random((n, 2)) * counts[chosen]).astype(np.int64)
    return order[starts[chosen] + offsets]


def to_float(images) -> np.ndarray:
    """uint8 images (n, h, w) or (n, h, w, c) -> float32 (n, h, w, c) in [0, 1] (channel added if missing)."""
    images = _check_batch(images, ndim=(3, 4))
    if images.dtype != np.uint8:
        raise ValueError(f"images: expected uint8 pixels 0..255, got {images.dtype}; convert or rescale first")
    out = images.astype(np.float32) / 255.0
    return out[..., None] if out.ndim == 3 else out
