"""A generated SVHN-like stand-in, used only when the real SVHN files cannot be had (offline).

Each image is a 32x32 colour crop centred on one digit of a house number, like SVHN's
cropped-digit format. The digit is rendered from a TrueType font that matplotlib ships (DejaVu,
STIX, Computer Modern; each also with thickened strokes), scaled to 17-30 px, rotated, sheared and
stretched, with its neighbours in the same font on BOTH sides (each present with probability 0.85,
spacing from touching to well apart, partly cut off by the crop edges). Appearance: random colours
with a drawn luminance contrast (often low), a background colour gradient and an illumination
gradient, blur, pixel noise and a JPEG-like degradation (8x8 DCT quantisation with 2x2 chroma
subsampling, random quality). These are NOT photographs: accuracies on them are not comparable to
real SVHN.

Class frequencies follow SVHN's: labels are drawn with the per-digit counts of the official
cropped-digit files (:data:`TRAIN_COUNTS`, :data:`TEST_COUNTS`; digit 1 is the most frequent, 18.9 %
of train, digit 9 the rarest, 6.4 %), as published in many SVHN loaders, e.g. class-count tables
for imbalanced-learning code. At the official sizes the counts are reproduced exactly; other sizes
get the same proportions (largest-remainder rounding). Neighbouring digits follow the same frequencies.

Difficulty: one knob, :data:`DIFFICULTY` (0 = clean, 1 = very hard), scales together the four
degradations that make real crops hard to read (see :func:`degradations`): the luminance contrast
(floor 0.25 - 0.22 d, skewed towards the floor), the blur (sigma up to 0.4 + 2.0 d px), the pixel
noise (sd up to 0.01 + 0.11 d) and the JPEG quality (down to 90 - 80 d). It is calibrated so the
sheet's 19,629-parameter CNN (notebook C2) scores about 89 % on the test split, within the 85-93 %
that small CNNs reach on real SVHN. Changing it changes the images: bump :data:`VERSION` with it.

Speed: each (font, stroke, digit) glyph is rendered once (:func:`glyph_bank`); all images are
then built with batched numpy (one bilinear gather per pixel, one batched DCT), ~99k images in well
under a minute.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter
from tqdm import tqdm

from cnnlab import config
from cnnlab.fileio import atomic_path

VERSION = 2
"""Bump when the generator changes (including :data:`DIFFICULTY`); it names the cache file and the
data recipe weights are keyed by, so old caches and weights are never reused."""
SEED = 2020
SIZES = (73257, 26032)
"""(train, test) image counts, as in SVHN's cropped-digit format."""
TRAIN_COUNTS = (4948, 13861, 10585, 8497, 7458, 6882, 5727, 5595, 5045, 4659)
TEST_COUNTS = (1744, 5099, 4149, 2882, 2523, 2384, 1977, 2019, 1660, 1595)
"""Images per digit 0..9 in SVHN's official train_32x32.mat / test_32x32.mat (label 10 = digit 0)."""
DIFFICULTY = 0.7
"""The difficulty knob d in [0, 1] (see the module docstring), calibrated on the sheet's CNN."""
NEIGHBOUR_P = 0.85
"""Probability of a neighbouring digit on each side (both sides: 0.72)."""
FONT_FILES = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf", "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf", "STIXGeneral.ttf",
    "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf", "cmr10.ttf", "cmss10.ttf",
    "cmb10.ttf", "cmtt10.ttf",
)
"""Font files from ``matplotlib/mpl-data/fonts/ttf``; a missing or unusable one is skipped."""
STROKES = (0, 6)
"""Extra stroke widths (pixels at the 160 px rendering size): every font also comes thickened."""

SIZE = 32
GLYPH_H, CELL_H, CELL_W = 32, 40, 48
"""Bank glyphs: digit ink exactly GLYPH_H rows tall, centred in a zero-bordered CELL_H x CELL_W cell."""
CHUNK = 4096


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _render(font, digit: int, stroke: int = 0) -> np.ndarray:
    """One digit's ink, cropped and resized to GLYPH_H rows: (GLYPH_H, w) float32 in [0, 1]."""
    from PIL import Image, ImageDraw

    canvas = Image.new("L", (320, 320), 0)
    ImageDraw.Draw(canvas).text((160, 160), str(digit), fill=255, font=font, anchor="mm", stroke_width=stroke)
    ink = np.asarray(canvas)
    rows, cols = np.flatnonzero(ink.max(axis=1)), np.flatnonzero(ink.max(axis=0))
    if rows.size == 0:
        raise ValueError(f"digit {digit} renders empty")
    crop = canvas.crop((cols[0], rows[0], cols[-1] + 1, rows[-1] + 1))
    width = int(np.clip(round(crop.width * GLYPH_H / crop.height), 2, CELL_W - 8))
    return np.asarray(crop.resize((width, GLYPH_H), Image.Resampling.LANCZOS), dtype=np.float32) / 255.0


