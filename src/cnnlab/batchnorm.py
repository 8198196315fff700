"""BatchNormalization at inference: its moving statistics against the statistics they estimate.

At inference a BatchNormalization layer normalises with moving averages of the batch means and
variances seen in training (``new = momentum * old + (1 - momentum) * batch``, Keras' momentum
0.99). After ``t`` steps the initial values (mean 0, variance 1) still weigh ``momentum ** t``.
:func:`with_recomputed_batchnorm` replaces those averages by the exact statistics of the current
network on some inputs; :class:`BatchNormProbe` compares both after every epoch.
"""

from __future__ import annotations

from cnnlab import quiet_tensorflow  # noqa: F401  (before Keras: mutes TensorFlow's start-up lines)
import keras
import numpy as np

from cnnlab.train import argmax_accuracy, check_xy, fingerprint


def _batchnorm_layers(model: keras.Model) -> list:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


def with_recomputed_batchnorm(model: keras.Model, x: np.ndarray, *, batch_size: int = 500) -> keras.Model:
    """A copy of ``model`` whose BatchNormalization layers hold the exact mean and variance of their inputs
    on ``x`` (a batch of model inputs), computed layer by layer in order, instead of their moving averages.

    ``model`` is left unchanged. Raises ``ValueError`` if it has no BatchNormalization layer.
    """
    if not isinstance(model, keras.Model) or not _batchnorm_layers(model):
        raise ValueError(f"model: expected a keras.Model with BatchNormalization layers, got {type(model).__name__}"
                         + (" without any" if isinstance(model, keras.Model) else ""))
    x = np.asarray(x)
    if x.ndim < 2 or len(x) == 0 or not np.isfinite(x).all():
        raise ValueError(f"x: expected a non-empty finite batch of model inputs, got shape {x.shape}")
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    for layer in _batchnorm_layers(copy):
        mean, variance = _channel_statistics(copy, layer, x, batch_size)
        layer.moving_mean.assign(mean)
        layer.moving_variance.assign(variance)
    return copy


def _channel_statistics(model: keras.Model, layer, x: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance per channel (float64) of ``layer``'s input over all samples and positions of ``x``.

    Each sample is reduced to its own mean and variance inside the network, so only (n, channels) leaves
    it (an early layer's n x H x W x C activations need not fit in memory); with the same number of
    positions per sample, the total variance is the mean within-sample variance plus the variance of
    the sample means."""
    h = layer.input
    channel = (layer.axis if isinstance(layer.axis, int) else layer.axis[0]) % len(h.shape)
    positions = tuple(i for i in range(1, len(h.shape)) if i != channel)
    outputs = [keras.ops.mean(h, axis=positions), keras.ops.var(h, axis=positions)] if positions else [h, keras.ops.zeros_like(h)]
    means, variances = (v.astype(np.float64) for v in
                        keras.Model(model.inputs, outputs).predict(x, batch_size=batch_size, verbose=0))
    return means.mean(axis=0), variances.mean(axis=0) + means.var(axis=0)


def moving_mean_error(model: keras.Model, recomputed: keras.Model) -> float:
    """The largest ``|moving mean - exact mean| / exact sd`` over all BatchNormalization channels of ``model``,
    with the exact statistics taken from ``recomputed`` (see :func:`with_recomputed_batchnorm`)."""
    worst = 0.0
    for old, new in zip(_batchnorm_layers(model), _batchnorm_layers(recomputed)):
        gap = np.abs(np.asarray(old.moving_mean) - np.asarray(new.moving_mean)) / np.sqrt(np.asarray(new.moving_variance) + 1e-6)
        worst = max(worst, float(gap.max()))
    return worst


class BatchNormProbe(keras.callbacks.Callback):
    """After every epoch: validation accuracy with the moving statistics (what inference uses) and with
    statistics recomputed on ``stats_x`` (the training images), and the moving means' largest error.

    ``record`` (merged into the training history): lists ``val_accuracy_moving_bn``,
    ``val_accuracy_recomputed_bn`` and ``bn_moving_mean_error`` (in units of the exact sd), one per epoch.
    """

    def __init__(self, stats_x: np.ndarray, validation):
        super().__init__()
        self.stats_x = np.asarray(stats_x)
        self.validation = check_xy(validation, "validation")
        self.record = {}

    def cache_config(self) -> dict:
        """What changes the record: enters ``fit_or_load``'s cache key."""
        return {"class": type(self).__name__, "stats": fingerprint(self.stats_x), "validation": fingerprint(*self.validation)}

    def on_train_begin(self, logs=None):
        self.record = {"val_accuracy_moving_bn": [], "val_accuracy_recomputed_bn": [], "bn_moving_mean_error": []}

    def on_epoch_end(self, epoch, logs=None):
        x, y = self.validation
        recomputed = with_recomputed_batchnorm(self.model, self.stats_x)
        self.record["val_accuracy_moving_bn"].append(argmax_accuracy(self.model.predict(x, batch_size=1000, verbose=0), y))
        self.record["val_accuracy_recomputed_bn"].append(argmax_accuracy(recomputed.predict(x, batch_size=1000, verbose=0), y))
        self.record["bn_moving_mean_error"].append(moving_mean_error(self.model, recomputed))
