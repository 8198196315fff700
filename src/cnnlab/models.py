"""Model builders: one function per architecture family used in the notebooks.

Builders return uncompiled models; :func:`compile_classifier` adds the usual optimiser, loss
and accuracy metric. Inputs are channels-last float32 images in [0, 1].
"""

from __future__ import annotations

from cnnlab import quiet_tensorflow  # noqa: F401  (before Keras: mutes TensorFlow's start-up lines)
import keras
from keras import layers


def _check_shape(input_shape) -> tuple[int, ...]:
    if not isinstance(input_shape, (tuple, list)) or not all(isinstance(d, int) and d > 0 for d in input_shape):
        raise ValueError(f"input_shape: expected a tuple of positive ints like (28, 28, 1), got {input_shape!r}")
    return tuple(input_shape)


def _check_image_shape(input_shape) -> tuple[int, ...]:
    shape = _check_shape(input_shape)
    if len(shape) != 3:
        raise ValueError(f"input_shape: expected (height, width, channels) for a convolutional model, got {input_shape!r}")
    return shape


def _check_positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")
    return value


def _check_rate(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name}: expected a rate in [0, 1), got {value!r}")
    return value


def _check_activation(activation):
    try:
        keras.activations.get(activation)
    except (ValueError, TypeError) as err:
        raise ValueError(f"activation: expected a Keras activation name or function, got {activation!r}") from err
    return activation


def compile_classifier(model: keras.Model, learning_rate: float = 1e-3, *, decay_steps: int | None = None) -> keras.Model:
    """Compile with Adam, sparse categorical cross-entropy (integer labels) and accuracy.

    With ``decay_steps`` (optimiser steps, i.e. epochs x batches per epoch) the learning rate follows
    a cosine from ``learning_rate`` down to zero instead of staying constant.
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"model: expected a keras.Model, got {type(model).__name__}")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) or not learning_rate > 0:
        raise ValueError(f"learning_rate: expected a positive number, got {learning_rate!r}")
    if decay_steps is not None and (not isinstance(decay_steps, int) or decay_steps <= 0):
        raise ValueError(f"decay_steps: expected a positive int or None, got {decay_steps!r}")
    rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps) if decay_steps else learning_rate
    model.compile(optimizer=keras.optimizers.Adam(rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def average_ensemble(members, *, name: str = "ensemble", input_name: str = "image") -> keras.Model:
    """One model whose output is the mean of the members' outputs (e.g. softmax probabilities,
    (n, classes)); every member must take the same input shape. One member: that member's output."""
    members = list(members)
    if not members or not all(isinstance(m, keras.Model) for m in members):
        raise ValueError(f"members: expected one or more keras.Model, got {[type(m).__name__ for m in members]}")
    shapes = {tuple(m.input_shape[1:]) for m in members}
    if len(shapes) != 1:
        raise ValueError(f"members: expected one input shape for all members, got {sorted(shapes)}; "
                         f"average only models trained on the same images")
    inputs = keras.Input(shapes.pop(), name=input_name)
    outputs = [member(inputs) for member in members]
    mean = outputs[0] if len(outputs) == 1 else layers.Average(name="mean_output")(outputs)
    return keras.Model(inputs, mean, name=name)


def dense_classifier(input_shape, hidden: tuple[int, ...] = (128,), n_classes: int = 10,
                     activation: str = "relu", dropout: float = 0.0) -> keras.Model:
    """Flatten -> Dense(h, activation) [-> Dropout] for each h in ``hidden`` -> Dense softmax."""
    input_shape = _check_shape(input_shape)
    _check_rate("dropout", dropout)
    _check_positive("n_classes", n_classes)
    _check_activation(activation)
    for units in hidden:
        _check_positive("hidden units", units)
    stack = [keras.Input(input_shape), layers.Flatten()]
    for units in hidden:
        stack.append(layers.Dense(units, activation=activation))
        if dropout:
            stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(n_classes, activation="softmax"))
    return keras.Sequential(stack)


