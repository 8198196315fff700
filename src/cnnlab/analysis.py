"""Measuring trained models: parameter counts and predictions."""

from __future__ import annotations

from cnnlab import quiet_tensorflow  # noqa: F401  (before Keras: mutes TensorFlow's start-up lines)
import keras
import numpy as np


def _check_model(model) -> keras.Model:
    if not isinstance(model, keras.Model):
        raise ValueError(f"model: expected a keras.Model, got {type(model).__name__}")
    return model


def _check_batch_size(batch_size) -> int:
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive int, got {batch_size!r}")
    return int(batch_size)


def param_counts(model: keras.Model) -> dict[str, int]:
    """``{"total", "trainable", "non_trainable"}`` parameter counts of a built model."""
    _check_model(model)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return {"total": trainable + non_trainable, "trainable": trainable, "non_trainable": non_trainable}


def predict_classes(model: keras.Model, x: np.ndarray, batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Predicted labels (n,) int and probabilities (n, classes) float32 for inputs ``x``."""
    probs = _check_model(model).predict(x, batch_size=_check_batch_size(batch_size), verbose=0)
    return probs.argmax(axis=1), probs


def accuracy(y_true, y_pred) -> float:
    """Fraction of equal labels; both (n,) ints of the same length."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or len(y_true) == 0:
        raise ValueError(f"y_true, y_pred: expected equal non-empty (n,) shapes, got {y_true.shape} and {y_pred.shape}")
    return float(np.mean(y_true == y_pred))


def model_metrics(model: keras.Model, history: dict, x_test: np.ndarray, y_test: np.ndarray) -> dict:
    """Headline numbers of a trained classifier for ``results/<notebook>.json``.

    Returns test_accuracy, params (total), epochs and, when the history has it, the final
    val_accuracy (no timings: results hold what a re-execution reproduces).
    """
    if not isinstance(history, dict) or "epoch_seconds" not in history:
        got = sorted(history) if isinstance(history, dict) else type(history).__name__
        raise ValueError(f"history: expected a history from cnnlab.train (with 'epoch_seconds'), got {got}")
    labels, _ = predict_classes(model, x_test)
    row = {
        "test_accuracy": accuracy(np.asarray(y_test).astype(int), labels),
        "params": param_counts(model)["total"],
        "epochs": len(history["epoch_seconds"]),
    }
    if "val_accuracy" in history:
        row["val_accuracy"] = history["val_accuracy"][-1]
    return row


def misclassified(y_true, probs) -> np.ndarray:
    """Indices of wrongly classified examples, most confident mistake first.

    y_true: (n,) ints; probs: (n, classes) predicted probabilities.
    """
    y_true, probs = np.asarray(y_true), np.asarray(probs)
    if probs.ndim != 2 or y_true.shape != (len(probs),):
        raise ValueError(f"y_true, probs: expected (n,) and (n, classes), got {y_true.shape} and {probs.shape}")
    wrong = np.flatnonzero(probs.argmax(axis=1) != y_true)
    return wrong[np.argsort(-probs[wrong].max(axis=1), kind="stable")]


def activation_model(model: keras.Model, layer_names: list[str]) -> keras.Model:
    """A model mapping ``model``'s input to the outputs of the named layers (a list, in order)."""
    known = [layer.name for layer in model.layers]
    missing = [name for name in layer_names if name not in known]
    if not layer_names or missing:
        raise ValueError(f"layer_names: expected names among {known}, got unknown {missing or 'empty list'}")
    return keras.Model(model.inputs, [model.get_layer(name).output for name in layer_names])


def mean_activations(act_model: keras.Model, x: np.ndarray, y=None, *, batch_size: int = 512) -> list[np.ndarray]:
    """Average each output of ``act_model`` over the examples in ``x``.

    Without labels: one array per layer with the batch axis averaged away, e.g. (h, w, filters).
    With labels y (n,) ints in [0, k): one array per layer of shape (k, ...), the mean per class.
    Runs in batches, so the full activations of a large set are never held in memory.
    """
    x = np.asarray(x)
    batch_size = _check_batch_size(batch_size)
    if y is not None:
        y = np.asarray(y)
        if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise ValueError(f"y: expected ({len(x)},) non-negative integer labels, got shape {y.shape} dtype {y.dtype}")
    labels = np.zeros(len(x), int) if y is None else y.astype(int)
    n_groups = labels.max() + 1
    counts = np.bincount(labels, minlength=n_groups).astype(np.float64)
    sums = None
    for start in range(0, len(x), batch_size):
        outputs = act_model.predict(x[start:start + batch_size], verbose=0)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        if sums is None:
            sums = [np.zeros((n_groups,) + out.shape[1:]) for out in outputs]
        onehot = np.eye(n_groups, dtype=np.float32)[labels[start:start + batch_size]]  # (b, k)
        for total, out in zip(sums, outputs):  # per-group sums as one matrix product (np.add.at is ~50x slower)
            total += (onehot.T @ out.reshape(len(out), -1)).reshape(total.shape)
    means = [(total / np.maximum(counts, 1).reshape((-1,) + (1,) * (total.ndim - 1))).astype(np.float32)
             for total in sums]
    return [m[0] for m in means] if y is None else means


def max_abs_gradients(model: keras.Model, x: np.ndarray, y: np.ndarray) -> list[float]:
    """Largest |d loss / d w| over each layer's kernel, first layer first, on one batch (x, y).

    The loss is the model's compiled loss (mean over the batch); layers without a kernel are
    skipped. Uses TensorFlow's GradientTape (the backend of this project).
    """
    import tensorflow as tf

    if not model.compiled:
        raise ValueError(f"model: expected a compiled model (its loss defines the gradients), got an uncompiled {type(model).__name__}")
    kernels = [layer.kernel for layer in model.layers if getattr(layer, "kernel", None) is not None]
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=False))
    return [float(tf.reduce_max(tf.abs(g))) for g in tape.gradient(loss, kernels)]


