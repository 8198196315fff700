"""One table of bad inputs for the public cnnlab functions.

Every row calls one function with one wrong argument (shape, dtype, value range, unknown option)
and expects a ValueError whose message names the argument, says what was expected and what it got
("<argument>: expected ..., got ..."). Arguments that are Keras models are built when the row
runs (``Make``), not at collection.
"""

import matplotlib

matplotlib.use("Agg")

import functools
import re

import numpy as np
import pytest

from cnnlab import analysis, config, experiment, fileio, models, plots, results
from cnnlab import cache as cache_module
from cnnlab import pretrained as pretrained_module
from cnnlab import train as train_module
from cnnlab.data import augment, faces, mnist, svhn, svhn_stand_in, transforms
from cnnlab.digits import frame_like_mnist, prepare
from cnnlab.layers.p4 import GroupPool, P4ConvP4, P4ConvZ2, P4Dense, group_bank, lifting_bank


class Make:
    """An argument built when the row runs (e.g. a Keras model)."""

    def __init__(self, factory):
        self.factory = factory


@functools.cache
def _tiny_compiled():
    return models.compile_classifier(models.dense_classifier((4, 4, 1), hidden=(4,), n_classes=2))


TINY = Make(_tiny_compiled)
UNCOMPILED = Make(lambda: models.dense_classifier((4, 4, 1), hidden=(4,), n_classes=2))
VGG_32 = Make(lambda: pretrained_module.empty_vgg16((32, 32, 3)))
RNG = np.random.default_rng(0)
IMAGES = np.zeros((2, 8, 8), np.float32)          # valid for cnnlab.data.augment
UINT8 = np.zeros((2, 8, 8), np.uint8)             # valid for cnnlab.data.transforms
LABELS = np.array([0, 1])
XY = (np.zeros((4, 4, 4, 1), np.float32), np.array([0, 1, 0, 1]))
RGB = np.full((1, 32, 32, 3), 100.0, np.float32)  # valid for VGG16


def case(id, fn, *args, match, **kwargs):
    return pytest.param(fn, args, kwargs, match, id=id)


