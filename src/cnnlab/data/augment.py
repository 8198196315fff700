"""Vectorised augmentation that mimics real handwriting and scanning, for MNIST-style batches.

Images are ``(n, h, w)`` or ``(n, h, w, 1)`` float32 in [0, 1] (white ink on black); outputs keep
the shape and are float32 in [0, 1]. Randomness comes only from an ``rng`` argument. Geometric
changes (affine + elastic) resample every image with one batched
``scipy.ndimage.map_coordinates`` call; there is no Python loop over images.

Geometry conventions, (row, column) with rows pointing down: ``shift`` (dy, dx) in pixels
(positive = down / right), ``rotation`` in degrees (positive = counter-clockwise as displayed),
``scale`` > 1 enlarges, ``shear`` k > 0 slants the digit forward (top to the right, like italics),
all about the frame's centre.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import ndimage

from cnnlab.data.transforms import _check_rng

VERSION = 1
"""Bump whenever :func:`augment` draws or transforms differently: weights trained on augmented data
are keyed by this version, the seed and the source images (the recipe of :func:`with_copies`), not by
the float output's bytes."""


def _check_images(images) -> tuple[np.ndarray, bool]:
    """-> ((n, h, w) float32 array, whether a trailing channel axis was removed)."""
    a = np.asarray(images)
    channel = a.ndim == 4 and a.shape[-1] == 1
    if channel:
        a = a[..., 0]
    if a.ndim != 3 or a.shape[0] == 0 or min(a.shape[1:]) < 2:
        raise ValueError(f"images: expected a non-empty (n, h, w) or (n, h, w, 1) batch, got shape {np.shape(images)}")
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(f"images: expected float pixels in [0, 1], got {a.dtype}; convert with transforms.to_float first")
    lo, hi = float(a.min()), float(a.max())
    if not (lo >= 0 and hi <= 1):  # also rejects NaN
        raise ValueError(f"images: expected values in [0, 1], got range [{lo}, {hi}]")
    return a.astype(np.float32, copy=False), channel


def _finish(out: np.ndarray, channel: bool) -> np.ndarray:
    out = np.clip(out, 0, 1).astype(np.float32, copy=False)
    return out[..., None] if channel else out


def _per_image(value, n: int, name: str, shape=()) -> np.ndarray:
    """Broadcast a scalar or a ``shape`` vector to one value per image: (n, *shape) float64."""
    v = np.asarray(value, dtype=np.float64)
    if v.shape not in ((), shape, (n, *shape)) or not np.isfinite(v).all():
        want = f"one value or ({n},) values" if not shape else f"one value, {shape} or ({n}, {shape[0]}) values"
        raise ValueError(f"{name}: expected finite numbers, {want}, got shape {v.shape}")
    return np.broadcast_to(v, (n, *shape))


def _check_nonnegative(value, name: str) -> float:
    if not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
    return float(value)


# --- geometry: one coordinate field per image, sampled in one call -------------------------------

def _affine_coords(shape, shift, rotation, scale, shear) -> np.ndarray:
    """Source (row, col) for every output pixel: (n, h, w, 2) float64, inverse of the forward map
    x -> R(rotation) Sh(shear) S(scale) (x - c) + c + shift."""
    n, h, w = shape
    theta = np.deg2rad(rotation)
    cos, sin, one, zero = np.cos(theta), np.sin(theta), np.ones(n), np.zeros(n)
    rot = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)          # (n, 2, 2)
    slant = np.stack([np.stack([one, zero], -1), np.stack([-shear, one], -1)], -2)     # col' = col - k row
    forward = rot @ slant * scale[:, None, None]
    inverse = np.linalg.inv(forward)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    rows = np.arange(h)[None, :, None] - cy - shift[:, 0, None, None]                    # (n, h, 1)
    cols = np.arange(w)[None, None, :] - cx - shift[:, 1, None, None]                    # (n, 1, w)
    m = inverse[:, :, :, None, None]                                                     # (n, 2, 2, 1, 1)
    return np.stack([m[:, 0, 0] * rows + m[:, 0, 1] * cols + cy,
                     m[:, 1, 0] * rows + m[:, 1, 1] * cols + cx], axis=-1)