@functools.lru_cache(maxsize=1)
def glyph_bank() -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """Every usable font's ten digits at every stroke width of :data:`STROKES`, rendered once.

    Returns cells (n_styles * 10 + 1, CELL_H, CELL_W) float32 in [0, 1] (glyph ``s * 10 + d`` for
    style s = font x stroke; the last cell is blank, used for an absent neighbour), ink widths (same
    length,) float32 in cell pixels, ink centre columns (same length,) float32, and the style names
    (``"<font file>+<stroke>"``).
    """
    from PIL import ImageFont

    cells, widths, centres, used = [], [], [], []
    top = (CELL_H - GLYPH_H) // 2
    for name in FONT_FILES:
        try:
            font = ImageFont.truetype(str(_font_dir() / name), 160)
            styles = [[_render(font, d, stroke) for d in range(10)] for stroke in STROKES]
        except (OSError, ValueError):
            continue
        if len({(g.shape, g.tobytes()) for g in styles[0]}) < 10:
            continue  # a font without digits draws the same placeholder box ten times
        for stroke, glyphs in zip(STROKES, styles):
            for g in glyphs:
                cell = np.zeros((CELL_H, CELL_W), np.float32)
                left = (CELL_W - g.shape[1]) // 2
                cell[top : top + GLYPH_H, left : left + g.shape[1]] = g
                cells.append(cell)
                widths.append(g.shape[1])
                centres.append(left + (g.shape[1] - 1) / 2)
            used.append(f"{name}+{stroke}")
    if len(used) < 3 * len(STROKES):
        raise RuntimeError(f"only {len(used) // len(STROKES)} usable digit fonts in {_font_dir()} "
                           f"(need 3 of {len(FONT_FILES)})")
    cells.append(np.zeros((CELL_H, CELL_W), np.float32))
    widths.append(0)
    centres.append((CELL_W - 1) / 2)
    return np.stack(cells), np.asarray(widths, np.float32), np.asarray(centres, np.float32), tuple(used)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def degradations(difficulty: float) -> dict[str, float]:
    """What the knob ``difficulty`` (d in [0, 1]) sets: contrast floor and skew, the largest blur
    sigma (px), noise sd and the lowest JPEG quality (1-100)."""
    if isinstance(difficulty, bool) or not isinstance(difficulty, (int, float)) or not 0 <= difficulty <= 1:
        raise ValueError(f"difficulty: expected a number in [0, 1], got {difficulty!r}")
    d = float(difficulty)
    return {"contrast_floor": 0.25 - 0.22 * d, "contrast_skew": 1.0 + 3.0 * d, "blur_max": 0.4 + 2.0 * d,
            "noise_max": 0.01 + 0.11 * d, "jpeg_min_quality": 90.0 - 80.0 * d}


