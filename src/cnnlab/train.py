"""Train a Keras model or load it from the weights cache.

A cached model is stored as two files in ``config.WEIGHTS_DIR``:
``<name>-<key>.weights.h5`` (weights) and ``<name>-<key>.history.json`` (per-epoch metrics and
wall seconds). ``key`` hashes everything that determines the trained weights: the model
architecture, the compile configuration (optimiser, loss, metrics), the training arguments,
the seed and a fingerprint of the data. Both files are written atomically, weights first, so a
run interrupted at any point leaves either a complete pair or nothing usable.
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
from cnnlab.fileio import atomic_path, write_text_atomic


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


def cache_key(model: keras.Model, arrays: list[np.ndarray], training: dict) -> str:
    """12 hex digits identifying a trained model: architecture, compile config, training args, data."""
    parts = {
        "architecture": canonical_json(model.to_json()),
        "compile": canonical_json(model.get_compile_config()),
        "training": training,
        "data": fingerprint(*arrays),
    }
    text = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


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
        raise ValueError(f"{name}: x and y need the same non-zero length, got {len(x)} and {len(y)}")
    return x, y


def _load_cached(model: keras.Model, weights: Path, history: Path) -> dict | None:
    if not (weights.exists() and history.exists()):
        return None
    try:
        with warnings.catch_warnings():  # older files hold optimiser slots; an unbuilt optimiser skips them
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(weights)
        return json.loads(history.read_text())["history"]
    except Exception as err:  # a truncated or foreign file: report in one line, then retrain
        print(f"{weights.name}: cached file unusable ({type(err).__name__}: {err}); retraining")
        return None


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
) -> tuple[keras.Model, dict]:
    """Build a compiled model with ``build_fn()``, then load its cached weights or train it.

    data, validation_data: ``(x, y)`` arrays. Training seeds everything with ``seed`` first.
    ``callbacks`` enter the key by class name only, so pass fresh, equally configured ones.
    Returns ``(model, history)``; history maps each Keras metric (``loss``, ``val_accuracy``...)
    to per-epoch floats and ``epoch_seconds`` to per-epoch wall time.
    """
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name or ""):
        raise ValueError(f"name: expected letters, digits, '_', '.', '-' (used in file names), got {name!r}")
    for arg, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"{arg}: expected a positive int, got {value!r}")
    x, y = _check_xy(data, "data")
    arrays = [x, y] + (list(_check_xy(validation_data, "validation_data")) if validation_data is not None else [])
    config.seed(seed)
    model = build_fn()
    if not isinstance(model, keras.Model) or not model.compiled:
        raise ValueError("build_fn: expected a function returning a compiled keras.Model (call model.compile)")
    training = {"epochs": epochs, "batch_size": batch_size, "seed": seed,
                "callbacks": [type(cb).__name__ for cb in callbacks]}
    key = cache_key(model, arrays, training)
    folder = Path(weights_dir or config.WEIGHTS_DIR)
    weights_path = folder / f"{name}-{key}.weights.h5"
    history_path = folder / f"{name}-{key}.history.json"
    retrain = config.RETRAIN if retrain is None else retrain
    if not retrain and (history := _load_cached(model, weights_path, history_path)) is not None:
        if verbose:
            print(f"{name}: loaded cached weights {weights_path.name}")
        return model, history

    val = tuple(arrays[2:]) if validation_data is not None else None
    history = train(model, (x, y), val, epochs=epochs, batch_size=batch_size, callbacks=callbacks, verbose=verbose)
    with atomic_path(weights_path) as tmp:
        save_model_weights(model, tmp)
    record = {"name": name, "key": key, "training": training, "history": history}
    write_text_atomic(history_path, json.dumps(record, indent=1))
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
    history_path = path.with_name(path.stem + ".history.json")
    retrain = config.RETRAIN if retrain is None else retrain
    if not retrain and path.exists() and history_path.exists():
        try:
            model = keras.models.load_model(path)
            if verbose:
                print(f"loaded {path.name} (trained earlier; CNNLAB_RETRAIN=1 trains it again)")
            return model, json.loads(history_path.read_text())["history"]
        except Exception as err:
            print(f"{path.name}: unusable ({type(err).__name__}: {err}); training it again")
    config.seed(seed)
    model = build_fn()
    history = train(model, data, validation_data, epochs=epochs, batch_size=batch_size, verbose=verbose)
    with atomic_path(path) as tmp:
        model.save(tmp)
    record = {"name": path.stem, "training": {"epochs": epochs, "batch_size": batch_size, "seed": seed},
              "history": history}
    write_text_atomic(history_path, json.dumps(record, indent=1))
    return model, history