def conv_classifier(input_shape, filters: tuple[int, ...] = (16, 32), kernel_size: int = 3, *,
                    first_kernel_size: int | None = None, downsample: str = "maxpool",
                    batchnorm: bool = False, dropout: float = 0.0, head: str = "flatten",
                    dense_units: int = 0, n_classes: int = 10) -> keras.Model:
    """A stack of conv blocks, then a classifier head.

    Each block: Conv2D(f, kernel, "same") [-> BatchNorm] -> ReLU, then a 2x halving of the spatial
    size (``downsample``: "maxpool" = 2x2 max pooling; "stride" = the conv itself uses stride 2,
    i.e. no pooling layer) on every block but the last. ``first_kernel_size`` overrides the
    kernel of block 1. Head: "flatten" or "global_max" (max over positions, which makes the
    features invariant to where the digit is), [Dropout], [Dense(dense_units, ReLU)], Dense softmax.
    """
    input_shape = _check_image_shape(input_shape)
    _check_positive("kernel_size", kernel_size)
    _check_positive("n_classes", n_classes)
    if first_kernel_size is not None:
        _check_positive("first_kernel_size", first_kernel_size)
    if isinstance(dense_units, bool) or not isinstance(dense_units, int) or dense_units < 0:
        raise ValueError(f"dense_units: expected an int >= 0 (0: no hidden dense layer), got {dense_units!r}")
    if downsample not in ("maxpool", "stride"):
        raise ValueError(f"downsample: expected 'maxpool' or 'stride', got {downsample!r}")
    if head not in ("flatten", "global_max"):
        raise ValueError(f"head: expected 'flatten' or 'global_max', got {head!r}")
    if not filters or not 0.0 <= dropout < 1.0:
        raise ValueError(f"filters, dropout: expected at least one block and a rate in [0, 1), got {filters!r}, {dropout!r}")
    stack = [keras.Input(input_shape)]
    for i, f in enumerate(filters):
        last = i == len(filters) - 1
        kernel = first_kernel_size if (i == 0 and first_kernel_size) else kernel_size
        stride = 2 if (downsample == "stride" and not last) else 1
        stack.append(layers.Conv2D(f, kernel, strides=stride, padding="same", use_bias=not batchnorm))
        if batchnorm:
            stack.append(layers.BatchNormalization())
        stack.append(layers.ReLU())
        if downsample == "maxpool" and not last:
            stack.append(layers.MaxPooling2D(2))
    stack.append(layers.GlobalMaxPooling2D() if head == "global_max" else layers.Flatten())
    if dropout:
        stack.append(layers.Dropout(dropout))
    if dense_units:
        stack.append(layers.Dense(dense_units, activation="relu"))
        if dropout:
            stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(n_classes, activation="softmax"))
    return keras.Sequential(stack)


def _dense_block(units: int, dropout: float) -> list:
    """Dense -> BatchNormalization -> ReLU -> Dropout, the block of the ZHAW sheet's dense network."""
    return [layers.Dense(units), layers.BatchNormalization(), layers.Activation("relu"), layers.Dropout(dropout)]


def zhaw_feature_head(n_features: int, n_classes: int = 8, units: int = 400, dropout: float = 0.5) -> keras.Model:
    """Sheet D's head on pre-trained features: two blocks Dense(400) + BatchNorm + ReLU + Dropout, softmax.

    On 4,096 VGG16 fc1 features with 8 classes: 1,805,608 parameters, 1,600 non-trainable.
    """
    if not isinstance(n_features, int) or n_features <= 0:
        raise ValueError(f"n_features: expected a positive int, got {n_features!r}")
    _check_positive("n_classes", n_classes)
    _check_positive("units", units)
    _check_rate("dropout", dropout)
    stack = [keras.Input((n_features,)), *_dense_block(units, dropout), *_dense_block(units, dropout)]
    stack.append(layers.Dense(n_classes, activation="softmax"))
    return keras.Sequential(stack, name="feature_head")


