"""Train a Keras model or load it from the weights cache.

A cached model is stored as two files in ``config.WEIGHTS_DIR``:
``<name>-<key>.weights.h5`` (weights) and ``<name>-<key>.history.json`` (per-epoch metrics and
wall seconds). ``key`` hashes everything that determines the trained weights: the model
architecture, the compile configuration (optimiser, loss, metrics), the training arguments,
the seed and a fingerprint of the data (its bytes, or a caller's ``data_key`` for data computed in
floating point, whose last bits can differ between CPUs). Both files are written atomically,
weights first, so a run interrupted at any point leaves either a complete pair or nothing usable.
The history file records the weights file's SHA-256, checked before loading, so a damaged file is
never used.

If the weights folder is not writable (a read-only checkout), new files go to its copy in the user
cache folder (:func:`cnnlab.config.writable_path`) and lookups check both folders.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import warnings
from pathlib import Path
from collections.abc import Callable

import keras
import numpy as np
from keras.src.saving import saving_lib  # save_weights with objects_to_skip (not exposed publicly)

from cnnlab import config
from cnnlab.fileio import atomic_path, sha256_file, write_text_atomic


def fingerprint(*arrays: np.ndarray) -> str:
    """Short hex digest of the arrays' shapes, dtypes and bytes (changes if any value changes)."""
    digest = hashlib.blake2b(digest_size=16)
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.shape}{a.dtype.str}".encode())
        digest.update(memoryview(a).cast("B"))
    return digest.hexdigest()


def canonical_json(obj) -> str:
    """JSON text of ``obj`` with every ``"name"`` value replaced by its order of appearance.

    Keras numbers layers, inputs and optimisers per session ("dense_3", "adam_1"), which would
    change the cache key from one run to the next; the i-th distinct name becomes "name_i"
    wherever it occurs (also in a functional model's references between layers).
    """
    text = obj if isinstance(obj, str) else json.dumps(obj, sort_keys=True, default=repr)
    names = {}
    for found in re.findall(r'"name": "([^"]*)"', text):
        names.setdefault(found, f"name_{len(names)}")
    return re.sub(r'"([^"]*)"', lambda m: f'"{names.get(m.group(1), m.group(1))}"', text)


def data_identity(arrays: list[np.ndarray], data_key: str | None = None) -> str:
    """What identifies the data in a cache key: the arrays' bytes, or ``data_key`` with their shapes,
    dtypes and the bytes of the integer arrays (labels, which are exact on every CPU)."""
    if data_key is None:
        return fingerprint(*arrays)
    if not isinstance(data_key, str) or not data_key.strip():
        raise ValueError(f"data_key: expected a non-empty string describing how the data were made, got {data_key!r}")
    exact = [a for a in arrays if np.issubdtype(np.asarray(a).dtype, np.integer)]
    shapes = [f"{np.shape(a)}{np.asarray(a).dtype.str}" for a in arrays]
    return f"{data_key}|{shapes}|{fingerprint(*exact)}"


def cache_key(model: keras.Model, arrays: list[np.ndarray], training: dict, data_key: str | None = None) -> str:
    """12 hex digits identifying a trained model: architecture, compile config, training args, data
    (see :func:`data_identity`)."""
    parts = {
        "architecture": canonical_json(model.to_json()),
        "compile": canonical_json(model.get_compile_config()),
        "training": training,
        "data": data_identity(arrays, data_key),
    }
    text = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


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
    the label itself (it enters the cache key by its name).
    """

    def __init__(self, train, test, *, every: int = 500, stop_at: int | None = None, batch_size: int = 1000,
                 score: Callable | None = None):
        super().__init__()
        self.train_probe, self.test = _check_xy(train, "train"), _check_xy(test, "test")
        for arg, value in (("every", every), ("batch_size", batch_size), ("stop_at", 1 if stop_at is None else stop_at)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{arg}: expected a positive int, got {value!r}")
        self.every, self.stop_at, self.batch_size, self.score = every, stop_at, batch_size, score or argmax_accuracy
        self.record = {}

    def cache_config(self) -> dict:
        """What changes the training run or its record: enters ``fit_or_load``'s cache key."""
        return {"class": type(self).__name__, "every": self.every, "stop_at": self.stop_at, "score": self.score.__name__,
                "train": fingerprint(*self.train_probe), "test": fingerprint(*self.test)}

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
        self.record["test_accuracy"].append(float(self.score(self._predict(x_test), y_test)))

    def on_train_begin(self, logs=None):
        self.record = {"iterations": [], "train_accuracy": [], "test_accuracy": [], "train_seconds": []}
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


