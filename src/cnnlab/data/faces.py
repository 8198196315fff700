"""Face data sets for the "8 faces" exercise, resolved offline; any resolution.

:func:`load_faces` tries, in order (the first that works wins):

1. the course's ``8_faces.hdf5`` (or ``8_faces.h5``) in ``data/`` or a ``CNNLAB_DATA_DIR``
   folder: 8 people, 48x48 RGB (only for ``n_people=8``);
2. the AT&T (ORL) Database of Faces, 40 people x 10 grey 112x92 images: the vendored
   ``data/att_faces.zip`` (committed), then an ``att_faces.zip`` or an ``att_faces/`` folder in a
   ``CNNLAB_DATA_DIR`` folder; every image is checked against the SHA-256 manifest committed
   beside the zip (:data:`ATT_MANIFEST`, ``data/att_faces.sha256``) and a changed one is refused;
3. scikit-learn's ``fetch_olivetti_faces`` (the same 400 ORL images at 64x64; its cache
   ``~/scikit_learn_data`` or the network).

The eight people are the first eight subjects, :data:`EIGHT_PEOPLE` = s1..s8 (labels 0..7); the
course file has its own eight. Labels are always ``0 .. n_people - 1``; :func:`split_per_person`
gives seeded per-person train / valid / test indices and :func:`to_rgb_batch` makes VGG16 input.
The source strings name files relative to the repository or ``$CNNLAB_DATA_DIR``, never by an
absolute path.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from pathlib import Path

import numpy as np

from cnnlab import config

H5_NAMES = ("8_faces.hdf5", "8_faces.h5")
H5_SPLITS = ("train", "valid", "test")
ATT_FOLDER = "att_faces"
ATT_ZIP = "att_faces.zip"
ATT_PEOPLE, ATT_PER_PERSON, ATT_SHAPE = 40, 10, (112, 92)
ATT_NAMES = tuple(f"s{n}/{k}.pgm" for n in range(1, ATT_PEOPLE + 1) for k in range(1, ATT_PER_PERSON + 1))
"""The 400 image names ``sN/K.pgm`` in subject, then image-number order (the order of the arrays)."""
ATT_MANIFEST = config.ROOT / "data" / "att_faces.sha256"
"""``sha256sum`` lines for the 400 images, committed with ``data/att_faces.zip``; copied from the
verified source (the course's ``shared/data/att_faces.sha256``, the original ORL images)."""
EIGHT_PEOPLE = tuple(range(1, 9))
"""AT&T subject numbers used for ``n_people=8``: s1..s8, labelled 0..7."""

FaceSplit = tuple[np.ndarray, np.ndarray]


class FacesUnavailable(RuntimeError):
    """No source could provide the faces; the message lists each source and why it failed."""


def _images_uint8(x: np.ndarray, origin: str) -> np.ndarray:
    if x.dtype == np.uint8:
        return x
    if not np.issubdtype(x.dtype, np.number) or x.size == 0:
        raise ValueError(f"{origin}: expected numeric images, got dtype {x.dtype} with {x.size} values")
    lo, hi = float(np.min(x)), float(np.max(x))
    if not (np.isfinite(lo) and np.isfinite(hi) and lo >= 0 and hi <= 255):
        raise ValueError(f"{origin}: expected pixel values in [0, 255] (or [0, 1]), got [{lo}, {hi}]")
    scale = 255.0 if hi <= 1 else 1.0
    return np.rint(x.astype(np.float64) * scale).astype(np.uint8)


def _labels_int(y: np.ndarray, n: int, origin: str) -> np.ndarray:
    if y.ndim == 2:  # one-hot
        y = np.argmax(y, axis=1)
    if y.shape != (n,) or not (np.issubdtype(y.dtype, np.integer) or np.all(y == np.round(y))) or y.min() < 0:
        raise ValueError(f"{origin}: expected {n} labels >= 0 (integers or one-hot), got shape {y.shape} {y.dtype}")
    return y.astype(np.int64)


def load_8faces_h5(path: str | os.PathLike) -> tuple[FaceSplit, FaceSplit, FaceSplit]:
    """The course's 8-faces HDF5 file as ``((x_train, y_train), (x_valid, y_valid), (x_test, y_test))``.

    Keys ``X_<split>_8_faces`` (n, h, w, 3) RGB and ``Y_<split>_8_faces`` (integer labels or
    one-hot). Returns images (n, h, w, 3) uint8 (float files in [0, 1] are scaled by 255) and
    labels (n,) int64. Raises ``FileNotFoundError`` or ``ValueError`` (missing keys, bad shapes).
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    splits = []
    try:
        with h5py.File(path, "r") as f:
            for split in H5_SPLITS:
                keys = (f"X_{split}_8_faces", f"Y_{split}_8_faces")
                missing = [k for k in keys if k not in f]
                if missing:
                    raise ValueError(f"{path}: missing keys {missing} (has {sorted(f.keys())})")
                splits.append((f[keys[0]][()], f[keys[1]][()]))
    except OSError as err:
        raise ValueError(f"{path}: unreadable HDF5 ({err})") from None
    out = []
    for split, (x, y) in zip(H5_SPLITS, splits):
        origin = f"{path}:{split}"
        if x.ndim != 4 or x.shape[-1] != 3 or len(x) == 0:
            raise ValueError(f"{origin}: expected images (n, h, w, 3), got shape {x.shape}")
        out.append((_images_uint8(x, origin), _labels_int(np.asarray(y), len(x), origin)))
    return tuple(out)


def read_pgm(path: str | os.PathLike) -> np.ndarray:
    """One 8-bit grey PGM file as (h, w) uint8; ``FileNotFoundError``, or ``ValueError`` if it is not one."""
    path = Path(path)
    return decode_pgm(path.read_bytes(), config.shown_path(path))


def read_manifest(path: str | os.PathLike = ATT_MANIFEST) -> dict[str, str]:
    """The SHA-256 manifest (``sha256sum`` format, ``<hex>  sN/K.pgm``) as ``{name: hex}``.

    ``ValueError`` if a line is malformed or the manifest does not list exactly the 400 AT&T images.
    """
    path = Path(path)
    digests = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        match = re.fullmatch(r"([0-9a-f]{64}) [ *](\S+)", line.strip())
        if not match:
            raise ValueError(f"{config.shown_path(path)} line {number}: expected '<sha256>  sN/K.pgm', got {line[:80]!r}")
        digests[match.group(2)] = match.group(1)
    if set(digests) != set(ATT_NAMES):
        missing, extra = sorted(set(ATT_NAMES) - set(digests)), sorted(set(digests) - set(ATT_NAMES))
        raise ValueError(f"{config.shown_path(path)}: expected the {len(ATT_NAMES)} names sN/K.pgm, got {len(digests)} "
                         f"(missing {missing[:3]}, unexpected {extra[:3]})")
    return digests


def decode_pgm(data: bytes, origin: str) -> np.ndarray:
    """One 8-bit grey PGM file's bytes as (h, w) uint8; ``ValueError`` naming ``origin`` if it is not one."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            if img.format != "PPM" or img.mode != "L":
                raise ValueError(f"{origin}: expected an 8-bit grey PGM, got format {img.format} mode {img.mode}")
            return np.array(img, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ValueError(f"{origin}: unreadable PGM ({type(err).__name__}: {err})") from None


def _read_members(source: Path) -> dict[str, bytes]:
    """The bytes of every AT&T image name present in the zip file or folder ``source``."""
    if source.is_dir():
        return {name: (source / name).read_bytes() for name in ATT_NAMES if (source / name).is_file()}
    if not source.is_file():
        raise FileNotFoundError(f"{config.shown_path(source)}: no such file or folder")
    try:
        with zipfile.ZipFile(source) as archive:
            present = set(archive.namelist())
            return {name: archive.read(name) for name in ATT_NAMES if name in present}  # CRC-checked
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise ValueError(f"{config.shown_path(source)}: unreadable zip ({type(err).__name__}: {err})") from None


def load_att_faces(source: str | os.PathLike, *, manifest: str | os.PathLike | None = ATT_MANIFEST) -> tuple[np.ndarray, np.ndarray]:
    """The AT&T (ORL) faces from ``source``: a zip file or a folder holding ``sN/K.pgm`` (N = 1..40, K = 1..10).

    Returns images (400, 112, 92) uint8 and labels (400,) uint8 (subject N -> label N - 1), ordered
    by subject, then image number. Every image's SHA-256 must equal the one ``manifest`` lists
    (default :data:`ATT_MANIFEST`; ``None`` skips the check). Raises ``FileNotFoundError`` listing
    missing images, ``ValueError`` naming the first image that differs from the manifest or is
    unreadable or misshapen.
    """
    source = Path(source)
    digests = read_manifest(manifest) if manifest is not None else None
    members = _read_members(source)
    missing = [name for name in ATT_NAMES if name not in members]
    if missing:
        listed = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise FileNotFoundError(f"{config.shown_path(source)}: {len(missing)} of {len(ATT_NAMES)} images missing: {listed}")
    images = []
    for name in ATT_NAMES:
        data = members[name]
        if digests is not None:
            got = hashlib.sha256(data).hexdigest()
            if got != digests[name]:
                raise ValueError(f"{config.shown_path(source)}: {name} has SHA-256 {got[:12]}..., but "
                                 f"{config.shown_path(Path(manifest))} lists {digests[name][:12]}...: the image was "
                                 "changed or replaced; refusing it")
        img = decode_pgm(data, f"{config.shown_path(source)}: {name}")
        if img.shape != ATT_SHAPE:
            raise ValueError(f"{config.shown_path(source)}: {name}: expected a {ATT_SHAPE[0]}x{ATT_SHAPE[1]} image, got {img.shape}")
        images.append(img)
    return np.stack(images), np.repeat(np.arange(ATT_PEOPLE, dtype=np.uint8), ATT_PER_PERSON)


def manifest_matches(source: str | os.PathLike = config.DATA_DIR / ATT_ZIP,
                     manifest: str | os.PathLike = ATT_MANIFEST) -> int:
    """How many of the 400 AT&T images in ``source`` (zip or folder) have the SHA-256 that ``manifest`` lists."""
    digests = read_manifest(manifest)
    members = _read_members(Path(source))
    return sum(hashlib.sha256(members[name]).hexdigest() == digests[name] for name in ATT_NAMES if name in members)


def _read_olivetti() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import fetch_olivetti_faces

    faces = fetch_olivetti_faces(shuffle=False)
    return _images_uint8(faces.images, "Olivetti faces"), faces.target.astype(np.uint8)


def _first_people(images: np.ndarray, labels: np.ndarray, n_people: int) -> tuple[np.ndarray, np.ndarray]:
    keep = labels < n_people  # subjects s1..sN are labels 0..N-1
    return images[keep], labels[keep].astype(np.int64)


def load_faces(n_people: int = 8, *, verbose: bool = True) -> tuple[np.ndarray, np.ndarray, str]:
    """Faces of ``n_people`` people as ``(images, labels, source)`` from the first source that works.

    ``n_people`` in 1..40: AT&T / Olivetti subjects s1..sN (``8`` -> :data:`EIGHT_PEOPLE`); the
    course file (all three splits concatenated in train, valid, test order) only serves
    ``n_people=8``. images: uint8, ``(n, 112, 92)`` grey (AT&T), ``(n, 64, 64)`` grey (Olivetti)
    or ``(n, 48, 48, 3)`` RGB (course file); labels (n,) int64 in 0..n_people-1; source: a string
    naming where the data came from. Raises :class:`FacesUnavailable` listing every source tried.
    """
    if not isinstance(n_people, (int, np.integer)) or isinstance(n_people, bool) or not 1 <= n_people <= ATT_PEOPLE:
        raise ValueError(f"n_people: expected an int in 1..{ATT_PEOPLE}, got {n_people!r}")
    dirs = config.data_dirs()
    sources = []
    if n_people == 8:
        for path in (d / name for d in dirs for name in H5_NAMES):
            sources.append((f"course file {config.shown_path(path)}", path, lambda p=path: _from_h5(p)))
    for path in [d / ATT_ZIP for d in dirs] + [d / ATT_FOLDER for d in dirs]:
        sources.append((f"AT&T (ORL) faces, {config.shown_path(path)}", path, lambda p=path: load_att_faces(p)))
    sources.append(("scikit-learn fetch_olivetti_faces (~/scikit_learn_data or network)", None, _read_olivetti))
    failures = []
    for label, path, read in sources:
        try:
            images, labels = read()
        except FileNotFoundError as err:
            failures.append(f"{label}: {err}" if path is not None and path.exists() else f"{label}: not found")
            continue
        except Exception as err:
            failures.append(f"{label}: {type(err).__name__}: {err}")
            if verbose and path is not None and path.exists():
                print(f"faces: refusing {config.shown_path(path)}: {err}")
            continue
        if not label.startswith("course file"):
            images, labels = _first_people(images, labels, n_people)
        if verbose:
            print(f"faces: {len(images)} images of {n_people} people from {label}")
        return images, labels, label
    raise FacesUnavailable(
        f"faces of {n_people} people could not be loaded from any source:\n  " + "\n  ".join(failures)
    )


def _from_h5(path: Path) -> tuple[np.ndarray, np.ndarray]:
    splits = load_8faces_h5(path)
    images = np.concatenate([x for x, _ in splits])
    labels = np.concatenate([y for _, y in splits])
    if set(np.unique(labels).tolist()) != set(range(8)):
        raise ValueError(f"{path}: expected labels 0..7, got {np.unique(labels).tolist()}")
    return images, labels


def _check_count(name: str, value, minimum: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value!r}")
    return int(value)


def split_per_person(labels, n_train: int, n_valid: int, n_test: int, seed: int) -> tuple[np.ndarray, ...]:
    """Seeded per-person split: ``(train_idx, valid_idx, test_idx)``, sorted int64 index arrays.

    Each person (label) contributes exactly ``n_train`` / ``n_valid`` / ``n_test`` images drawn
    without replacement from their own images (e.g. 10 per person -> 6 / 2 / 2), so the splits are
    disjoint and balanced. ``ValueError`` if a person has fewer than ``n_train + n_valid + n_test``.
    """
    y = np.asarray(labels)
    if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels: expected a non-empty 1-D integer array, got shape {y.shape} dtype {y.dtype}")
    counts = [_check_count("n_train", n_train, 1), _check_count("n_valid", n_valid, 0),
              _check_count("n_test", n_test, 0)]  # fmt: skip
    seed = _check_count("seed", seed, 0)
    need = sum(counts)
    people, have = np.unique(y, return_counts=True)
    short = [f"{p} ({c})" for p, c in zip(people.tolist(), have.tolist()) if c < need]
    if short:
        raise ValueError(f"n_train + n_valid + n_test: expected at most each person's image count, got {need} "
                         f"but these labels have fewer (count): {', '.join(short)}")  # fmt: skip
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for person in people:
        idx = rng.permutation(np.flatnonzero(y == person))
        bounds = np.cumsum([0] + counts)
        for part, lo, hi in zip(parts, bounds[:-1], bounds[1:]):
            part.append(idx[lo:hi])
    return tuple(np.sort(np.concatenate(part)).astype(np.int64) for part in parts)


def to_rgb_batch(images, size) -> np.ndarray:
    """Grey ``(n, h, w)`` / ``(n, h, w, 1)`` or RGB ``(n, h, w, 3)`` images in [0, 255] -> ``(n, s, s, 3)`` float32 in [0, 255].

    ``size``: an int ``s`` or a pair ``(height, width)``. The whole batch is resized at once
    (bilinear, antialiased; the aspect ratio is not kept, 112x92 faces get slightly wider);
    grey is repeated into the three channels.
    """
    from cnnlab import quiet_tensorflow  # noqa: F401
    import keras

    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3) or x.shape[0] < 1 or min(x.shape[1:3]) < 1:
        raise ValueError(
            f"images: expected (n, h, w), (n, h, w, 1) or (n, h, w, 3) with n >= 1, got shape {np.shape(images)}"
        )
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise ValueError(f"images: expected a real-valued array, got dtype {x.dtype}")
    lo, hi = float(np.min(x)), float(np.max(x))
    if not (np.isfinite(lo) and np.isfinite(hi) and lo >= 0 and hi <= 255):
        raise ValueError(f"images: expected values in [0, 255], got [{lo}, {hi}]")
    pair = (size, size) if isinstance(size, (int, np.integer)) and not isinstance(size, bool) else size
    if not (
        isinstance(pair, (tuple, list))
        and len(pair) == 2
        and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1 for s in pair)
    ):
        raise ValueError(f"size: expected a positive int or (height, width), got {size!r}")
    x = x.astype(np.float32)
    if x.shape[1:3] != tuple(pair):
        x = keras.ops.convert_to_numpy(
            keras.ops.image.resize(x, (int(pair[0]), int(pair[1])), interpolation="bilinear", antialias=True)
        )
    if x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    return np.clip(x, 0, 255).astype(np.float32)