def rotation_cnn(input_shape=(28, 28, 1), channels: int = 8, head_channels: int = 32, *, p4: bool = True,
                 n_classes: int = 10) -> keras.Model:
    """A CNN for rotated digits, as a P4 group CNN (``p4=True``) or an ordinary CNN.

    Layout (28x28 input; every map is even-sized before each 2x2 pooling, as P4 equivariance needs),
    all 3x3 "same" convolutions with ReLU: conv at 28x28 -> max pool -> 3 convs at 14x14 -> max pool
    -> conv at 7x7 -> conv with ``head_channels`` at 7x7 -> [GroupPool max over rotations] -> global
    max pool -> Dense softmax. With ``p4`` the first conv lifts the image to P4 (``P4ConvZ2``) and
    the others are ``P4ConvP4`` (4 maps per group channel), which makes the network exactly
    invariant to quarter turns of the input. With both channel counts doubled, the ordinary CNN has
    about the same number of parameters (each P4 layer has 4x the input channels of its plain twin).
    """
    from cnnlab.layers import GroupPool, P4ConvP4, P4ConvZ2

    input_shape = _check_shape(input_shape)
    for name, value in (("channels", channels), ("head_channels", head_channels)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name}: expected a positive int, got {value!r}")

    def conv(width: int, first: bool = False):
        if p4:
            return (P4ConvZ2 if first else P4ConvP4)(width, 3, padding="same", activation="relu")
        return layers.Conv2D(width, 3, padding="same", activation="relu")

    stack = [keras.Input(input_shape), conv(channels, first=True), layers.MaxPooling2D(2),
             conv(channels), conv(channels), conv(channels), layers.MaxPooling2D(2), conv(channels), conv(head_channels)]
    if p4:
        stack.append(GroupPool("max"))
    stack.append(layers.GlobalMaxPooling2D())
    stack.append(layers.Dense(n_classes, activation="softmax"))
    return keras.Sequential(stack, name="p4_cnn" if p4 else "cnn")


def deep_mlp(input_shape=(28, 28, 1), depth: int = 5, activation="relu", units: int = 32,
             n_classes: int = 10) -> keras.Model:
    """Flatten -> ``depth`` hidden Dense(units, activation) layers -> Dense softmax (sheet C, exercise 1)."""
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth: expected a positive int, got {depth!r}")
    _check_positive("units", units)
    _check_positive("n_classes", n_classes)
    _check_activation(activation)
    stack = [keras.Input(_check_shape(input_shape)), layers.Flatten()]
    for _ in range(depth):
        stack.append(layers.Dense(units, activation=activation))
    stack.append(layers.Dense(n_classes, activation="softmax"))
    return keras.Sequential(stack, name=f"mlp{depth}")


def digit_cnn(input_shape=(28, 28, 1), n_classes: int = 10, dropout: float = 0.4) -> keras.Model:
    """A compact, robust MNIST classifier (sheet C, exercise 3), built from standard layers only.

    Conv(32, 3x3) -> BN -> ReLU, Conv(32, 3x3) -> BN -> ReLU, max pool 2, Conv(64, 3x3) -> BN -> ReLU,
    max pool 2, Dropout, Dense(128, ReLU), Dropout, Dense softmax. Saved as .h5 it loads with
    ``keras.models.load_model(path)`` and no custom objects.
    """
    _check_positive("n_classes", n_classes)
    _check_rate("dropout", dropout)
    stack = [keras.Input(_check_image_shape(input_shape))]
    for filters, pool in ((32, False), (32, True), (64, True)):
        stack.append(layers.Conv2D(filters, 3, padding="same", use_bias=False))
        stack.append(layers.BatchNormalization())
        stack.append(layers.ReLU())
        if pool:
            stack.append(layers.MaxPooling2D(2))
    stack.append(layers.Flatten())
    stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(128, activation="relu"))
    stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(n_classes, activation="softmax"))
    return keras.Sequential(stack, name="digit_cnn")