class GradientProbe(keras.callbacks.Callback):
    """Records :func:`max_abs_gradients` on a fixed batch before training and after given epochs.

    ``record["max_grad_epoch<k>"]`` holds the per-layer list after k epochs (k = 0: untrained);
    ``cnnlab.train`` stores ``record`` with the history, so cached models keep it.
    """

    def __init__(self, x, y, epochs=(0, 3)):
        super().__init__()
        self.x, self.y, self.epochs = x, y, tuple(epochs)
        self.record = {}

    def cache_config(self) -> dict:
        """What changes the record: enters the weights cache key."""
        from cnnlab.train import fingerprint

        return {"class": type(self).__name__, "probe": fingerprint(self.x, self.y), "epochs": list(self.epochs)}

    def _probe(self, epoch: int) -> None:
        if epoch in self.epochs:
            self.record[f"max_grad_epoch{epoch}"] = max_abs_gradients(self.model, self.x, self.y)

    def on_train_begin(self, logs=None):
        self.record = {}
        self._probe(0)

    def on_epoch_end(self, epoch, logs=None):
        self._probe(epoch + 1)


def edge_images(angles_deg, size: int = 28, softness: float = 1.0) -> np.ndarray:
    """Straight edges through the image centre: (n, size, size) float32 in [0, 1], one per angle.

    The brightness rises from 0 to 1 across the edge in the direction ``angle`` (degrees,
    counter-clockwise from "right", with "up" = towards row 0), over about ``softness`` pixels.
    Angle 0 is dark on the left and bright on the right; 90 is dark below and bright above.
    """
    angles = np.atleast_1d(np.asarray(angles_deg, dtype=np.float64))
    if angles.ndim != 1 or not np.all(np.isfinite(angles)):
        raise ValueError(f"angles_deg: expected a finite number or 1-D sequence, got {angles_deg!r}")
    if not isinstance(size, int) or size < 3 or softness <= 0:
        raise ValueError(f"size, softness: expected size >= 3 and softness > 0, got {size}, {softness}")
    centre = (size - 1) / 2
    rows, cols = np.mgrid[0:size, 0:size] - centre
    theta = np.deg2rad(angles)[:, None, None]
    along_normal = cols * np.cos(theta) - rows * np.sin(theta)
    return np.clip(0.5 + along_normal / softness, 0, 1).astype(np.float32)


def grating_images(angles_deg, periods, size: int = 32) -> np.ndarray:
    """Sinusoidal gratings through the image centre: (len(angles) * len(periods), size, size) float32
    in [0, 1], angle-major. The brightness varies along ``angle`` (degrees, as in :func:`edge_images`)
    with ``period`` pixels per cycle; the stripes run perpendicular to it."""
    angles = np.atleast_1d(np.asarray(angles_deg, dtype=np.float64))
    periods = np.atleast_1d(np.asarray(periods, dtype=np.float64))
    if angles.ndim != 1 or not np.all(np.isfinite(angles)):
        raise ValueError(f"angles_deg: expected a finite number or 1-D sequence, got {angles_deg!r}")
    if periods.ndim != 1 or not np.all(periods >= 2):
        raise ValueError(f"periods: expected periods of at least 2 pixels, got {periods!r}")
    if not isinstance(size, int) or size < 3:
        raise ValueError(f"size: expected an int >= 3, got {size!r}")
    rows, cols = np.mgrid[0:size, 0:size] - (size - 1) / 2
    theta = np.deg2rad(angles)[:, None, None, None]
    along = cols * np.cos(theta) - rows * np.sin(theta)                      # (angles, 1, size, size)
    waves = 0.5 + 0.5 * np.cos(2 * np.pi * along / periods[None, :, None, None])
    return waves.reshape(-1, size, size).astype(np.float32)


