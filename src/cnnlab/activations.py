"""Custom activations, registered with Keras so models using them save and load by name."""

from __future__ import annotations

from cnnlab import quiet_tensorflow  # noqa: F401  (before Keras: mutes TensorFlow's start-up lines)
import keras
from keras import ops

LECUN_SCALE, LECUN_SLOPE, LECUN_LEAK = 1.7159, 2.0 / 3.0, 0.01


@keras.saving.register_keras_serializable(package="cnnlab", name="lecun_tanh")
def lecun_tanh(x):
    """LeCun's scaled tanh with a small linear term: 1.7159 tanh(2x/3) + 0.01 x.

    Derivative: 1.7159 * (2/3) * (1 - tanh(2x/3)^2) + 0.01, which lies in (0.01, 1.1539]: it never
    vanishes completely, and its maximum (at x = 0) is above 1, unlike tanh's.
    """
    return LECUN_SCALE * ops.tanh(LECUN_SLOPE * x) + LECUN_LEAK * x


@keras.saving.register_keras_serializable(package="cnnlab", name="scaled_tanh")
def scaled_tanh(x):
    """LeCun's scaled tanh without the linear term: 1.7159 tanh(2x/3), to test what the 0.01 x adds."""
    return LECUN_SCALE * ops.tanh(LECUN_SLOPE * x)


def lecun_tanh_derivative(x):
    """The derivative of :func:`lecun_tanh`, elementwise (for checks and plots)."""
    t = ops.tanh(LECUN_SLOPE * x)
    return LECUN_SCALE * LECUN_SLOPE * (1.0 - t * t) + LECUN_LEAK