def _elastic_field(shape, rng: np.random.Generator, alpha: float, sigma: float) -> np.ndarray:
    """Simard et al. (2003) displacements: uniform noise in [-1, 1] per pixel and axis, smoothed by
    a Gaussian of ``sigma`` pixels within each image and scaled by ``alpha``. (n, h, w, 2) float32.

    The smoothing equals ``ndimage.gaussian_filter(noise, sigma, axes=(1, 2), mode="constant")``
    per displacement component, done as two matrix products with the filter's own matrix
    (the filter applied to an identity matrix): about 10x faster for a batch of 28 x 28 fields.
    """
    n, h, w = shape
    rows = ndimage.gaussian_filter1d(np.eye(h), sigma, axis=0, mode="constant").astype(np.float32)
    cols = ndimage.gaussian_filter1d(np.eye(w), sigma, axis=0, mode="constant").astype(np.float32)
    noise = 2 * rng.random((n, h, w, 2), dtype=np.float32) - 1
    # two large matrix products: along rows (h x h) @ (h, n*w*2), then along columns
    smooth = (rows @ noise.transpose(1, 0, 2, 3).reshape(h, -1)).reshape(h, n, w, 2).transpose(1, 0, 2, 3)
    smooth = (cols @ smooth.transpose(2, 0, 1, 3).reshape(w, -1)).reshape(w, n, h, 2).transpose(1, 2, 0, 3)
    return alpha * smooth