class EpochTimer(keras.callbacks.Callback):
    """Records the wall-clock seconds of each epoch in ``self.seconds``."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def _check_xy(data, name: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(f"{name}: expected a pair (x, y) of arrays, got {type(data).__name__}")
    x, y = (np.asarray(a) for a in data)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"{name}: x and y need the same non-zero length: expected equal lengths, got {len(x)} and {len(y)}")
    return x, y


def _check_epochs_batch(epochs, batch_size) -> None:
    for arg, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{arg}: expected a positive int, got {value!r}")


def _load_cached(model: keras.Model, weights: Path, history: Path) -> dict | None:
    """The cached history after loading ``weights`` into ``model``; None if missing; raises if unusable."""
    if not (weights.exists() and history.exists()):
        return None
    record = json.loads(history.read_text())
    expected = record.get("weights_sha256")  # absent in files written before checksums were recorded
    if expected is not None and sha256_file(weights) != expected:
        raise ValueError(f"SHA-256 does not match the one recorded in {history.name} (corrupt)")
    with warnings.catch_warnings():  # older files hold optimiser slots; an unbuilt optimiser skips them
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        model.load_weights(weights)
    return record["history"]


def _load_any(model: keras.Model, weights: Path, history: Path) -> tuple[dict | None, bool]:
    """Try the cached pair in each of :func:`cnnlab.config.cached_paths`: (history or None, whether a file was refused)."""
    refused = False
    for w, h in zip(config.cached_paths(weights), config.cached_paths(history)):
        try:
            found = _load_cached(model, w, h)
        except Exception as err:  # a truncated, corrupt or foreign file: report in one line, never use it
            print(f"{w}: cached file unusable ({type(err).__name__}: {err}); not using it")
            refused = True
            continue
        if found is not None:
            return found, refused
    return None, refused


def fit_or_load(
    build_fn: Callable[[], keras.Model],
    data,
    *,
    name: str,
    epochs: int,
    batch_size: int,
    validation_data=None,
    seed: int = 0,
    callbacks: tuple = (),
    verbose: int = 2,
    retrain: bool | None = None,
    weights_dir: Path | None = None,
    data_key: str | None = None,
) -> tuple[keras.Model, dict]:
    """Build a compiled model with ``build_fn()``, then load its cached weights or train it.

    data, validation_data: ``(x, y)`` arrays. Training seeds everything with ``seed`` first.
    ``callbacks`` enter the key by their ``cache_config()`` if they have one, else by class name
    only (then pass fresh, equally configured ones).
    ``data_key`` replaces the bytes of float data in the key by a description of how they were made
    (source, recipe, version, seed) for data computed in floating point — generated or augmented
    images, features of a pre-trained network — whose last bits differ between CPUs, so that weights
    trained on one machine are found on another. It must change whenever the data would.
    Returns ``(model, history)``; history maps each Keras metric (``loss``, ``val_accuracy``...)
    to per-epoch floats and ``epoch_seconds`` to per-epoch wall time.
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"name: expected letters, digits, '_', '.', '-' (used in file names), got {name!r}")
    _check_epochs_batch(epochs, batch_size)
    x, y = _check_xy(data, "data")
    arrays = [x, y] + (list(_check_xy(validation_data, "validation_data")) if validation_data is not None else [])
    config.seed(seed)
    model = build_fn()
    if not isinstance(model, keras.Model) or not model.compiled:
        raise ValueError("build_fn: expected a function returning a compiled keras.Model (call model.compile)")
    training = {"epochs": epochs, "batch_size": batch_size, "seed": seed,
                "callbacks": [cb.cache_config() if hasattr(cb, "cache_config") else type(cb).__name__ for cb in callbacks]}
    key = cache_key(model, arrays, training, data_key)
    folder = Path(weights_dir or config.WEIGHTS_DIR)
    weights_path = folder / f"{name}-{key}.weights.h5"
    history_path = folder / f"{name}-{key}.history.json"
    retrain = config.RETRAIN if retrain is None else retrain
    if not retrain:
        history, refused = _load_any(model, weights_path, history_path)
        if history is not None:
            if verbose:
                print(f"{name}: loaded cached weights {weights_path.name}")
            return model, history
        if refused:  # a failed load may have set some weights: start again from the seeded initialisation
            config.seed(seed)
            model = build_fn()

    val = tuple(arrays[2:]) if validation_data is not None else None
    history = train(model, (x, y), val, epochs=epochs, batch_size=batch_size, callbacks=callbacks, verbose=verbose)
    weights_path = config.writable_path(weights_path)
    with atomic_path(weights_path) as tmp:
        save_model_weights(model, tmp)
    record = {"name": name, "key": key, "training": training, "weights_sha256": sha256_file(weights_path),
              "history": history}
    write_text_atomic(weights_path.with_name(history_path.name), json.dumps(record, indent=1))
    return model, history


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
    _check_epochs_batch(epochs, batch_size)
    data = _check_xy(data, "data")
    if validation_data is not None:
        validation_data = _check_xy(validation_data, "validation_data")
    timer = EpochTimer()
    fitted = model.fit(*data, validation_data=validation_data, epochs=epochs, batch_size=batch_size,
                       callbacks=[timer, *callbacks], verbose=verbose)
    history = {k: [float(v) for v in values] for k, values in fitted.history.items()}
    history["epoch_seconds"] = timer.seconds
    for callback in callbacks:
        history.update(getattr(callback, "record", {}))
    return history


