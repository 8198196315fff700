"""A generated SVHN-like stand-in, used only when the real SVHN files cannot be had (offline).

Each image is a 32x32 colour crop centred on one digit rendered from a TrueType font that
matplotlib ships (DejaVu, STIX, Computer Modern), like SVHN's cropped-digit format: random
foreground / background colours with a guaranteed luminance contrast, a background colour
gradient and an illumination gradient, random height (18-30 px), width, +-15 degree rotation,
shear, blur and pixel noise, and neighbouring digits in the same font cut off at the left and
right edges. These are NOT photographs: accuracies on them are not comparable to real SVHN.

Speed: each (font, digit) glyph is rendered once (:func:`glyph_bank`); all images are then
built with batched numpy (one bilinear gather per pixel), ~99k images in well under a minute.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter
from tqdm import tqdm

from cnnlab import config
from cnnlab.fileio import atomic_path

VERSION = 1
"""Bump when the generator changes; it names the cache file, so old caches are never reused."""
SEED = 2020
SIZES = (73257, 26032)
"""(train, test) image counts, as in SVHN's cropped-digit format."""
FONT_FILES = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf",
    "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "cmr10.ttf", "cmss10.ttf", "cmb10.ttf",
)
"""Font files from ``matplotlib/mpl-data/fonts/ttf``; a missing or unusable one is skipped."""

SIZE = 32
GLYPH_H, CELL_H, CELL_W = 32, 40, 48
"""Bank glyphs: digit ink exactly GLYPH_H rows tall, centred in a zero-bordered CELL_H x CELL_W cell."""
CHUNK = 4096


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _render(font, digit: int) -> np.ndarray:
    """One digit's ink, cropped and resized to GLYPH_H rows: (GLYPH_H, w) float32 in [0, 1]."""
    from PIL import Image, ImageDraw

    canvas = Image.new("L", (320, 320), 0)
    ImageDraw.Draw(canvas).text((160, 160), str(digit), fill=255, font=font, anchor="mm")
    ink = np.asarray(canvas)
    rows, cols = np.flatnonzero(ink.max(axis=1)), np.flatnonzero(ink.max(axis=0))
    if rows.size == 0:
        raise ValueError(f"digit {digit} renders empty")
    crop = canvas.crop((cols[0], rows[0], cols[-1] + 1, rows[-1] + 1))
    width = int(np.clip(round(crop.width * GLYPH_H / crop.height), 2, CELL_W - 8))
    return np.asarray(crop.resize((width, GLYPH_H), Image.Resampling.LANCZOS), dtype=np.float32) / 255.0