def _sample(images: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """Bilinear sampling of each image at its own (n, h', w', 2) source coordinates, one call.

    The image index is the first coordinate, exactly an integer, so order=1 never mixes images
    (a spline of order > 1 would prefilter across the batch axis and must not be used); for the
    same reason a large batch is sampled in chunks on up to 4 threads with an identical result.
    """
    n = len(images)
    workers = min(os.cpu_count() or 1, 4) if n >= 2000 else 1
    if workers == 1:
        return _sample_chunk(images, coords)
    # map_coordinates releases the GIL: chunks of images in threads give the same result, faster
    bounds = np.linspace(0, n, workers + 1).astype(int)
    with ThreadPoolExecutor(workers) as pool:
        parts = pool.map(lambda ab: _sample_chunk(images[ab[0]:ab[1]], coords[ab[0]:ab[1]]), zip(bounds[:-1], bounds[1:]))
        return np.concatenate(list(parts))


def _sample_chunk(images: np.ndarray, coords: np.ndarray) -> np.ndarray:
    index = np.broadcast_to(np.arange(len(images), dtype=np.float64)[:, None, None], coords.shape[:3])
    field = np.stack([index, coords[..., 0], coords[..., 1]])
    return ndimage.map_coordinates(images, field, order=1, mode="constant", cval=0.0, output=np.float32)


def affine(images, *, shift=0.0, rotation=0.0, scale=1.0, shear=0.0) -> np.ndarray:
    """Apply given affine maps: each argument is one value for all images or one per image
    (``shift``: (2,) or (n, 2) pixels; ``rotation`` degrees; ``scale``; ``shear``: (n,) or scalar)."""
    images, channel = _check_images(images)
    n = len(images)
    scale = _per_image(scale, n, "scale")
    if np.any(scale <= 0):
        raise ValueError(f"scale: expected positive factors, got minimum {scale.min()}")
    coords = _affine_coords(images.shape, _per_image(shift, n, "shift", (2,)), _per_image(rotation, n, "rotation"),
                            scale, _per_image(shear, n, "shear"))
    return _finish(_sample(images, coords), channel)


def _random_affine_params(n: int, rng, max_shift, max_rotation, max_scale, max_shear):
    return dict(shift=rng.uniform(-max_shift, max_shift, (n, 2)),
                rotation=rng.uniform(-max_rotation, max_rotation, n),
                scale=np.exp(rng.uniform(np.log(1 - max_scale), np.log(1 + max_scale), n)),
                shear=rng.uniform(-max_shear, max_shear, n))


def _check_ranges(max_shift, max_rotation, max_scale, max_shear) -> None:
    for value, name in ((max_shift, "max_shift"), (max_rotation, "max_rotation"), (max_shear, "max_shear")):
        _check_nonnegative(value, name)
    if not 0 <= _check_nonnegative(max_scale, "max_scale") < 1:
        raise ValueError(f"max_scale: expected a fraction in [0, 1), got {max_scale!r}")


def random_affine(images, rng, *, max_shift=2.0, max_rotation=15.0, max_scale=0.15, max_shear=0.3) -> np.ndarray:
    """Per-image uniform shift (+-max_shift px per axis), rotation (+-max_rotation degrees),
    scale (1 +- max_scale, log-uniform) and shear (+-max_shear)."""
    images, channel = _check_images(images)
    rng = _check_rng(rng)
    _check_ranges(max_shift, max_rotation, max_scale, max_shear)
    params = _random_affine_params(len(images), rng, max_shift, max_rotation, max_scale, max_shear)
    return _finish(_sample(images, _affine_coords(images.shape, **params)), channel)


def elastic(images, rng, *, alpha=34.0, sigma=4.0) -> np.ndarray:
    """Elastic distortion (Simard et al. 2003): smooth random displacement fields, ``alpha`` sets
    their size (34 with ``sigma`` 4 gives 1.8 px RMS displacement), ``sigma`` their smoothness (px)."""
    images, channel = _check_images(images)
    rng = _check_rng(rng)
    alpha = _check_nonnegative(alpha, "alpha")
    if _check_nonnegative(sigma, "sigma") == 0:
        raise ValueError("sigma: expected a positive smoothing width in pixels, got 0")
    grid = np.stack(np.indices(images.shape[1:]), -1).astype(np.float64)
    coords = grid[None] + _elastic_field(images.shape, rng, alpha, sigma)
    return _finish(_sample(images, coords), channel)


# --- stroke thickness, blur, noise ---------------------------------------------------------------

_THICKNESS_OPS = {
    -1: (ndimage.grey_erosion, np.ones((1, 2, 2), bool)),                                   # about 1 px thinner
    1: (ndimage.grey_dilation, np.ones((1, 2, 2), bool)),                                   # about 1 px thicker
    2: (ndimage.grey_dilation, np.array([[[0, 1, 0], [1, 1, 1], [0, 1, 0]]], bool)),       # about 2 px thicker
}


def change_thickness(images, steps) -> np.ndarray:
    """Thin or thicken strokes: ``steps`` per image (or one for all) in {-1, 0, 1, 2}: grey erosion
    by a 2x2 square, unchanged, grey dilation by a 2x2 square or by a 3x3 cross. One filter call
    per distinct step (images grouped), never a loop over images."""
    images, channel = _check_images(images)
    steps = np.broadcast_to(np.asarray(steps), (len(images),)) if np.ndim(steps) == 0 else np.asarray(steps)
    if steps.shape != (len(images),) or not np.isin(steps, (-1, 0, 1, 2)).all():
        raise ValueError(f"steps: expected one value or ({len(images)},) values in {{-1, 0, 1, 2}}, "
                         f"got shape {steps.shape} values {np.unique(steps)[:6].tolist()}")
    return _finish(_thickness(images, steps), channel)


def _thickness(images: np.ndarray, steps: np.ndarray) -> np.ndarray:
    out = images.copy()
    for step, (op, footprint) in _THICKNESS_OPS.items():
        idx = np.flatnonzero(steps == step)
        if idx.size:
            out[idx] = op(images[idx], footprint=footprint, mode="constant", cval=0.0)
    return out


def random_thickness(images, rng, *, p=0.5) -> np.ndarray:
    """With probability ``p`` per image change the strokes by -1, +1 or +2 steps (equally likely)."""
    images, channel = _check_images(images)
    rng = _check_rng(rng)
    if not 0 <= _check_nonnegative(p, "p") <= 1:
        raise ValueError(f"p: expected a probability in [0, 1], got {p!r}")
    return _finish(_thickness(images, _random_steps(len(images), rng, p)), channel)


def _random_steps(n: int, rng: np.random.Generator, p: float) -> np.ndarray:
    return np.where(rng.random(n) < p, rng.choice([-1, 1, 2], n), 0)


def blur(images, amount) -> np.ndarray:
    """Defocus: blend each image with its Gaussian blur (sigma 1 px); ``amount`` in [0, 1] per image
    or for all (0 = sharp, 1 = fully blurred). One filter call for the batch."""
    images, channel = _check_images(images)
    amount = _per_image(amount, len(images), "amount")
    if np.any((amount < 0) | (amount > 1)):
        raise ValueError(f"amount: expected values in [0, 1], got range [{amount.min()}, {amount.max()}]")
    return _finish(_blur(images, amount), channel)


def _blur(images: np.ndarray, amount: np.ndarray) -> np.ndarray:
    blurred = ndimage.gaussian_filter(images, 1.0, axes=(1, 2), mode="constant")
    w = amount[:, None, None].astype(np.float32)
    return (1 - w) * images + w * blurred


def noise(images, rng, *, std=0.05) -> np.ndarray:
    """Additive Gaussian sensor noise with a per-image standard deviation uniform in [0, std], clipped."""
    images, channel = _check_images(images)
    rng = _check_rng(rng)
    return _finish(_noise(images, rng, _check_nonnegative(std, "std")), channel)


def _noise(images: np.ndarray, rng: np.random.Generator, std: float) -> np.ndarray:
    sd = rng.uniform(0, std, (len(images), 1, 1)).astype(np.float32)
    return images + sd * rng.standard_normal(images.shape, dtype=np.float32)


# --- everything at once --------------------------------------------------------------------------

def augment(images, rng, strength=1.0) -> np.ndarray:
    """Random handwriting / scanning variation: affine + elastic (one resampling), stroke thickness,
    blur and noise. ``strength`` scales every range linearly (0 = identity, 1 = defaults: shift
    +-2 px, rotation +-15 degrees, scale 0.85-1.15, shear +-0.3, elastic alpha 24 / sigma 4, i.e.
    1.3 px RMS (milder than Simard's 34, which bends loops too far on top of the affine part),
    thickness change with p 0.5, blur amount up to 0.5, noise std up to 0.04). Each image is then
    rescaled to peak at 1.

    images: (n, h, w) or (n, h, w, 1) float32 in [0, 1]. Returns the same shape, float32 in [0, 1].
    Measured once: 2.0-2.5 s per 10,000 28x28 images (2-core CPU, the other core busy); about half
    of it is the map_coordinates call, a quarter the elastic field.
    """
    images, channel = _check_images(images)
    rng = _check_rng(rng)
    s = _check_nonnegative(strength, "strength")
    if s >= 1 / 0.15:
        raise ValueError(f"strength: expected a value < {1 / 0.15:.2f} (scale factor must stay positive), got {strength!r}")
    n = len(images)
    params = _random_affine_params(n, rng, 2.0 * s, 15.0 * s, 0.15 * s, 0.3 * s)
    coords = _affine_coords(images.shape, **params) + _elastic_field(images.shape, rng, 24.0 * s, 4.0)
    out = _thickness(_sample(images, coords), _random_steps(n, rng, min(0.5 * s, 1.0)))
    out = _blur(out, rng.uniform(0, min(0.5 * s, 1.0), n))
    if s > 0:  # thinning and blur dim the strokes; digits from cnnlab.digits.prepare peak at 1 like MNIST's
        peak = out.max(axis=(1, 2), keepdims=True)
        out = np.where(peak > 0, out / np.where(peak > 0, peak, 1), out)
    return _finish(_noise(np.clip(out, 0, 1), rng, 0.04 * s), channel)


# --- the scikit-learn / UCI digits' coarse grid ----------------------------------------------------

def like_uci_digits(images, rng, *, thicken_p: float = 0.7) -> np.ndarray:
    """Degrade MNIST digits the way the UCI / scikit-learn digits were made, then frame them like MNIST.

    The UCI recipe (``sklearn.datasets.load_digits().DESCR``): a binary bitmap with the digit
    normalised to fill 32 x 32 (all 1,797 digits fill the 8 rows; most fill 6 of the 8 columns, so
    narrow digits are stretched), then the "on" pixels counted per 4 x 4 block: 8 x 8 values 0..16.
    Here, per image: strokes thickened with probability ``thicken_p`` (by 1 or 2 steps of
    :func:`change_thickness`: the UCI strokes are thicker than MNIST's), the digit's bounding box
    resampled to 32 rows and a width that keeps the aspect ratio (jittered x0.8-1.25) or, for half the
    images, is stretched to 16-28 columns, placed at a random column, binarised at a random threshold
    in [0.3, 0.6], block-counted to 8 x 8, and finally framed exactly as the unseen-writer test images
    are, by :func:`cnnlab.digits.frame_like_mnist` (a loop: about 0.2-0.3 ms per image; the rest is vectorised).

    images: (n, h, w) or (n, h, w, 1) float32 in [0, 1], white ink on black, each with some ink.
    Returns the same shape, float32 in [0, 1].
    """
    from cnnlab.digits import frame_like_mnist

    images, channel = _check_images(images)
    rng = _check_rng(rng)
    if not 0 <= _check_nonnegative(thicken_p, "thicken_p") <= 1:
        raise ValueError(f"thicken_p: expected a probability in [0, 1], got {thicken_p!r}")
    n, h, w = images.shape
    steps = np.where(rng.random(n) < thicken_p, rng.choice([1, 2], n), 0)
    x = _thickness(images, steps)
    ink = x > 0.3
    rows, cols = ink.any(axis=2), ink.any(axis=1)
    if not (rows.any(axis=1).all()):
        raise ValueError(f"images: image {int(np.flatnonzero(~rows.any(axis=1))[0])} has no ink above 0.3")
    r0, r1 = rows.argmax(1), h - rows[:, ::-1].argmax(1)          # bounding box [r0, r1) x [c0, c1)
    c0, c1 = cols.argmax(1), w - cols[:, ::-1].argmax(1)
    bh, bw = (r1 - r0).astype(np.float64), (c1 - c0).astype(np.float64)
    kept = bw / bh * 32 * np.exp(rng.uniform(np.log(0.8), np.log(1.25), n))
    width = np.clip(np.where(rng.random(n) < 0.5, kept, rng.uniform(16, 28, n)), 4, 32)
    offset = rng.uniform(0, 32 - width)
    i = np.arange(32) + 0.5
    src_r = r0[:, None] - 0.5 + i[None, :] * (bh / 32)[:, None]                              # (n, 32)
    src_c = c0[:, None] - 0.5 + (i[None, :] - offset[:, None]) * (bw / width)[:, None]       # (n, 32)
    src_c = np.where((i[None, :] < offset[:, None]) | (i[None, :] > offset[:, None] + width[:, None]), -10.0, src_c)
    coords = np.stack(np.broadcast_arrays(src_r[:, :, None], src_c[:, None, :]), axis=-1)
    big = _sample(x, coords) > rng.uniform(0.3, 0.6, (n, 1, 1))                               # (n, 32, 32) bool
    counts = big.reshape(n, 8, 4, 8, 4).sum(axis=(2, 4))                                      # (n, 8, 8) in 0..16
    out = frame_like_mnist(counts / 16.0)[..., 0]
    if (h, w) != out.shape[1:]:
        raise ValueError(f"images: expected 28 x 28 digits (the MNIST frame), got {h} x {w}")
    return _finish(out, channel)


def _digest(images: np.ndarray) -> str:
    """The source images' identity in a recipe: the same digest as ``cnnlab.train.fingerprint(images)``
    (shape, dtype and bytes), computed here so this module needs no Keras."""
    digest = hashlib.blake2b(digest_size=16)
    a = np.ascontiguousarray(images)
    digest.update(f"{a.shape}{a.dtype.str}".encode())
    digest.update(memoryview(a).cast("B"))
    return digest.hexdigest()


def with_copies(images, labels, *, copies: int = 1, seed: int = 0, strength: float = 1.0, uci_fraction: float = 0.0):
    """The images followed by ``copies`` augmented copies of them, and how they were made.

    Copy k is ``augment(images, rng, strength)`` for the k-th call on one ``numpy.random.default_rng(seed)``.
    images: (n, h, w) or (n, h, w, 1) float32 in [0, 1]; labels: (n,) integers. Returns
    ``(x, y, recipe)``: x ((1 + copies) n, ...) float32, y the labels tiled to match, and ``recipe``, a
    string naming the source images (their digest), the number of copies, this module's
    :data:`VERSION`, the seed and any strength other than 1: float maths whose last bits can differ
    between CPUs, so trained weights are keyed by it (``Experiment(recipe=recipe)``) instead of x's bytes.

    ``uci_fraction``: in each copy, this fraction of the images (chosen at random, after the copy is
    drawn) is replaced by :func:`like_uci_digits` of the original image, from the same generator.
    """
    x, channel = _check_images(images)
    x = x[..., None] if channel else x
    y = np.asarray(labels)
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels: expected ({len(x)},) integers, one per image, got shape {y.shape} dtype {y.dtype}")
    if not isinstance(copies, (int, np.integer)) or isinstance(copies, bool) or copies < 0:
        raise ValueError(f"copies: expected an int >= 0, got {copies!r}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: expected an int >= 0, got {seed!r}")
    if not isinstance(uci_fraction, (int, float)) or isinstance(uci_fraction, bool) or not 0 <= uci_fraction <= 1:
        raise ValueError(f"uci_fraction: expected a fraction in [0, 1], got {uci_fraction!r}")
    rng = np.random.default_rng(int(seed))
    extra = []
    for _ in range(int(copies)):
        copy = augment(x, rng, strength)
        if uci_fraction > 0:
            pick = np.flatnonzero(rng.random(len(x)) < uci_fraction)
            if pick.size:
                copy[pick] = like_uci_digits(x[pick], rng)
        extra.append(copy)
    recipe = f"images {_digest(x)} + {int(copies)} copies by cnnlab.data.augment v{VERSION}, seed {int(seed)}"
    if strength != 1.0:
        recipe += f", strength {float(strength)!r}"
    if uci_fraction > 0:
        recipe += f", UCI-like fraction {float(uci_fraction)!r}"
    return np.concatenate([x, *extra]), np.tile(y, 1 + int(copies)), recipe