def load_or_train_model(path: Path, build_fn: Callable[[], keras.Model], data, *, epochs: int, batch_size: int,
                        validation_data=None, seed: int = 0, verbose: int = 2,
                        retrain: bool | None = None) -> tuple[keras.Model, dict]:
    """Load a whole saved model (``.keras``) like downloaded pre-trained weights, or train and save it.

    For a model that stands for a fixed artefact (e.g. "the lecture network"): the file at
    ``path`` is used as it is, whatever the code that built it; it is trained with ``build_fn``
    only if missing, unreadable, or when retraining is asked for. Its history is kept beside it
    in ``<stem>.history.json``. Both files are written atomically.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"path: expected a .keras file, got {path.name!r}")
    _check_epochs_batch(epochs, batch_size)
    history_name = path.stem + ".history.json"
    retrain = config.RETRAIN if retrain is None else retrain
    for candidate in [] if retrain else config.cached_paths(path):
        if not (candidate.exists() and candidate.with_name(history_name).exists()):
            continue
        try:
            model = keras.models.load_model(candidate)
            history = json.loads(candidate.with_name(history_name).read_text())["history"]
        except Exception as err:
            print(f"{candidate}: unusable ({type(err).__name__}: {err}); not using it")
            continue
        if verbose:
            print(f"loaded {path.name} (trained earlier; CNNLAB_RETRAIN=1 trains it again)")
        return model, history
    config.seed(seed)
    model = build_fn()
    history = train(model, data, validation_data, epochs=epochs, batch_size=batch_size, verbose=verbose)
    path = config.writable_path(path)
    with atomic_path(path) as tmp:
        model.save(tmp)
    record = {"name": path.stem, "training": {"epochs": epochs, "batch_size": batch_size, "seed": seed},
              "history": history}
    write_text_atomic(path.with_name(history_name), json.dumps(record, indent=1))
    return model, history