def _colours(rng: np.random.Generator, contrast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Background and foreground colours (n, 3) float32 whose luminances differ by exactly ``contrast`` (n,)."""
    n = contrast.shape[0]
    dark = rng.uniform(0, 1, n).astype(np.float32) * (1 - contrast)
    lums = np.stack([dark, dark + contrast], axis=1)  # (n, 2): dark, light
    ink_is_dark = rng.random(n) < 0.5
    lum = np.where(ink_is_dark[:, None], lums[:, ::-1], lums)  # columns: background, foreground
    rgb = rng.random((n, 2, 3), dtype=np.float32)
    tint = (rgb - _luminance(rgb)[..., None]) * rng.uniform(0.1, 1.0, (n, 2, 1)).astype(np.float32)  # zero luminance
    with np.errstate(divide="ignore", invalid="ignore"):  # shrink the tint so no channel leaves [0, 1]
        room = np.where(tint > 0, (1 - lum[..., None]) / tint, np.where(tint < 0, lum[..., None] / -tint, np.inf))
    colour = lum[..., None] + np.minimum(1.0, room.min(axis=-1, keepdims=True)) * tint
    return colour[:, 0].astype(np.float32), colour[:, 1].astype(np.float32)


def _draw_counts(rng: np.random.Generator, n: int, counts) -> np.ndarray:
    """(n,) uint8 labels with class proportions ``counts`` (largest-remainder rounding), shuffled."""
    share = np.asarray(counts, np.float64) / np.sum(counts) * n
    k = np.floor(share).astype(np.int64)
    k[np.argsort(-(share - k), kind="stable")[: n - k.sum()]] += 1
    return rng.permutation(np.repeat(np.arange(10), k)).astype(np.uint8)


def _params(rng: np.random.Generator, n: int, counts=TRAIN_COUNTS, difficulty: float = DIFFICULTY) -> dict[str, np.ndarray]:
    """Per-image random layout, geometry and appearance (arrays of length n)."""
    knobs = degradations(difficulty)
    widths = glyph_bank()[1]
    n_styles = len(glyph_bank()[3])
    labels = _draw_counts(rng, n, counts)
    style = rng.integers(0, n_styles, n)
    blank = n_styles * 10
    p_digit = np.asarray(counts, np.float64) / np.sum(counts)
    left = np.where(rng.random(n) < NEIGHBOUR_P, style * 10 + rng.choice(10, n, p=p_digit), blank)
    right = np.where(rng.random(n) < NEIGHBOUR_P, style * 10 + rng.choice(10, n, p=p_digit), blank)
    glyphs = np.stack([left, style * 10 + labels, right], axis=1)  # (n, 3) slots: left, centre, right
    gaps = rng.uniform(-2.0, 10.0, (n, 2)).astype(np.float32)  # between ink boxes, in glyph pixels (< 0: touching)
    w = widths[glyphs]
    half = w[:, 1] / 2
    offsets = np.stack([-(half + gaps[:, 0] + w[:, 0] / 2), np.zeros(n, np.float32), half + gaps[:, 1] + w[:, 2] / 2], axis=1)
    bounds = np.stack([-(half + gaps[:, 0] / 2), half + gaps[:, 1] / 2], axis=1)

    scale = rng.uniform(17.0, 30.0, n) / GLYPH_H  # digit height in image pixels / glyph pixels
    aspect = rng.uniform(0.75, 1.25, n)
    shear = rng.uniform(-0.25, 0.25, n)
    angle = np.deg2rad(rng.uniform(-12.0, 12.0, n))
    cos, sin = np.cos(angle), np.sin(angle)
    rot = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], axis=1)  # (n, 2, 2) on (x, y)
    shear_m = np.zeros((n, 2, 2))
    shear_m[:, 0, 0], shear_m[:, 0, 1], shear_m[:, 1, 1] = aspect, -shear * aspect, 1.0
    forward = scale[:, None, None] * rot @ shear_m  # glyph (x, y) -> image (x, y), about the centres

    u = rng.random(n).astype(np.float32)
    contrast = knobs["contrast_floor"] + (0.75 - knobs["contrast_floor"]) * u ** knobs["contrast_skew"]
    bg, fg = _colours(rng, contrast.astype(np.float32))
    blur = np.round(rng.uniform(0, knobs["blur_max"], n) * 10) / 10  # 0.1 px steps: few gaussian_filter calls
    return dict(
        labels=labels, glyphs=glyphs, offsets=offsets, bounds=bounds, contrast=contrast.astype(np.float32),
        inverse=np.linalg.inv(forward).astype(np.float32),
        centre=(SIZE - 1) / 2 + rng.uniform(-1.5, 1.5, (n, 2)).astype(np.float32),
        blur=blur.astype(np.float32), bg=bg, fg=fg,
        bg_shift=rng.uniform(-0.2, 0.2, (n, 3)).astype(np.float32),
        light=rng.uniform(-0.7, 0.7, n).astype(np.float32),
        direction=rng.uniform(0, 2 * np.pi, (n, 2)).astype(np.float32),
        noise=rng.uniform(0.0, knobs["noise_max"], n).astype(np.float32),
        quality=rng.uniform(knobs["jpeg_min_quality"], 95.0, n).astype(np.float32),
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


def _dct_matrix() -> np.ndarray:
    k, i = np.mgrid[0:8, 0:8]
    d = np.cos((2 * i + 1) * k * np.pi / 16) * np.sqrt(2 / 8)
    d[0] /= np.sqrt(2)
    return d.astype(np.float32)


_DCT = _dct_matrix()
_LUMA_Q = np.array([
    [16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55], [14, 13, 16, 24, 40, 57, 69, 56],
    [14, 17, 22, 29, 51, 87, 80, 62], [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
    [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]], np.float32)
_CHROMA_Q = np.full((8, 8), 99, np.float32)
_CHROMA_Q[:4, :4] = [[17, 18, 24, 47], [18, 21, 26, 66], [24, 26, 56, 99], [47, 66, 99, 99]]
"""The JPEG standard's (Annex K) luminance and chrominance quantisation tables."""
_RGB_TO_YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], np.float32)