def svhn_cnn(input_shape=(32, 32, 3), filters: tuple[int, ...] = (9, 36, 49), n_classes: int = 10) -> keras.Model:
    """Sheet C's SVHN network: (3x3 conv, "same", ReLU -> 3x3 max pooling) per entry of ``filters``,
    flatten, softmax (multinomial logistic regression on the last maps). 19,629 parameters on 32x32x3."""
    if not filters:
        raise ValueError(f"filters: expected at least one conv layer's filter count, got {filters!r}")
    for f in filters:
        _check_positive("filters", f)
    _check_positive("n_classes", n_classes)
    stack = [keras.Input(_check_image_shape(input_shape))]
    for i, f in enumerate(filters):
        stack.append(layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv{i + 1}"))
        stack.append(layers.MaxPooling2D(3, name=f"pool{i + 1}"))
    stack.append(layers.Flatten())
    stack.append(layers.Dense(n_classes, activation="softmax"))
    return keras.Sequential(stack, name="svhn_cnn")


def _pair(value, name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v > 0 for v in pair):
        raise ValueError(f"{name}: expected a positive int or a pair of them, got {value!r}")
    return pair


def tutorial_cnn(input_shape=(28, 28, 1), filters: tuple[int, int] = (32, 64), kernel_size=5, dense: int = 1024,
                 pool=2, *, dropout: float = 0.0, block_dropout: float = 0.0, linear: bool = False,
                 n_classes: int = 10) -> keras.Model:
    """Sheet B's network (TensorFlow's "Deep MNIST" tutorial) and its shrunk or linear variants.

    Conv(filters[0], kernel_size[0], "same", ReLU) -> max pool(pool[0]) -> Conv(filters[1], kernel_size[1])
    -> max pool(pool[1]) -> Dense(dense, ReLU) -> [Dropout(dropout)] -> Dense softmax; 3,274,634
    parameters with the defaults. ``block_dropout`` adds dropout after both pooled conv blocks too.
    ``linear=True`` removes every non-linearity: no ReLU, average instead of max pooling (same
    windows and strides); only the softmax of the output remains.
    """
    filters, kernels, pools = _pair(tuple(filters), "filters"), _pair(kernel_size, "kernel_size"), _pair(pool, "pool")
    _check_rate("dropout", dropout)
    _check_rate("block_dropout", block_dropout)
    _check_positive("dense", dense)
    _check_positive("n_classes", n_classes)
    activation = None if linear else "relu"
    pooling = layers.AveragePooling2D if linear else layers.MaxPooling2D
    stack = [keras.Input(_check_shape(input_shape))]
    for i, (f, k, p) in enumerate(zip(filters, kernels, pools)):
        stack.append(layers.Conv2D(f, k, padding="same", activation=activation, name=f"conv{i + 1}"))
        stack.append(pooling(p, name=f"pool{i + 1}"))
        if block_dropout:
            stack.append(layers.Dropout(block_dropout))
    stack.append(layers.Flatten())
    stack.append(layers.Dense(dense, activation=activation, name="dense"))
    if dropout:
        stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(n_classes, activation="softmax", name="output"))
    return keras.Sequential(stack, name="tutorial_linear" if linear else "tutorial_cnn")


def shallow_cnn(input_shape=(28, 28, 1), filters: int = 4, kernel_size: int = 5, strides: int = 1, pool: int = 1,
                n_classes: int = 10) -> keras.Model:
    """One convolution then one dense (softmax) layer: Conv(filters, kernel_size, strides, "valid", ReLU)
    -> [max pool(pool)] -> Flatten -> Dense softmax (sheet B, 3.1: as few parameters as possible)."""
    for arg, value in (("filters", filters), ("kernel_size", kernel_size), ("strides", strides), ("pool", pool),
                       ("n_classes", n_classes)):
        _check_positive(arg, value)
    stack = [keras.Input(_check_shape(input_shape)),
             layers.Conv2D(filters, kernel_size, strides=strides, activation="relu", name="conv")]
    if pool > 1:
        stack.append(layers.MaxPooling2D(pool, name="pool"))
    stack.append(layers.Flatten())
    stack.append(layers.Dense(n_classes, activation="softmax", name="output"))
    return keras.Sequential(stack, name="shallow_cnn")
