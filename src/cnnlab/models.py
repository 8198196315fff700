"""Model builders: one function per architecture family used in the notebooks.

Builders return uncompiled models; :func:`compile_classifier` adds the usual optimiser, loss
and accuracy metric. Inputs are channels-last float32 images in [0, 1].
"""

from __future__ import annotations

import keras
from keras import layers


def _check_shape(input_shape) -> tuple[int, ...]:
    if not isinstance(input_shape, (tuple, list)) or not all(isinstance(d, int) and d > 0 for d in input_shape):
        raise ValueError(f"input_shape: expected a tuple of positive ints like (28, 28, 1), got {input_shape!r}")
    return tuple(input_shape)


def compile_classifier(model: keras.Model, learning_rate: float = 1e-3) -> keras.Model:
    """Compile with Adam, sparse categorical cross-entropy (integer labels) and accuracy."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def dense_classifier(input_shape, hidden: tuple[int, ...] = (128,), n_classes: int = 10,
                     activation: str = "relu", dropout: float = 0.0) -> keras.Model:
    """Flatten -> Dense(h, activation) [-> Dropout] for each h in ``hidden`` -> Dense softmax."""
    input_shape = _check_shape(input_shape)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout: expected a rate in [0, 1), got {dropout!r}")
    model = keras.Sequential([keras.Input(input_shape), layers.Flatten()])
    for units in hidden:
        model.add(layers.Dense(units, activation=activation))
        if dropout:
            model.add(layers.Dropout(dropout))
    model.add(layers.Dense(n_classes, activation="softmax"))
    return model


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
    input_shape = _check_shape(input_shape)
    if downsample not in ("maxpool", "stride"):
        raise ValueError(f"downsample: expected 'maxpool' or 'stride', got {downsample!r}")
    if head not in ("flatten", "global_max"):
        raise ValueError(f"head: expected 'flatten' or 'global_max', got {head!r}")
    if not filters or not 0.0 <= dropout < 1.0:
        raise ValueError(f"filters, dropout: expected at least one block and a rate in [0, 1), got {filters!r}, {dropout!r}")
    model = keras.Sequential([keras.Input(input_shape)])
    for i, f in enumerate(filters):
        last = i == len(filters) - 1
        kernel = first_kernel_size if (i == 0 and first_kernel_size) else kernel_size
        stride = 2 if (downsample == "stride" and not last) else 1
        model.add(layers.Conv2D(f, kernel, strides=stride, padding="same", use_bias=not batchnorm))
        if batchnorm:
            model.add(layers.BatchNormalization())
        model.add(layers.ReLU())
        if downsample == "maxpool" and not last:
            model.add(layers.MaxPooling2D(2))
    model.add(layers.GlobalMaxPooling2D() if head == "global_max" else layers.Flatten())
    if dropout:
        model.add(layers.Dropout(dropout))
    if dense_units:
        model.add(layers.Dense(dense_units, activation="relu"))
        if dropout:
            model.add(layers.Dropout(dropout))
    model.add(layers.Dense(n_classes, activation="softmax"))
    return model
