"""Training helpers: a ``model.fit`` returning plain histories, callbacks that log during training, the
digests that identify models and data in the weights cache (:mod:`cnnlab.experiment`)."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from cnnlab import quiet_tensorflow  # noqa: F401  (before Keras: mutes TensorFlow's start-up lines)
import keras
import numpy as np
from keras.src.saving import saving_lib  # save_weights with objects_to_skip (not exposed publicly)



def fingerprint(*arrays: np.ndarray) -> str:
    """Short hex digest of the arrays' shapes, dtypes and bytes (changes if any value changes)."""
    digest = hashlib.blake2b(digest_size=16)
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.shape}{a.dtype.str}".encode())
        digest.update(memoryview(a).cast("B"))
    return digest.hexdigest()


_REFERENCE_KEYS = ("keras_history", "input_layers", "output_layers")
"""Where a functional model's config refers to layers by name."""


def canonical_json(obj) -> str:
    """JSON text of ``obj`` (sorted keys) with every name replaced by its order of appearance.

    Keras numbers layers, inputs and optimisers per session ("dense_3", "adam_1"), which would
    change the cache key from one run to the next; the i-th distinct value of a ``"name"`` key
    becomes "name_i", there and in a functional model's references between layers
    (``keras_history``, ``input_layers``, ``output_layers``). Nothing else is renamed, so a config
    value or key that happens to equal a layer's name ("activation") keeps its text.
    """
    data = json.loads(json.dumps(json.loads(obj) if isinstance(obj, str) else obj, sort_keys=True, default=repr))
    names: dict[str, str] = {}

    def collect(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "name" and isinstance(value, str):
                    names.setdefault(value, f"name_{len(names)}")
                else:
                    collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    def references(node):
        if isinstance(node, str):
            return names.get(node, node)
        return [references(v) for v in node] if isinstance(node, list) else node

    def rename(node, key=None):
        if isinstance(node, dict):
            return {k: names[v] if k == "name" and isinstance(v, str) else rename(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return references(node) if key in _REFERENCE_KEYS else [rename(v) for v in node]
        return node

    collect(data)
    return json.dumps(rename(data), sort_keys=True)


def argmax_accuracy(probs: np.ndarray, y: np.ndarray) -> float:
    """Share of rows whose most probable class equals the integer label: probs (n, ..., k), y (n, ...)."""
    return float(np.mean(np.asarray(probs).argmax(axis=-1) == y))


def cross_entropy(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-probability of the true class (nats): probs (n, k), y (n,) integer labels."""
    probs, y = np.asarray(probs), np.asarray(y)
    if probs.ndim != 2 or y.shape != probs.shape[:1] or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"probs, y: expected (n, k) probabilities and (n,) integer labels, got {probs.shape} and "
                         f"{y.shape} {y.dtype}")
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0))))


class IterationLog(keras.callbacks.Callback):
    """Every ``every`` optimiser steps, accuracy on a fixed training probe and on a test set.

    ``record`` holds lists ``iterations``, ``train_accuracy``, ``test_accuracy`` and
    ``train_seconds`` (wall seconds spent in training steps only, evaluations excluded), starting
    with the untrained model at iteration 0; plus ``train_loss`` (the probe's cross-entropy) when the
    model outputs class probabilities (n, k) for the probe's integer labels (n,). With ``stop_at``, training ends after exactly that
    many steps (give ``fit`` enough epochs). train, test: ``(x, y)`` with integer labels; the
    probe is evaluated in inference mode (no dropout), so it is comparable with the test score.
    ``score(probs, y) -> float`` replaces argmax accuracy, e.g. for a model whose output is not
    the label itself (it enters the cache key by its name). ``test_name="val"`` records the second
    set as ``val_accuracy`` (a validation probe) instead of ``test_accuracy``. ``also``: more sets
    ``{name: (x, y)}`` logged beside them as ``<name>_accuracy`` (e.g. a held-out kind of example).
    """

    def __init__(self, train, test, *, every: int = 500, stop_at: int | None = None, batch_size: int = 1000,
                 score: Callable | None = None, test_name: str = "test", also: dict | None = None):
        super().__init__()
        self.train_probe, self.test = check_xy(train, "train"), check_xy(test, "test")
        self.also = {name: check_xy(xy, f"also[{name!r}]") for name, xy in (also or {}).items()}
        taken = {"train", test_name}
        for name in self.also:
            if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name in taken:
                raise ValueError(f"also: expected lower-case names other than {sorted(taken)} (recorded as <name>_accuracy), "
                                 f"got {name!r}")
        if test_name not in ("test", "val"):
            raise ValueError(f"test_name: expected 'test' or 'val' (the record key is <test_name>_accuracy), got {test_name!r}")
        self.test_name = test_name
        for arg, value in (("every", every), ("batch_size", batch_size), ("stop_at", 1 if stop_at is None else stop_at)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{arg}: expected a positive int, got {value!r}")
        self.every, self.stop_at, self.batch_size, self.score = every, stop_at, batch_size, score or argmax_accuracy
        self.record = {}

    def cache_config(self) -> dict:
        """What changes the training run or its record: enters ``fit_or_load``'s cache key."""
        config = {"class": type(self).__name__, "every": self.every, "stop_at": self.stop_at, "score": self.score.__name__,
                  "train": fingerprint(*self.train_probe), "test": fingerprint(*self.test)}
        config |= {"test_name": self.test_name} if self.test_name != "test" else {}
        return config | ({"also": {name: fingerprint(*xy) for name, xy in self.also.items()}} if self.also else {})

    def _predict(self, x) -> np.ndarray:
        return self.model.predict(x, batch_size=self.batch_size, verbose=0)

    def _log(self) -> None:
        self.record["iterations"].append(self._step)
        self.record["train_seconds"].append(self._seconds)
        (x, y), (x_test, y_test) = self.train_probe, self.test
        probs = self._predict(x)
        self.record["train_accuracy"].append(float(self.score(probs, y)))
        if probs.ndim == 2 and y.shape == probs.shape[:1] and np.issubdtype(y.dtype, np.integer):
            self.record.setdefault("train_loss", []).append(cross_entropy(probs, y))
        self.record[f"{self.test_name}_accuracy"].append(float(self.score(self._predict(x_test), y_test)))
        for name, (x_also, y_also) in self.also.items():
            self.record[f"{name}_accuracy"].append(float(self.score(self._predict(x_also), y_also)))

    def on_train_begin(self, logs=None):
        self.record = {"iterations": [], "train_accuracy": [], f"{self.test_name}_accuracy": [], "train_seconds": []}
        self.record |= {f"{name}_accuracy": [] for name in self.also}
        self._step, self._seconds = 0, 0.0
        self._log()

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._seconds += time.perf_counter() - self._start
        self._step += 1
        if self._step % self.every == 0 or self._step == self.stop_at:
            self._log()
        if self._step == self.stop_at:
            self.model.stop_training = True


def first_reaching(history: dict, threshold: float, key: str = "test_accuracy") -> dict | None:
    """The first :class:`IterationLog` entry with ``history[key] >= threshold``.

    Returns ``{"iterations": steps, "seconds": training wall seconds until then}``, or None if the
    run never got there.
    """
    if "iterations" not in history or key not in history:
        raise ValueError(f"history: expected 'iterations' and {key!r} from an IterationLog, got {sorted(history)}")
    hits = np.flatnonzero(np.asarray(history[key]) >= threshold)
    if hits.size == 0:
        return None
    return {"iterations": int(history["iterations"][hits[0]]), "seconds": float(history["train_seconds"][hits[0]])}


def stays_above(history: dict, threshold: float, key: str = "val_accuracy") -> dict | None:
    """The first :class:`IterationLog` entry from which ``history[key]`` stays ``>= threshold`` at every
    later logged point (``iterations`` and ``seconds``), or None if the last point is below it."""
    if "iterations" not in history or key not in history:
        raise ValueError(f"history: expected 'iterations' and {key!r} from an IterationLog, got {sorted(history)}")
    below = np.flatnonzero(np.asarray(history[key]) < threshold)
    first = 0 if below.size == 0 else int(below[-1]) + 1
    if first == len(history[key]):
        return None
    return {"iterations": int(history["iterations"][first]), "seconds": float(history["train_seconds"][first])}


_KERAS_CALLBACK_FIELDS = {
    "EarlyStopping": ("monitor", "min_delta", "patience", "mode", "baseline", "restore_best_weights", "start_from_epoch"),
    "ReduceLROnPlateau": ("monitor", "factor", "patience", "min_delta", "mode", "cooldown", "min_lr"),
    "TerminateOnNaN": (),
}
"""Keras callbacks that can change a training run, with every setting that does (others are refused)."""


def callback_config(callback) -> dict:
    """A callback's configuration as it enters the cache key: its ``cache_config()``, or every setting of
    a known Keras callback. Any other callback is refused: keyed by its name alone, a changed setting
    would silently load weights trained with the old one."""
    if hasattr(callback, "cache_config"):
        return callback.cache_config()
    cls = type(callback)
    fields = _KERAS_CALLBACK_FIELDS.get(cls.__name__) if cls.__module__.startswith("keras") else None
    if fields is None:
        raise ValueError(f"callbacks: expected Keras' {sorted(_KERAS_CALLBACK_FIELDS)} or a callback with a cache_config() "
                         f"method returning its settings, got {cls.__name__}; add cache_config() so its settings enter the key")
    settings = {"class": cls.__name__, **{f: _json_value(getattr(callback, f)) for f in fields}}
    if "min_delta" in settings:   # Keras flips its sign in place at every training start; the setting is its size
        settings["min_delta"] = abs(settings["min_delta"])
    return settings


def restored_epoch(callback_configs: list[dict], history: dict) -> int | None:
    """The 1-based epoch whose weights an ``EarlyStopping(restore_best_weights=True)`` put back at the
    end of training (Keras 3 restores them whether or not it stopped early), or None."""
    for cfg in callback_configs:
        if cfg.get("class") != "EarlyStopping" or not cfg.get("restore_best_weights"):
            continue
        values = history.get(cfg["monitor"])
        if not values:
            return None
        mode = cfg["mode"] if cfg["mode"] in ("min", "max") else ("max" if "acc" in cfg["monitor"] else "min")
        sign, delta = (1, abs(cfg["min_delta"])) if mode == "max" else (-1, abs(cfg["min_delta"]))
        best, best_epoch = None, cfg["start_from_epoch"]
        for epoch, value in enumerate(values):
            if epoch < cfg["start_from_epoch"]:
                continue
            if best is None or sign * (value - best) > delta:
                best, best_epoch = value, epoch
        return best_epoch + 1
    return None


def _json_value(value):
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


class EpochTimer(keras.callbacks.Callback):
    """Records the wall-clock seconds of each epoch in ``self.seconds``."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def check_xy(data, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``data`` as a pair of arrays of equal, non-zero length; ValueError naming ``name`` otherwise."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(f"{name}: expected a pair (x, y) of arrays, got {type(data).__name__}")
    x, y = (np.asarray(a) for a in data)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"{name}: x and y need the same non-zero length: expected equal lengths, got {len(x)} and {len(y)}")
    return x, y


def check_epochs_batch(epochs, batch_size) -> None:
    """ValueError unless ``epochs`` and ``batch_size`` are positive ints."""
    for arg, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{arg}: expected a positive int, got {value!r}")


def save_model_weights(model: keras.Model, path: Path) -> None:
    """``model.save_weights(path)`` without the optimiser's state (a third to half of Adam's file size).

    The cache stores trained models for inference and analysis, never to resume training.
    """
    saving_lib.save_weights_only(model, str(path), objects_to_skip=[model.optimizer] if model.optimizer else None)


def train(model: keras.Model, data, validation_data=None, *, epochs: int, batch_size: int,
          callbacks: tuple = (), verbose: int = 2) -> dict:
    """``model.fit`` that returns the history as plain lists, plus per-epoch wall seconds.

    A callback with a ``record`` attribute (a dict of JSON-serialisable lists, e.g. test accuracy
    every 500 steps or per-layer gradients) has it merged into the history, so it is cached too.
    """
    if not isinstance(model, keras.Model) or not model.compiled:
        raise ValueError(f"model: expected a compiled keras.Model, got {type(model).__name__}"
                         + (" (not compiled)" if isinstance(model, keras.Model) else ""))
    check_epochs_batch(epochs, batch_size)
    data = check_xy(data, "data")
    if validation_data is not None:
        validation_data = check_xy(validation_data, "validation_data")
    timer = EpochTimer()
    fitted = model.fit(*data, validation_data=validation_data, epochs=epochs, batch_size=batch_size,
                       callbacks=[timer, *callbacks], verbose=verbose)
    history = {k: [float(v) for v in values] for k, values in fitted.history.items()}
    history["epoch_seconds"] = timer.seconds
    for callback in callbacks:
        history.update(getattr(callback, "record", {}))
    return history
