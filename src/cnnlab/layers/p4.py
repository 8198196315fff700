"""P4 group-equivariant layers: rotations by multiples of 90 degrees (Cohen & Welling 2016).

Channel layout (every layer here): a P4 feature map is an ordinary channels-last tensor
``(n, h, w, 4 * c)`` whose channel ``4 * i + r`` holds group channel ``i`` at rotation ``r``
(r quarter turns counter-clockwise, the ``np.rot90`` convention), i.e. the rotation index is
the fastest axis and ``y.reshape(n, h, w, c, 4)`` splits it off. Plain Keras layers (ReLU,
MaxPooling2D, Dropout, GlobalMaxPooling2D) therefore apply unchanged; :class:`GroupPool`
reduces the rotation axis. :class:`P4Dense` uses the same order for its ``(n, 4 * filters)``.

Group action and equivariance: rotating the input images by a quarter turn (``np.rot90`` on
axes (1, 2)) rotates every output map the same way AND shifts the rotation index cyclically
by one: new channel ``4 i + r`` = old channel ``4 i + (r - 1) % 4``, rotated. In numpy::

    y5 = y.reshape(n, h, w, c, 4)
    layer(rot90(x)) == np.roll(np.rot90(y5, 1, axes=(1, 2)), 1, axis=-1).reshape(n, w, h, 4 * c)

This holds exactly (up to float round-off) when every spatial step is symmetric about the
image centre: stride 1 with "valid" padding (any kernel size) or "same" padding (odd kernels
only, so "same" with an even kernel is rejected); strides > 1 only when the sampled grid is
symmetric (e.g. "valid" with ``(h - k) % stride == 0``). Keep spatial sizes EVEN before each
2x2 pooling: pooling an odd size drops the last row and column, which is not symmetric.
BatchNormalization over the flat channels learns separate statistics per rotation and so is
not exactly equivariant.

All layers share one bias per group channel across the four rotations. Each call expands
the small kernel into the rotated, stacked bank with ONE gather (indices precomputed in numpy
from np.rot90 / np.roll at build time; its gradient is one scatter-add) and then runs a single
``keras.ops.conv`` (one matmul for P4Dense): the cost of one Conv2D / Dense with
``4 * filters`` outputs plus a kernel-sized copy. Feature maps are never rotated. Only
``keras.ops`` is used, so any Keras backend works.
"""

from __future__ import annotations

import math

from cnnlab import quiet_tensorflow  # noqa: F401  (before Keras: mutes TensorFlow's start-up lines)
import keras
import numpy as np
from keras import ops

ROTATIONS = 4
"""The order of the group P4 (rotations by 0, 90, 180, 270 degrees)."""


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_filters(filters) -> int:
    if not _is_int(filters) or filters <= 0:
        raise ValueError(f"filters: expected a positive int, got {filters!r}")
    return int(filters)


def _check_square(name: str, value) -> int:
    """An int or a pair of equal ints -> the int (rotations need square kernels and strides)."""
    size = value
    if isinstance(value, (tuple, list)):
        if len(value) != 2 or value[0] != value[1]:
            raise ValueError(f"{name}: expected an int or a pair of equal ints (P4 needs a square {name}), "
                             f"got {value!r}")
        size = value[0]
    if not _is_int(size) or size <= 0:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")
    return int(size)


def _check_padding(padding, kernel_size: int) -> str:
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in ("same", "valid"):
        raise ValueError(f"padding: expected 'same' or 'valid', got {padding!r}")
    if mode == "same" and kernel_size % 2 == 0:
        raise ValueError(f"padding: expected 'valid' for an even kernel_size ('same' pads one side more, which breaks "
                         f"rotation equivariance), got 'same' with kernel_size={kernel_size}")
    return mode


def _lifting_index(shape) -> np.ndarray:
    """Flat indices into a (k, k, c, f) kernel that build its (k, k, c, 4 f) lifting bank."""
    k, _, c, f = shape
    ids = np.arange(k * k * c * f, dtype=np.int32).reshape(k, k, c, f)
    return np.stack([np.rot90(ids, r, axes=(0, 1)) for r in range(ROTATIONS)], axis=-1).reshape(-1)