def hue_colours(n: int = 12) -> np.ndarray:
    """``n`` fully saturated colours evenly spaced in hue, starting at red: (n, 3) float32 RGB in [0, 1]."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n: expected a positive int, got {n!r}")
    h = 6 * np.arange(n) / n
    channel = lambda shift: np.clip(np.abs((h + shift) % 6 - 3) - 1, 0, 1)  # noqa: E731 (the HSV ramp)
    return np.stack([channel(0), channel(4), channel(2)], axis=1).astype(np.float32)


def receptive_field(model: keras.Model, layer_name: str) -> tuple[int, int, int]:
    """``(size, stride, start)`` of one unit of ``layer_name`` in input pixels: output row i sees input
    rows ``start + i * stride`` to ``start + i * stride + size - 1`` (start < 0 where padding adds
    rows), the same for columns. Walks the Conv2D and 2-D pooling layers up to that layer."""
    model = _check_model(model)
    size, stride, start = 1, 1, 0
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
            k = layer.kernel_size[0] if isinstance(layer, keras.layers.Conv2D) else layer.pool_size[0]
            s = layer.strides[0]
            pad = (k - 1) // 2 if layer.padding == "same" else 0
            start -= pad * stride
            size += (k - 1) * stride
            stride *= s
        if layer.name == layer_name:
            return size, stride, start
    raise ValueError(f"layer_name: expected one of {[layer.name for layer in model.layers]}, got {layer_name!r}")


def strongest_images(peaks: np.ndarray, n: int) -> np.ndarray:
    """Indices of the (at most) ``n`` images with the largest positive peak response, strongest first.

    peaks: (N,) one filter's strongest response per image. Images where it does not fire (peak <= 0)
    are left out, so a rarely firing filter's list is not filled with ties in sort order; equal
    peaks keep image order.
    """
    peaks = np.asarray(peaks)
    if peaks.ndim != 1 or isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"peaks, n: expected a (N,) array and a positive int, got shape {peaks.shape} and {n!r}")
    firing = np.flatnonzero(peaks > 0)
    return firing[np.argsort(-peaks[firing], kind="stable")][:n]


def top_patches(maps: np.ndarray, images: np.ndarray, field: tuple[int, int, int], n: int = 9):
    """The input patches under a filter's strongest responses, one per image.

    maps: (N, h, w) one filter's activations on ``images`` (N, H, W[, C]); field: ``(size, stride,
    start)`` from :func:`receptive_field`. Returns ``(patches (n, size, size[, C]), image indices (n,),
    peak values (n,))``, strongest first, so a grid of filters keeps n patches per row: the images of
    :func:`strongest_images`, then (if the filter fires on fewer than n) non-firing ones in image
    order, whose peak value says so; parts of a patch outside the image are 0.
    """
    maps, images = np.asarray(maps), np.asarray(images)
    if maps.ndim != 3 or images.ndim not in (3, 4) or len(maps) != len(images):
        raise ValueError(f"maps, images: expected (N, h, w) and (N, H, W[, C]) with the same N, "
                         f"got {maps.shape} and {images.shape}")
    size, stride, start = field
    peaks = maps.reshape(len(maps), -1)
    where = peaks.argmax(axis=1)
    value = peaks[np.arange(len(maps)), where]
    best = strongest_images(value, n)
    best = np.concatenate([best, np.flatnonzero(value <= 0)[:n - len(best)]])
    pad = size
    padded = np.pad(images, [(0, 0), (pad, pad), (pad, pad)] + [(0, 0)] * (images.ndim - 3))
    patches = []
    for i in best:
        r, c = np.unravel_index(where[i], maps.shape[1:])
        top, left = start + r * stride + pad, start + c * stride + pad
        patches.append(padded[i, top:top + size, left:left + size])
    return np.stack(patches), best, value[best]


def dead_units(act_model: keras.Model, x: np.ndarray, *, batch_size: int = 512) -> list[np.ndarray]:
    """Per output of ``act_model``: a boolean (filters,) array, True where the unit's activation is 0 on
    every example of ``x`` at every position (a ReLU unit that never fires)."""
    x = np.asarray(x)
    batch_size = _check_batch_size(batch_size)
    peak = None
    for begin in range(0, len(x), batch_size):
        outputs = act_model.predict(x[begin:begin + batch_size], verbose=0)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        batch_peak = [np.abs(out).reshape(-1, out.shape[-1]).max(axis=0) for out in outputs]
        peak = batch_peak if peak is None else [np.maximum(a, b) for a, b in zip(peak, batch_peak)]
    return [p == 0 for p in peak]


def mean_sd(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) of repeated measurements, e.g. one accuracy per
    seed; the sd of a single value is 0 (quick mode runs one seed)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"values: expected one or more finite numbers, got {values.tolist()!r}")
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0