@functools.lru_cache(maxsize=1)
def glyph_bank() -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """Every usable font's ten digits, rendered once.

    Returns cells (n_fonts * 10 + 1, CELL_H, CELL_W) float32 in [0, 1] (glyph ``f * 10 + d``; the
    last cell is blank, used for an absent neighbour), ink widths (same length,) float32 in cell
    pixels, ink centre columns (same length,) float32, and the font file names used.
    """
    from PIL import ImageFont

    cells, widths, centres, used = [], [], [], []
    top = (CELL_H - GLYPH_H) // 2
    for name in FONT_FILES:
        try:
            font = ImageFont.truetype(str(_font_dir() / name), 160)
            glyphs = [_render(font, d) for d in range(10)]
        except (OSError, ValueError):
            continue
        if len({(g.shape, g.tobytes()) for g in glyphs}) < 10:
            continue  # a font without digits draws the same placeholder box ten times
        for g in glyphs:
            cell = np.zeros((CELL_H, CELL_W), np.float32)
            left = (CELL_W - g.shape[1]) // 2
            cell[top : top + GLYPH_H, left : left + g.shape[1]] = g
            cells.append(cell)
            widths.append(g.shape[1])
            centres.append(left + (g.shape[1] - 1) / 2)
        used.append(name)
    if len(used) < 3:
        raise RuntimeError(f"only {len(used)} usable digit fonts in {_font_dir()} (need 3 of {len(FONT_FILES)})")
    cells.append(np.zeros((CELL_H, CELL_W), np.float32))
    widths.append(0)
    centres.append((CELL_W - 1) / 2)
    return np.stack(cells), np.asarray(widths, np.float32), np.asarray(centres, np.float32), tuple(used)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def _colours(rng: np.random.Generator, n: int, contrast: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Background and foreground colours (n, 3) float32 with |luminance difference| >= ``contrast``."""

    def draw(k):
        rgb = rng.random((k, 3), dtype=np.float32)
        lum = _luminance(rgb)[:, None]
        return lum + rng.uniform(0.1, 1.0, (k, 1)).astype(np.float32) * (rgb - lum)  # partly desaturated

    bg, fg = draw(n), draw(n)
    bad = np.abs(_luminance(fg) - _luminance(bg)) < contrast
    while bad.any():  # vectorised rejection sampling; ~40 % acceptance per round
        fg[bad] = draw(int(bad.sum()))
        bad = np.abs(_luminance(fg) - _luminance(bg)) < contrast
    return bg, fg


def _params(rng: np.random.Generator, n: int, n_fonts: int) -> dict[str, np.ndarray]:
    """Per-image random layout, geometry and appearance (arrays of length n)."""
    widths = glyph_bank()[1]
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    font = rng.integers(0, n_fonts, n)
    blank = n_fonts * 10
    left = np.where(rng.random(n) < 0.75, font * 10 + rng.integers(0, 10, n), blank)
    right = np.where(rng.random(n) < 0.75, font * 10 + rng.integers(0, 10, n), blank)
    glyphs = np.stack([left, font * 10 + labels, right], axis=1)  # (n, 3) slots: left, centre, right
    gaps = rng.uniform(2.0, 12.0, (n, 2)).astype(np.float32)  # between ink boxes, in glyph pixels
    w = widths[glyphs]
    half = w[:, 1] / 2
    offsets = np.stack([-(half + gaps[:, 0] + w[:, 0] / 2), np.zeros(n, np.float32), half + gaps[:, 1] + w[:, 2] / 2], axis=1)
    bounds = np.stack([-(half + gaps[:, 0] / 2), half + gaps[:, 1] / 2], axis=1)

    scale = rng.uniform(18.0, 30.0, n) / GLYPH_H  # digit height in image pixels / glyph pixels
    aspect = rng.uniform(0.8, 1.25, n)
    shear = rng.uniform(-0.25, 0.25, n)
    angle = np.deg2rad(rng.uniform(-15.0, 15.0, n))
    cos, sin = np.cos(angle), np.sin(angle)
    rot = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], axis=1)  # (n, 2, 2) on (x, y)
    shear_m = np.zeros((n, 2, 2))
    shear_m[:, 0, 0], shear_m[:, 0, 1], shear_m[:, 1, 1] = aspect, -shear * aspect, 1.0
    forward = scale[:, None, None] * rot @ shear_m  # glyph (x, y) -> image (x, y), about the centres

    bg, fg = _colours(rng, n)
    return dict(
        labels=labels, glyphs=glyphs, offsets=offsets, bounds=bounds,
        inverse=np.linalg.inv(forward).astype(np.float32),
        centre=(SIZE - 1) / 2 + rng.uniform(-1.5, 1.5, (n, 2)).astype(np.float32),
        blur=rng.choice(np.array([0.0, 0.4, 0.7, 1.0], np.float32), n, p=[0.25, 0.35, 0.25, 0.15]),
        bg=bg, fg=fg,
        bg_shift=rng.uniform(-0.2, 0.2, (n, 3)).astype(np.float32),
        light=rng.uniform(-0.5, 0.5, n).astype(np.float32),
        direction=rng.uniform(0, 2 * np.pi, (n, 2)).astype(np.float32),
        noise=rng.uniform(0.0, 0.05, n).astype(np.float32),
    )


def _masks(p: dict[str, np.ndarray], idx: slice) -> np.ndarray:
    """Ink masks (m, SIZE, SIZE) float32 in [0, 1] for images ``idx``: one bilinear sample per pixel."""
    cells, _, centres, _ = glyph_bank()
    flat = cells.reshape(-1)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32).reshape(2, 1, -1)
    inv, centre = p["inverse"][idx], p["centre"][idx]
    px, py = xs - centre[:, :1], ys - centre[:, 1:]
    gx = inv[:, 0, :1] * px + inv[:, 0, 1:] * py  # glyph-strip coordinates, centre digit at the origin
    gy = inv[:, 1, :1] * px + inv[:, 1, 1:] * py
    bounds = p["bounds"][idx]
    slot = (gx > bounds[:, :1]).astype(np.int8) + (gx > bounds[:, 1:])  # 0 left, 1 centre, 2 right
    glyph = np.take_along_axis(p["glyphs"][idx], slot, axis=1)
    cx = np.clip(gx - np.take_along_axis(p["offsets"][idx], slot, axis=1) + centres[glyph], 0, CELL_W - 1.001)
    cy = np.clip(gy + (CELL_H - 1) / 2, 0, CELL_H - 1.001)  # clipped points land in the zero border
    x0, y0 = np.floor(cx), np.floor(cy)
    fx, fy = cx - x0, cy - y0  # float32 weights (float32 - int32 would promote to float64)
    x0, y0 = x0.astype(np.int32), y0.astype(np.int32)
    base = glyph * (CELL_H * CELL_W) + y0 * CELL_W + x0
    top = flat[base] * (1 - fx) + flat[base + 1] * fx
    bottom = flat[base + CELL_W] * (1 - fx) + flat[base + CELL_W + 1] * fx
    masks = (top * (1 - fy) + bottom * fy).reshape(-1, SIZE, SIZE)
    blur = p["blur"][idx]
    for sigma in np.unique(blur[blur > 0]):
        sel = blur == sigma
        masks[sel] = gaussian_filter(masks[sel], sigma=(0, sigma, sigma), mode="nearest")
    return masks


def _paint(p: dict[str, np.ndarray], idx: slice, masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Colour the masks: gradient background, foreground, illumination, grey noise -> (m, 32, 32, 3) uint8."""
    m = masks.shape[0]
    coords = (np.arange(SIZE, dtype=np.float32) - (SIZE - 1) / 2) / SIZE  # [-0.5, 0.5]
    d = p["direction"][idx]
    ramp = [np.cos(d[:, k, None, None]) * coords[:, None] + np.sin(d[:, k, None, None]) * coords for k in range(2)]
    image = p["bg"][idx, None, None, :] + ramp[0][..., None] * p["bg_shift"][idx, None, None, :]
    ink = p["fg"][idx, None, None, :] - image
    ink *= masks[..., None]
    image += ink  # = background * (1 - mask) + foreground * mask
    image *= (1 + p["light"][idx, None, None] * ramp[1])[..., None]
    image += (rng.standard_normal((m, SIZE, SIZE), dtype=np.float32) * p["noise"][idx, None, None])[..., None]
    np.clip(image, 0, 1, out=image)
    image *= 255
    image += 0.5
    return image.astype(np.uint8)


def generate(n: int, *, seed: int = SEED, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``n`` stand-in images (n, 32, 32, 3) uint8 and labels (n,) uint8 in 0..9, balanced to +-1.

    Deterministic for a given (n, seed, :data:`VERSION`, font files). ``progress`` shows a tqdm bar
    (images done) on stderr.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"n: expected a positive int, got {n!r}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: expected a non-negative int, got {seed!r}")
    n_fonts = len(glyph_bank()[3])
    rng = np.random.default_rng(int(seed))
    p = _params(rng, int(n), n_fonts)
    x = np.empty((n, SIZE, SIZE, 3), np.uint8)
    with tqdm(total=int(n), desc=f"SVHN stand-in (seed {seed})", unit="img", disable=not progress) as bar:
        for start in range(0, n, CHUNK):
            idx = slice(start, min(start + CHUNK, n))
            x[idx] = _paint(p, idx, _masks(p, idx), rng)
            bar.update(idx.stop - start)
    return x, p["labels"]


def _read_cache(path: Path, sizes: tuple[int, int], seed: int):
    with np.load(path, allow_pickle=False) as f:
        meta = f["meta"].tolist()
        if meta != [VERSION, seed, *sizes]:
            raise ValueError(f"made with [version, seed, n_train, n_test] = {meta}, want {[VERSION, seed, *sizes]}")
        arrays = [f[k] for k in ("x_train", "y_train", "x_test", "y_test")]  # zip CRC checked on read
    for (x, y), n in zip((arrays[:2], arrays[2:]), sizes):
        if x.shape != (n, SIZE, SIZE, 3) or x.dtype != np.uint8 or y.shape != (n,) or y.dtype != np.uint8 or y.max() > 9:
            raise ValueError(f"bad arrays: x {x.shape} {x.dtype}, y {y.shape} {y.dtype}")
    return (arrays[0], arrays[1]), (arrays[2], arrays[3])


def cache_path() -> Path:
    """``data/svhn_stand_in-v<VERSION>.npz`` (under ``config.DATA_DIR`` at call time)."""
    return config.DATA_DIR / f"svhn_stand_in-v{VERSION}.npz"


def load_stand_in(*, cache: Path | None = None, sizes: tuple[int, int] | None = None, seed: int = SEED,
                  verbose: bool = True):
    """The stand-in as ``((x_train, y_train), (x_test, y_test))``, from the cache or generated and cached.

    sizes: (n_train, n_test), default :data:`SIZES`. Train and test use seeds ``seed`` and ``seed + 1``.
    A cache that fails to load, or was made with other settings, is regenerated (atomically).
    """
    sizes = tuple(SIZES if sizes is None else sizes)
    if len(sizes) != 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in sizes):
        raise ValueError(f"sizes: expected (n_train, n_test) positive ints, got {sizes!r}")
    cache = Path(cache or cache_path())
    for candidate in config.cached_paths(cache):
        if not candidate.exists():
            continue
        try:
            return _read_cache(candidate, sizes, seed)
        except Exception as err:  # truncated zip, bad CRC, wrong keys or settings: all mean "rebuild"
            if verbose:
                print(f"SVHN stand-in: refusing {config.shown_path(candidate)} ({type(err).__name__}: {err}); regenerating")
    cache = config.writable_path(cache)
    if verbose:
        print(f"SVHN stand-in: generating {sizes[0]} + {sizes[1]} images (seed {seed}) -> {config.shown_path(cache)}")
    progress = verbose and not config.QUICK
    x_train, y_train = generate(sizes[0], seed=seed, progress=progress)
    x_test, y_test = generate(sizes[1], seed=seed + 1, progress=progress)
    with atomic_path(cache) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                     meta=np.array([VERSION, seed, *sizes], np.int64))
    return (x_train, y_train), (x_test, y_test)