def _group_index(shape) -> np.ndarray:
    """Flat indices into a (k, k, 4 c, f) kernel that build its (k, k, 4 c, 4 f) group bank."""
    k, _, c4, f = shape
    ids = np.arange(k * k * c4 * f, dtype=np.int32).reshape(k, k, c4 // ROTATIONS, ROTATIONS, f)
    banks = [np.roll(np.rot90(ids, r, axes=(0, 1)), r, axis=3) for r in range(ROTATIONS)]
    return np.stack(banks, axis=-1).reshape(-1)


def _gather(kernel, index, shape):
    """One gather (and one scatter-add in the backward pass) instead of a chain of small ops."""
    return ops.reshape(ops.take(ops.reshape(kernel, (-1,)), index), shape)


def _kernel_shape(kernel, name: str, group: bool) -> tuple[int, ...]:
    shape = tuple(kernel.shape)
    if len(shape) != 4 or shape[0] != shape[1] or (group and shape[2] % ROTATIONS):
        want = "(k, k, 4 c, f)" if group else "(k, k, c, f)"
        raise ValueError(f"{name}: expected a square kernel {want}, got shape {shape}")
    return shape


def lifting_bank(kernel):
    """Lifting filter bank: (k, k, c, f) -> (k, k, c, 4 f).

    Output channel ``4 i + r`` is filter ``i`` rotated by ``r`` quarter turns (np.rot90 on the
    two spatial axes).
    """
    k, _, c, f = shape = _kernel_shape(kernel, "lifting_bank", group=False)
    return _gather(kernel, _lifting_index(shape), (k, k, c, ROTATIONS * f))


def group_bank(kernel):
    """Group-convolution filter bank: (k, k, 4 c, f) -> (k, k, 4 c, 4 f).

    Input channel ``4 j + s`` is group channel ``j`` at rotation ``s``. For output rotation
    ``r`` each filter is rotated spatially by ``r`` quarter turns and its input-rotation axis is
    shifted cyclically by ``r`` (new ``s`` = old ``s - r``), as in GrouPy.
    """
    k, _, c4, f = shape = _kernel_shape(kernel, "group_bank", group=True)
    return _gather(kernel, _group_index(shape), (k, k, c4, ROTATIONS * f))


class _P4Layer(keras.layers.Layer):
    """Shared weights handling: a kernel, one bias per group channel, an activation."""

    def __init__(self, filters, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.filters = _check_filters(filters)
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)

    def _add_weights(self, kernel_shape, index: np.ndarray, bank_shape) -> None:
        """Create the weights; ``index`` (flat, into the kernel) builds the rotated bank of ``bank_shape``."""
        self._index, self._bank_shape = index, tuple(bank_shape)
        self._bias_index = np.repeat(np.arange(self.filters, dtype=np.int32), ROTATIONS)
        self.kernel = self.add_weight(name="kernel", shape=kernel_shape, initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer)

    def _finish(self, outputs):
        """Add the bias (each repeated over the 4 rotations) and apply the activation."""
        if self.bias is not None:
            outputs = outputs + ops.take(self.bias, self._bias_index)
        return self.activation(outputs)

    def _bank(self):
        """The rotated, stacked filter bank (or P4Dense matrix), built with one gather."""
        return _gather(self.kernel, self._index, self._bank_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            activation=keras.activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=keras.regularizers.serialize(self.bias_regularizer),
        )
        return config


class _P4Conv(_P4Layer):
    """Shared convolution options and shape checks for the two P4 convolutions."""

    def __init__(self, filters, kernel_size, padding="same", strides=1, **kwargs):
        super().__init__(filters, **kwargs)
        self.kernel_size = _check_square("kernel_size", kernel_size)
        self.padding = _check_padding(padding, self.kernel_size)
        self.strides = _check_square("strides", strides)

    def _check_input(self, input_shape, group_input: bool) -> int:
        """Validate (n, h, w, c) and return c."""
        what = "(n, h, w, 4 * c) P4 feature maps" if group_input else "(n, h, w, c) images"
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(f"{self.name}: expected {what} with a known channel count, got shape {tuple(input_shape)}")
        channels = int(input_shape[-1])
        if group_input and channels % ROTATIONS:
            raise ValueError(f"{self.name}: expected a channel count divisible by 4 (group channels x 4 rotations), "
                             f"got {channels} in shape {tuple(input_shape)}")
        for side in input_shape[1:3]:
            if self.padding == "valid" and side is not None and side < self.kernel_size:
                raise ValueError(f"{self.name}: 'valid' padding needs inputs at least {self.kernel_size} pixels wide, "
                                 f"got shape {tuple(input_shape)}")
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})
        return channels

    def _out_size(self, size):
        if size is None:
            return None
        if self.padding == "same":
            return -(-size // self.strides)
        return (size - self.kernel_size) // self.strides + 1

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        return (n, self._out_size(h), self._out_size(w), ROTATIONS * self.filters)

    def call(self, inputs):
        outputs = ops.conv(inputs, self._bank(), strides=self.strides, padding=self.padding)
        return self._finish(outputs)

    def get_config(self):
        config = super().get_config()
        config.update(kernel_size=self.kernel_size, padding=self.padding, strides=self.strides)
        return config


@keras.saving.register_keras_serializable(package="cnnlab")
class P4ConvZ2(_P4Conv):
    """Lifting convolution: images (n, h, w, c) -> P4 feature maps (n, h', w', 4 * filters).

    Channel ``4 i + r`` is the input correlated with filter ``i`` rotated by ``r`` quarter turns
    counter-clockwise, plus bias ``i``. Kernel weights: (k, k, c, filters); bias: (filters,).
    """

    def build(self, input_shape):
        channels = self._check_input(input_shape, group_input=False)
        shape = (self.kernel_size, self.kernel_size, channels, self.filters)
        self._add_weights(shape, _lifting_index(shape), (*shape[:3], ROTATIONS * self.filters))


@keras.saving.register_keras_serializable(package="cnnlab")
class P4ConvP4(_P4Conv):
    """Group convolution: P4 maps (n, h, w, 4 * c) -> P4 maps (n, h', w', 4 * filters).

    Kernel weights: (k, k, 4 * c, filters), input channels in the module's layout; for output
    rotation ``r`` the bank is rotated spatially by ``r`` and rolled by ``r`` along the input
    rotation axis (see :func:`group_bank`). Bias: (filters,).
    """

    def build(self, input_shape):
        channels = self._check_input(input_shape, group_input=True)
        shape = (self.kernel_size, self.kernel_size, channels, self.filters)
        self._add_weights(shape, _group_index(shape), (*shape[:3], ROTATIONS * self.filters))


@keras.saving.register_keras_serializable(package="cnnlab")
class GroupPool(keras.layers.Layer):
    """Pool over the rotation axis: (..., 4 * c) -> (..., c), by "max" or "mean".

    Works on conv maps (n, h, w, 4 c) and on P4Dense outputs (n, 4 c); the result is invariant
    to the cyclic shift of the rotations, so maps become rotation-equivariant plain maps.
    """

    def __init__(self, mode="max", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("max", "mean"):
            raise ValueError(f"mode: expected 'max' or 'mean', got {mode!r}")
        self.mode = mode

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None or input_shape[-1] % ROTATIONS:
            raise ValueError(f"{self.name}: expected (n, ..., 4 * c) P4 features with a known channel count divisible "
                             f"by 4, got shape {tuple(input_shape)}")
        self.input_spec = keras.layers.InputSpec(ndim=len(input_shape), axes={-1: int(input_shape[-1])})

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] // ROTATIONS)

    def call(self, inputs):
        shape = ops.shape(inputs)
        split = ops.reshape(inputs, (-1, *shape[1:-1], shape[-1] // ROTATIONS, ROTATIONS))
        return ops.max(split, axis=-1) if self.mode == "max" else ops.mean(split, axis=-1)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


def _image_side(input_shape) -> int:
    """The side of the square single-channel image in (n, s*s), (n, s, s) or (n, s, s, 1)."""
    dims = tuple(input_shape[1:])
    if None not in dims:
        if len(dims) == 1 and math.isqrt(dims[0]) ** 2 == dims[0]:
            return math.isqrt(dims[0])
        if len(dims) in (2, 3) and dims[0] == dims[1] and dims[2:] in ((), (1,)):
            return dims[0]
    raise ValueError(f"P4Dense: expected square single-channel images (n, s, s), (n, s, s, 1) or flattened "
                     f"(n, s * s), got shape {tuple(input_shape)}")


@keras.saving.register_keras_serializable(package="cnnlab")
class P4Dense(_P4Layer):
    """The sheet's full-image group layer: images -> (n, 4 * filters), in the module's order.

    Input: square single-channel images (n, s, s), (n, s, s, 1) or flattened (n, s * s)
    (row-major, as ``Flatten`` does). Each filter is an s x s weight image; output ``4 i + r`` is
    the dot product of the image with filter ``i`` rotated by ``r`` quarter turns, plus bias ``i``
    (weights and bias shared by the four rotations). Kernel weights: (s * s, filters), so the
    layer has ``filters * (s * s + 1)`` parameters. Equivalent to :class:`P4ConvZ2` with an
    s x s kernel and "valid" padding, computed as one matmul with :meth:`explicit_matrix`.
    """

    def build(self, input_shape):
        self.side = _image_side(input_shape)
        pixels = self.side * self.side
        index = _lifting_index((self.side, self.side, 1, self.filters))  # kernel rows are the flat image
        self._add_weights((pixels, self.filters), index, (pixels, ROTATIONS * self.filters))
        self.input_spec = keras.layers.InputSpec(shape=(None, *input_shape[1:]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], ROTATIONS * self.filters)

    def explicit_matrix(self) -> np.ndarray:
        """The (s * s, 4 * filters) float32 matrix W with ``layer(x) == x_flat @ W + np.repeat(bias, 4)``."""
        if not self.built:
            raise ValueError(f"{self.name}: the layer has no weights yet; call it on a batch or build it first")
        return np.asarray(ops.convert_to_numpy(self._bank()))

    def call(self, inputs):
        flat = ops.reshape(inputs, (-1, self.side * self.side))
        return self._finish(ops.matmul(flat, self._bank()))