CASES = [
    # cnnlab.config
    case("config.seed negative", config.seed, -1, match="seed: expected a non-negative int, got -1"),
    case("config.seed string", config.seed, "3", match="seed: expected a non-negative int, got '3'"),
    # cnnlab.fileio
    case("fileio.write_text_atomic bytes", fileio.write_text_atomic, "unused.txt", b"x", match="text: expected a str, got bytes"),
    case("fileio.file_digest unknown algorithm", fileio.file_digest, "unused", "sha-999",
         match="algorithm: expected a hashlib name such as 'sha256' or 'md5', got 'sha-999'"),
    # cnnlab.cache
    case("cache.cache_path slash in name", cache_module.cache_path, "a/b", "k1", match="name: expected letters, digits"),
    case("cache.cache_path int key", cache_module.cache_path, "vgg", 3, match="key: expected letters, digits"),
    case("cache.cached_arrays wrong suffix", cache_module.cached_arrays, "f.npy", dict, match="path: expected a .npz file, got 'f.npy'"),
    case("cache.cached_arrays no function", cache_module.cached_arrays, "f.npz", None,
         match="compute: expected a function returning {name: array}, got NoneType"),
    # cnnlab.data.mnist
    case("mnist.load_mnist wrong cache suffix", mnist.load_mnist, "mnist.zip", match="cache: expected a .npz file, got 'mnist.zip'"),
    case("mnist.write_npz missing keys", mnist.write_npz, "unused.npz", {"x_train": UINT8},
         match="arrays: expected a dict with the keys ('x_train', 'y_train', 'x_test', 'y_test'), got ['x_train']"),
    case("mnist.content_sha256 not a dict", mnist.content_sha256, [UINT8], match="arrays: expected a dict with the keys"),
    # cnnlab.data.faces
    case("faces.load_faces zero people", faces.load_faces, 0, match="n_people: expected an int in 1..40, got 0"),
    case("faces.load_faces 41 people", faces.load_faces, 41, match="n_people: expected an int in 1..40, got 41"),
    case("faces.split_per_person float labels", faces.split_per_person, [0.5, 1.5], 1, 0, 0, 0,
         match="labels: expected a non-empty 1-D integer array, got shape (2,) dtype float64"),
    case("faces.split_per_person no training image", faces.split_per_person, LABELS, 0, 0, 0, 0,
         match="n_train: expected an int >= 1, got 0"),
    case("faces.split_per_person negative seed", faces.split_per_person, LABELS, 1, 0, 0, -1, match="seed: expected an int >= 0, got -1"),
    case("faces.split_per_person too many", faces.split_per_person, LABELS, 1, 1, 0, 0,
         match="n_train + n_valid + n_test: expected at most each person's image count, got 2"),
    case("faces.to_rgb_batch two channels", faces.to_rgb_batch, np.zeros((2, 8, 8, 2)), 8,
         match="images: expected (n, h, w), (n, h, w, 1) or (n, h, w, 3) with n >= 1, got shape (2, 8, 8, 2)"),
    case("faces.to_rgb_batch above 255", faces.to_rgb_batch, np.full((1, 8, 8), 300.0), 8,
         match="images: expected values in [0, 255], got [300.0, 300.0]"),
    case("faces.to_rgb_batch zero size", faces.to_rgb_batch, UINT8, 0, match="size: expected a positive int or (height, width), got 0"),
    # cnnlab.data.svhn and svhn_stand_in
    case("svhn.find_local unknown file", svhn.find_local, "extra_32x32.mat",
         match="name: expected one of ['test_32x32.mat', 'train_32x32.mat'], got 'extra_32x32.mat'"),
    case("svhn_stand_in.generate zero", svhn_stand_in.generate, 0, match="n: expected a positive int, got 0"),
    case("svhn_stand_in.generate negative seed", svhn_stand_in.generate, 10, seed=-1, match="seed: expected a non-negative int, got -1"),
    case("svhn_stand_in.load_stand_in one size", svhn_stand_in.load_stand_in, sizes=(10,),
         match="sizes: expected (n_train, n_test) positive ints, got (10,)"),
    case("svhn_stand_in.load_stand_in zero test", svhn_stand_in.load_stand_in, sizes=(10, 0),
         match="sizes: expected (n_train, n_test) positive ints, got (10, 0)"),
    # cnnlab.data.augment
    case("augment.affine uint8", augment.affine, UINT8, match="images: expected float pixels in [0, 1], got uint8"),
    case("augment.affine above 1", augment.affine, IMAGES + 2, match="images: expected values in [0, 1], got range [2.0, 2.0]"),
    case("augment.affine one image", augment.affine, IMAGES[0],
         match="images: expected a non-empty (n, h, w) or (n, h, w, 1) batch, got shape (8, 8)"),
    case("augment.affine zero scale", augment.affine, IMAGES, scale=0, match="scale: expected positive factors, got minimum 0.0"),
    case("augment.affine 3-d shift", augment.affine, IMAGES, shift=(1, 2, 3), match="shift: expected finite numbers"),
    case("augment.random_affine int rng", augment.random_affine, IMAGES, 42,
         match="rng: expected a numpy Generator (np.random.default_rng(seed)), got int"),
    case("augment.random_affine max_scale 1", augment.random_affine, IMAGES, RNG, max_scale=1.0,
         match="max_scale: expected a fraction in [0, 1), got 1.0"),
    case("augment.random_affine negative rotation", augment.random_affine, IMAGES, RNG, max_rotation=-1,
         match="max_rotation: expected a finite number >= 0, got -1"),
    case("augment.elastic zero sigma", augment.elastic, IMAGES, RNG, sigma=0, match="sigma: expected a positive smoothing width"),
    case("augment.change_thickness step 3", augment.change_thickness, IMAGES, 3,
         match="steps: expected one value or (2,) values in {-1, 0, 1, 2}"),
    case("augment.random_thickness p 1.5", augment.random_thickness, IMAGES, RNG, p=1.5,
         match="p: expected a probability in [0, 1], got 1.5"),
    case("augment.blur amount 2", augment.blur, IMAGES, 2.0, match="amount: expected values in [0, 1], got range [2.0, 2.0]"),
    case("augment.noise negative std", augment.noise, IMAGES, RNG, std=-0.1, match="std: expected a finite number >= 0, got -0.1"),
    case("augment.augment strength 7", augment.augment, IMAGES, RNG, 7, match="strength: expected a value < 6.67"),
    # cnnlab.data.transforms (tested read-only: the module is edited elsewhere)
    case("transforms.place_on_canvas small canvas", transforms.place_on_canvas, np.zeros((2, 28, 28)), 20, rng=RNG,
         match="size: expected an int >= the image size 28, got 20"),
    case("transforms.place_on_canvas one image", transforms.place_on_canvas, np.zeros((28, 28)), rng=RNG,
         match="images: expected a non-empty 3-D batch (n, h, w[, c]), got shape (28, 28)"),
    case("transforms.place_on_canvas strings", transforms.place_on_canvas, np.full((1, 2, 2), "a"), rng=RNG,
         match="images: expected a numeric dtype, got <U1"),
    case("transforms.rot90 float k", transforms.rot90, UINT8, 1.5, match="k: expected an int or (2,) ints"),
    case("transforms.rotated_dataset float labels", transforms.rotated_dataset, UINT8, np.array([0.0, 1.0]), rng=RNG,
         match="y: expected (2,) integer labels matching the images"),
    case("transforms.rotated_dataset per_class 3", transforms.rotated_dataset, np.zeros((8, 4, 4)), np.array([0] * 4 + [1] * 4),
         rng=RNG, per_class=3, match="per_class: expected a positive multiple of 4 <= 4 (rarest class), got 3"),
    case("transforms.digit_pairs zero pairs", transforms.digit_pairs, UINT8, LABELS, 0, rng=RNG, match="n: expected a positive int, got 0"),
    case("transforms.digit_pairs axis 2", transforms.digit_pairs, UINT8, LABELS, 2, axis=2, rng=RNG,
         match="axis: expected 0 (stacked) or 1 (side by side), got 2"),
    case("transforms.to_float float input", transforms.to_float, IMAGES, match="images: expected uint8 pixels 0..255, got float32"),
    # cnnlab.digits
    case("digits.prepare tiny", prepare, np.zeros((4, 4)), match="image: expected at least 8x8 pixels, got 4x4"),
    case("digits.prepare five channels", prepare, np.zeros((10, 10, 5)),
         match="image: expected a 2-D (h, w) grey or 3-D (h, w, c) array with c in 1-4, got shape (10, 10, 5)"),
    case("digits.prepare strings", prepare, np.full((10, 10), "a"), match="image: expected a numeric array, got dtype <U1"),
    case("digits.prepare NaN", prepare, np.full((10, 10), np.nan), match="image: expected finite values, got NaN"),
    case("digits.frame_like_mnist empty", frame_like_mnist, np.zeros((2, 0, 3)),
         match="images: expected a non-empty 3-D batch (n, h, w), got shape (2, 0, 3)"),
    case("digits.frame_like_mnist floor 1", frame_like_mnist, IMAGES, floor=1.0, match="floor: expected a fraction in [0, 1), got 1.0"),
    case("digits.frame_like_mnist infinite", frame_like_mnist, np.full((1, 8, 8), np.inf), match="images: expected finite values"),
    # cnnlab.layers.p4
    case("p4.P4ConvZ2 zero filters", P4ConvZ2, 0, 3, match="filters: expected a positive int, got 0"),
    case("p4.P4ConvZ2 rectangular kernel", P4ConvZ2, 4, (3, 5),
         match="kernel_size: expected an int or a pair of equal ints (P4 needs a square kernel_size), got (3, 5)"),
    case("p4.P4ConvZ2 unknown padding", P4ConvZ2, 4, 3, padding="full", match="padding: expected 'same' or 'valid', got 'full'"),
    case("p4.P4ConvP4 same padding even kernel", P4ConvP4, 4, 2, padding="same",
         match="padding: expected 'valid' for an even kernel_size"),
    case("p4.P4ConvZ2 zero stride", P4ConvZ2, 4, 3, strides=0, match="strides: expected a positive int, got 0"),
    case("p4.P4ConvP4 channels not divisible by 4", lambda x: P4ConvP4(2, 3)(x), np.zeros((1, 8, 8, 3), np.float32),
         match="expected a channel count divisible by 4 (group channels x 4 rotations), got 3"),
    case("p4.GroupPool unknown mode", GroupPool, "min", match="mode: expected 'max' or 'mean', got 'min'"),
    case("p4.P4Dense rectangular images", lambda x: P4Dense(2)(x), np.zeros((1, 8, 6), np.float32),
         match="P4Dense: expected square single-channel images"),
    case("p4.lifting_bank rectangular kernel", lifting_bank, np.zeros((3, 2, 1, 4)),
         match="lifting_bank: expected a square kernel (k, k, c, f), got shape (3, 2, 1, 4)"),
    case("p4.group_bank channels not divisible by 4", group_bank, np.zeros((3, 3, 6, 4)),
         match="group_bank: expected a square kernel (k, k, 4 c, f), got shape (3, 3, 6, 4)"),
    # cnnlab.models
    case("models.compile_classifier not a model", models.compile_classifier, "cnn", match="model: expected a keras.Model, got str"),
    case("models.compile_classifier zero learning rate", models.compile_classifier, UNCOMPILED, 0.0,
         match="learning_rate: expected a positive number, got 0.0"),
    case("models.dense_classifier zero units", models.dense_classifier, (4, 4, 1), hidden=(0,),
         match="hidden units: expected a positive int, got 0"),
    case("models.dense_classifier unknown activation", models.dense_classifier, (4, 4, 1), activation="relux",
         match="activation: expected a Keras activation name or function, got 'relux'"),
    case("models.dense_classifier zero classes", models.dense_classifier, (4, 4, 1), n_classes=0,
         match="n_classes: expected a positive int, got 0"),
    case("models.conv_classifier zero kernel", models.conv_classifier, (8, 8, 1), kernel_size=0,
         match="kernel_size: expected a positive int, got 0"),
    case("models.digit_cnn dropout 1", models.digit_cnn, dropout=1.0, match="dropout: expected a rate in [0, 1), got 1.0"),
    case("models.deep_mlp zero units", models.deep_mlp, units=0, match="units: expected a positive int, got 0"),
    case("models.svhn_cnn no filters", models.svhn_cnn, filters=(), match="filters: expected at least one conv layer"),
    case("models.tutorial_cnn zero dense", models.tutorial_cnn, dense=0, match="dense: expected a positive int, got 0"),
    case("models.tutorial_cnn three filters", models.tutorial_cnn, filters=(1, 2, 3),
         match="filters: expected a positive int or a pair of them, got (1, 2, 3)"),
    case("models.shallow_cnn zero stride", models.shallow_cnn, strides=0, match="strides: expected a positive int, got 0"),
    case("models.compile_classifier zero decay", models.compile_classifier, UNCOMPILED, decay_steps=0,
         match="decay_steps: expected a positive int or None, got 0"),
    case("models.dense_classifier zero channels", models.dense_classifier, (28, 28, 0),
         match="input_shape: expected a tuple of positive ints like (28, 28, 1), got (28, 28, 0)"),
    case("models.dense_classifier dropout 1", models.dense_classifier, (4, 4, 1), dropout=1.0,
         match="dropout: expected a rate in [0, 1), got 1.0"),
    case("models.conv_classifier unknown downsample", models.conv_classifier, (8, 8, 1), downsample="avg",
         match="downsample: expected 'maxpool' or 'stride', got 'avg'"),
    case("models.conv_classifier unknown head", models.conv_classifier, (8, 8, 1), head="avg",
         match="head: expected 'flatten' or 'global_max', got 'avg'"),
    case("models.zhaw_feature_head zero features", models.zhaw_feature_head, 0, match="n_features: expected a positive int, got 0"),
    case("models.rotation_cnn zero channels", models.rotation_cnn, channels=0, match="channels: expected a positive int, got 0"),
    case("models.deep_mlp zero depth", models.deep_mlp, depth=0, match="depth: expected a positive int, got 0"),
    # cnnlab.experiment and cnnlab.train
    case("experiment.fit_or_load name with space", experiment.fit_or_load, _tiny_compiled, XY, name="a b", epochs=1, batch_size=2,
         match="name: expected letters, digits, '_', '.', '-' (used in file names), got 'a b'"),
    case("experiment.fit_or_load zero epochs", experiment.fit_or_load, _tiny_compiled, XY, name="a", epochs=0, batch_size=2,
         match="epochs: expected a positive int, got 0"),
    case("experiment.fit_or_load float batch", experiment.fit_or_load, _tiny_compiled, XY, name="a", epochs=1, batch_size=2.5,
         match="batch_size: expected a positive int, got 2.5"),
    case("experiment.fit_or_load data not a pair", experiment.fit_or_load, _tiny_compiled, XY[0], name="a", epochs=1, batch_size=2,
         match="data: expected a pair (x, y) of arrays, got ndarray"),
    case("experiment.fit_or_load validation lengths", experiment.fit_or_load, _tiny_compiled, XY, name="a", epochs=1, batch_size=2,
         validation_data=(XY[0], LABELS),
         match="validation_data: x and y need the same non-zero length: expected equal lengths, got 4 and 2"),
    case("train.train uncompiled", train_module.train, UNCOMPILED, XY, epochs=1, batch_size=2,
         match="model: expected a compiled keras.Model, got Sequential (not compiled)"),
    case("train.train data not a pair", train_module.train, TINY, (XY[0],), epochs=1, batch_size=2,
         match="data: expected a pair (x, y) of arrays, got tuple"),
    case("train.train zero batch", train_module.train, TINY, XY, epochs=1, batch_size=0,
         match="batch_size: expected a positive int, got 0"),
    case("experiment.fit_or_load NaN inputs", experiment.fit_or_load, _tiny_compiled, (np.full_like(XY[0], np.nan), XY[1]),
         name="a", epochs=1, batch_size=2, match="data x: expected finite values, got"),
    case("experiment.Experiment prefix with underscore", experiment.Experiment, "A_1",
         match="prefix: expected letters and digits like 'A3', got 'A_1'"),
    # cnnlab.analysis
    case("analysis.param_counts not a model", analysis.param_counts, "cnn", match="model: expected a keras.Model, got str"),
    case("analysis.predict_classes zero batch", analysis.predict_classes, TINY, XY[0], 0,
         match="batch_size: expected a positive int, got 0"),
    case("analysis.model_metrics plain history", analysis.model_metrics, TINY, {"loss": [1.0]}, *XY,
         match="history: expected a history from cnnlab.train (with 'epoch_seconds'), got ['loss']"),
    case("analysis.accuracy lengths", analysis.accuracy, [1, 2], [1],
         match="y_true, y_pred: expected equal non-empty (n,) shapes, got (2,) and (1,)"),
    case("analysis.misclassified 1-d probs", analysis.misclassified, [0, 1], np.zeros(2),
         match="y_true, probs: expected (n,) and (n, classes), got (2,) and (2,)"),
    case("analysis.activation_model unknown layer", analysis.activation_model, TINY, ["nope"],
         match="layer_names: expected names among"),
    case("analysis.mean_activations negative label", analysis.mean_activations, TINY, XY[0], [-1, 0, 0, 0],
         match="y: expected (4,) non-negative integer labels, got shape (4,) dtype int64"),
    case("analysis.mean_activations zero batch", analysis.mean_activations, TINY, XY[0], batch_size=0,
         match="batch_size: expected a positive int, got 0"),
    case("analysis.edge_images zero softness", analysis.edge_images, 0, softness=0,
         match="size, softness: expected size >= 3 and softness > 0, got 28, 0"),
    case("analysis.grating_images period 1", analysis.grating_images, [0], [1],
         match="periods: expected periods of at least 2 pixels"),
    case("analysis.receptive_field unknown layer", analysis.receptive_field, TINY, "nope",
         match="layer_name: expected one of"),
    case("analysis.mean_sd empty", analysis.mean_sd, [], match="values: expected one or more finite numbers, got []"),
    case("analysis.max_abs_gradients uncompiled", analysis.max_abs_gradients, UNCOMPILED, *XY,
         match="model: expected a compiled model (its loss defines the gradients), got an uncompiled Sequential"),
    # cnnlab.plots
    case("plots.training_curves empty", plots.training_curves, {}, match="histories: expected at least one {label: history}, got {}"),
    case("plots.training_curves missing metric", plots.training_curves, {"a": {"loss": [1.0]}},
         match="histories['a']: expected the metric 'accuracy', got no 'accuracy' among ['loss']"),
    case("plots.image_grid empty", plots.image_grid, [], match="images: expected a non-empty (n, h, w[, c]) batch, got shapes []"),
    case("plots.image_grid titles", plots.image_grid, IMAGES, ["a"], match="titles: expected 2 titles, got 1"),
    case("plots.image_grid zero columns", plots.image_grid, IMAGES, ncols=0, match="ncols: expected a positive int, got 0"),
    case("plots.confusion_matrix lengths", plots.confusion_matrix, [0, 1], [0],
         match="y_true, y_pred: expected equal non-empty (n,) shapes, got (2,) and (1,)"),
    case("plots.activation_grid 3-d maps", plots.activation_grid, IMAGES, ["a", "b"], title="t",
         match="maps, row_labels: expected (rows, h, w, filters) and one label per row, got shape (2, 8, 8) and 2 labels"),
    # cnnlab.results
    case("results.save path as name", results.save, "../evil", {}, {}, "MNIST", match="notebook: expected the notebook's file stem"),
    case("results.save flat metrics", results.save, "A1", {"cnn": 0.9}, {}, "MNIST",
         match="metrics: expected a dict of dicts {model: {metric: value}}, got {'cnn': 'float'}"),
    case("results.save list answers", results.save, "A1", {}, ["x"], "MNIST", match="answers: expected a dict, got list"),
    case("results.save empty source", results.save, "A1", {}, {}, " ",
         match="data_source: expected a non-empty description of the data, got ' '"),
    case("results.save NaN metric", results.save, "A1", {"cnn": {"test_accuracy": float("nan")}}, {}, "MNIST",
         match="record.metrics.cnn.test_accuracy: expected a finite number, got nan"),
    case("results.save infinite answer", results.save, "A1", {}, {"ratio": [1.0, float("inf")]}, "MNIST",
         match="record.answers.ratio[1]: expected a finite number, got inf"),
    case("results.save object answer", results.save, "A1", {}, {"model": object()}, "MNIST",
         match="record.answers.model: expected a number, string, list or dict, got object"),
    case("results.save int key", results.save, "A1", {}, {"per_angle": {90: 0.5}}, "MNIST",
         match="record.answers.per_angle: expected string keys, got 90 (int)"),
    case("results.table list", results.table, [1], match="metrics: expected a dict of dicts {model: {column: value}}, got list"),
    # cnnlab.pretrained
    case("pretrained.empty_vgg16 small", pretrained_module.empty_vgg16, (16, 16, 3),
         match="input_shape: expected (h, w, 3) with h, w >= 32 (or None), got (16, 16, 3)"),
    case("pretrained.vgg16_base grey", pretrained_module.vgg16_base, (32, 32, 1),
         match="input_shape: expected (h, w, 3) with h, w >= 32 (or None), got (32, 32, 1)"),
    case("pretrained.vgg16_features small images", pretrained_module.vgg16_features, np.zeros((1, 16, 16, 3)),
         match="images: expected (n, h, w, 3) RGB with n >= 1 and h, w >= 32, got shape (1, 16, 16, 3)"),
    case("pretrained.vgg16_features unit range", pretrained_module.vgg16_features, RGB / 255,
         match="images: expected values in [0, 255], got"),
    case("pretrained.vgg16_features above 255", pretrained_module.vgg16_features, RGB * 3,
         match="images: expected values in [0, 255], got [300.0, 300.0]"),
    case("pretrained.vgg16_features unknown pooling", pretrained_module.vgg16_features, RGB, pooling="median",
         match="pooling: expected one of ('flatten', 'avg', 'max', None), got 'median'"),
    case("pretrained.vgg16_features zero batch", pretrained_module.vgg16_features, RGB, batch_size=0,
         match="batch_size: expected a positive int, got 0"),
    case("pretrained.vgg16_features unknown layer", pretrained_module.vgg16_features, RGB, layer="fc9", base=VGG_32,
         match="layer: expected one of ['block1_conv1'"),
]


def _resolve(value):
    return value.factory() if isinstance(value, Make) else value


@pytest.mark.parametrize("fn, args, kwargs, match", CASES)
def test_bad_input_raises_a_value_error_naming_it(fn, args, kwargs, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # rows name relative files: nothing may be written outside tmp_path
    monkeypatch.setenv("CNNLAB_CACHE_DIR", str(tmp_path / "user-cache"))
    args = [_resolve(a) for a in args]
    kwargs = {k: _resolve(v) for k, v in kwargs.items()}
    with pytest.raises(ValueError, match=re.escape(match)) as raised:
        fn(*args, **kwargs)
    message = str(raised.value)
    assert "expected" in message and "got" in message, f"message should say what was expected and what it got: {message}"
    assert list(tmp_path.iterdir()) == [], "a rejected call must not write anything"