def _quantise(plane: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """8x8-block DCT of ``plane`` (m, H, W), coefficients rounded to multiples of ``tables`` (m, 8, 8), inverse DCT."""
    m, h, w = plane.shape
    blocks = plane.reshape(m, h // 8, 8, w // 8, 8).transpose(0, 1, 3, 2, 4)  # (m, bh, bw, 8, 8)
    q = tables[:, None, None]
    coef = np.round(_DCT @ blocks @ _DCT.T / q) * q
    return (_DCT.T @ coef @ _DCT).transpose(0, 1, 3, 2, 4).reshape(m, h, w)


def _jpeg_like(image: np.ndarray, quality: np.ndarray) -> np.ndarray:
    """JPEG-like degradation of (m, 32, 32, 3) float32 images in [0, 255] at per-image ``quality`` (m,) in 1..100:
    YCbCr, 2x2 chroma subsampling, IJG-scaled quantisation of 8x8 DCT blocks. Returns float32, unclipped."""
    m = image.shape[0]
    ycc = image @ _RGB_TO_YCC.T
    scale = np.where(quality < 50, 5000 / quality, 200 - 2 * quality)[:, None, None]
    tables = [np.clip(np.floor((t * scale + 50) / 100), 1, 255).astype(np.float32) for t in (_LUMA_Q, _CHROMA_Q)]
    luma = _quantise(ycc[..., 0] - 128, tables[0]) + 128
    chroma = ycc[..., 1:].reshape(m, SIZE // 2, 2, SIZE // 2, 2, 2).mean(axis=(2, 4))  # (m, 16, 16, 2)
    chroma = np.stack([_quantise(chroma[..., k], tables[1]) for k in range(2)], axis=-1)
    chroma = chroma.repeat(2, axis=1).repeat(2, axis=2)
    ycc = np.concatenate([luma[..., None], chroma], axis=-1)
    return ycc @ np.linalg.inv(_RGB_TO_YCC).T.astype(np.float32)


def _paint(p: dict[str, np.ndarray], idx: slice, masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Colour the masks: gradient background, foreground, illumination, grey noise, JPEG -> (m, 32, 32, 3) uint8."""
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
    image = _jpeg_like(image * 255, p["quality"][idx])
    np.clip(image, 0, 255, out=image)
    image += 0.5
    return image.astype(np.uint8)


def generate(n: int, *, seed: int = SEED, counts=TRAIN_COUNTS, difficulty: float = DIFFICULTY,
             progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``n`` stand-in images (n, 32, 32, 3) uint8 and labels (n,) uint8 in 0..9 in the proportions ``counts``
    (10 per-digit counts, default SVHN train's).

    Deterministic for a given (n, seed, counts, difficulty, :data:`VERSION`, font files). ``progress``
    shows a tqdm bar (images done) on stderr.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"n: expected a positive int, got {n!r}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: expected a non-negative int, got {seed!r}")
    counts_arr = np.asarray(counts)
    if counts_arr.shape != (10,) or not np.issubdtype(counts_arr.dtype, np.number) or (counts_arr < 0).any() \
            or counts_arr.sum() <= 0:
        raise ValueError(f"counts: expected 10 non-negative numbers (one per digit), got {counts!r}")
    rng = np.random.default_rng(int(seed))
    p = _params(rng, int(n), counts_arr, difficulty)
    x = np.empty((n, SIZE, SIZE, 3), np.uint8)
    with tqdm(total=int(n), desc=f"SVHN stand-in (seed {seed})", unit="img", disable=not progress) as bar:
        for start in range(0, n, CHUNK):
            idx = slice(start, min(start + CHUNK, n))
            x[idx] = _paint(p, idx, _masks(p, idx), rng)
            bar.update(idx.stop - start)
    return x, p["labels"]


def _meta(seed: int, sizes: tuple[int, int]) -> list[int]:
    return [VERSION, seed, *sizes, round(DIFFICULTY * 1000)]


def _read_cache(path: Path, sizes: tuple[int, int], seed: int):
    with np.load(path, allow_pickle=False) as f:
        meta = f["meta"].tolist()
        if meta != _meta(seed, sizes):
            raise ValueError(f"made with [version, seed, n_train, n_test, difficulty x 1000] = {meta}, "
                             f"want {_meta(seed, sizes)}")
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

    sizes: (n_train, n_test), default :data:`SIZES`. Train and test use seeds ``seed`` and ``seed + 1``
    and SVHN's train and test class proportions. A cache that fails to load, or was made with other
    settings, is regenerated (atomically).
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
    x_train, y_train = generate(sizes[0], seed=seed, counts=TRAIN_COUNTS, progress=progress)
    x_test, y_test = generate(sizes[1], seed=seed + 1, counts=TEST_COUNTS, progress=progress)
    with atomic_path(cache) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                     meta=np.array(_meta(seed, sizes), np.int64))
    return (x_train, y_train), (x_test, y_test)
