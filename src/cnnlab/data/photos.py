"""Generated photos of handwritten digits on paper: the hard cases for :func:`cnnlab.digits.prepare`.

The strokes are rendered from **MNIST test digits** (no font): the 28 x 28 digit is enlarged with a
smooth zoom, thresholded into a pen stroke of the width a case asks for, anti-aliased and composited
as dark ink onto a page. :func:`photo` makes one case (:data:`CASES` should be read as one digit,
:data:`REFUSALS` should be refused); everything is drawn from ``rng``, so a seed fixes the picture.
Used by ``tests/test_digits.py`` and the C3 notebook's gallery.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.morphology import disk, skeletonize

from cnnlab.data.transforms import _check_rng

CASES = ("plain", "rotated", "thick_pen", "thin_pen", "uneven_light", "dark_desk", "corner_shadow", "ruled", "squared")
"""Photos of one digit that ``prepare`` must read."""
REFUSALS = ("blank", "two_digits", "touching_edge", "no_paper")
"""Photos in which there is not exactly one whole digit on paper: ``prepare`` must refuse them."""
SIZE = (360, 480)
"""(height, width) of every generated photo, pixels."""


def strokes(digit, height: int, pen: str = "normal") -> np.ndarray:
    """An MNIST digit (28, 28) uint8 -> its ink at ``height`` pixels for the 20-pixel digit box:
    (28 h / 20, 28 h / 20) float64 in [0, 1]. ``pen``: "normal" (MNIST's own width), "thick"
    (widened by 5% of the height) or "thin" (the skeleton, 3 pixels wide)."""
    d = np.asarray(digit)
    if d.shape != (28, 28):
        raise ValueError(f"digit: expected one (28, 28) MNIST digit, got shape {d.shape}")
    if pen not in ("normal", "thick", "thin"):
        raise ValueError(f"pen: expected 'normal', 'thick' or 'thin', got {pen!r}")
    zoom = height / 20
    big = ndimage.gaussian_filter(ndimage.zoom(d.astype(np.float64) / max(d.max(), 1), zoom, order=1), zoom / 3)
    mask = big > 0.4
    if pen == "thick":
        mask = ndimage.binary_dilation(mask, disk(max(1, round(0.05 * height))))
    elif pen == "thin":
        mask = ndimage.binary_dilation(skeletonize(mask), disk(1))
    return ndimage.gaussian_filter(mask.astype(np.float64), 0.8)


def _place(canvas_shape, ink: np.ndarray, centre) -> np.ndarray:
    """``ink`` pasted onto zeros of ``canvas_shape`` with its centre at ``centre`` (cropped at the edges)."""
    out = np.zeros(canvas_shape)
    top, left = int(round(centre[0] - ink.shape[0] / 2)), int(round(centre[1] - ink.shape[1] / 2))
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + ink.shape[0], canvas_shape[0]), min(left + ink.shape[1], canvas_shape[1])
    out[r0:r1, c0:c1] = ink[r0 - top:r1 - top, c0 - left:c1 - left]
    return out


def _desk(shape, rng) -> np.ndarray:
    """A dark wooden desk: brightness about 0.15-0.25 with smooth grain."""
    grain = ndimage.gaussian_filter(rng.normal(0, 1, shape), (2, 25))
    return 0.2 + 0.05 * grain / max(grain.std(), 1e-9)


def photo(digit, case: str, rng, *, second_digit=None) -> np.ndarray:
    """One generated photo, (360, 480, 3) uint8 RGB, of ``digit`` ((28, 28) uint8 MNIST) in ``case``.

    Cases (digit box about 45% of the photo's height unless said): "plain" (white paper, mild
    light gradient), "rotated" (camera turned by 15-20 degrees), "thick_pen", "thin_pen",
    "uneven_light" (brightness from 0.35 to 0.95 across the page), "dark_desk" (a sheet covering
    half of the photo on a dark desk), "corner_shadow" (a hard shadow darkening a corner to 45%),
    "ruled" (blue lines every 26 px), "squared" (a 22 px grid); refusals: "blank" (paper only),
    "two_digits" (``digit`` and ``second_digit`` side by side), "touching_edge" (the digit cut by
    the photo's border), "no_paper" (the desk only).
    """
    if case not in CASES + REFUSALS:
        raise ValueError(f"case: expected one of {CASES + REFUSALS}, got {case!r}")
    rng = _check_rng(rng)
    h, w = SIZE
    rows, cols = np.indices(SIZE) / np.array(SIZE)[:, None, None]
    page = np.full(SIZE, 0.92) * (0.93 + 0.07 * cols)               # paper, lit a little more from the right
    height = int(0.45 * h)
    centre = (h / 2 + rng.uniform(-15, 15), w / 2 + rng.uniform(-30, 30))
    pen = {"thick_pen": "thick", "thin_pen": "thin"}.get(case, "normal")
    ink = np.zeros(SIZE)
    if case == "two_digits":
        if second_digit is None:
            raise ValueError("second_digit: the 'two_digits' case needs a second (28, 28) MNIST digit")
        for digit_image, dx in ((digit, -0.2 * w), (second_digit, 0.2 * w)):
            ink = np.maximum(ink, _place(SIZE, strokes(digit_image, int(0.4 * h)), (h / 2, w / 2 + dx)))
    elif case == "touching_edge":
        ink = _place(SIZE, strokes(digit, int(0.6 * h)), (h * 0.92, w / 2))
    elif case not in ("blank", "no_paper"):
        ink = _place(SIZE, strokes(digit, height, pen), centre)
    if case == "rotated":
        ink = ndimage.rotate(ink, rng.uniform(15, 20) * rng.choice([-1, 1]), reshape=False, order=1)
    if case == "uneven_light":
        page = 0.35 + 0.6 * ndimage.gaussian_filter(np.clip(0.2 + cols + 0.3 * rows, 0, 1), 20)
    if case in ("ruled", "squared"):
        step = 26 if case == "ruled" else 22
        lines = (np.arange(h) % step < 2)[:, None] | ((np.arange(w) % step < 2)[None, :] if case == "squared" else False)
        page = page * (1 - 0.25 * lines)
    image = page * (1 - 0.85 * np.clip(ink, 0, 1))
    if case == "corner_shadow":
        image = image * np.where(rows / 0.55 + cols / 0.5 < 1, 0.45, 1.0)       # the top-left corner
    if case in ("dark_desk", "no_paper"):
        desk = _desk(SIZE, rng)
        sheet = (np.abs(rows - 0.5) < 0.36) & (np.abs(cols - 0.5) < 0.3) if case == "dark_desk" else np.zeros(SIZE, bool)
        image = np.where(sheet, image, desk)
    image = np.clip(image + rng.normal(0, 0.015, SIZE), 0, 1)
    rgb = np.stack([image, 0.98 * image, 0.93 * image], axis=-1)          # warm indoor light
    return (rgb * 255).round().astype(np.uint8)


def enlarged_on_page(digit_image, rng, size: int = 300) -> np.ndarray:
    """The earlier C3 notebook's synthetic photo, kept to re-read its photos: a small digit image
    (h, w) float in [0, 1], white on black (e.g. a scikit-learn 8 x 8 digit / 16), enlarged
    bilinearly to 160 x 160 and printed as dark ink at a random place on a ``size`` x ``size`` page
    lit from 0.75 to 1.0, with noise (std 0.02). Returns (size, size) float64 in [0, 1]."""
    from PIL import Image

    rng = _check_rng(rng)
    page = np.linspace(0.75, 1.0, size)[None, :] * np.linspace(0.85, 1.0, size)[:, None]
    big = np.asarray(Image.fromarray((np.asarray(digit_image) * 255).astype(np.uint8)).resize((160, 160), Image.BILINEAR)) / 255
    r, c = rng.integers(30, size - 190, 2)
    page[r:r + 160, c:c + 160] *= 1 - 0.8 * big
    return np.clip(page + rng.normal(0, 0.02, page.shape), 0, 1)
