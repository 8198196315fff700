"""Train a model or load it from the weights cache, keyed by everything that changes the weights.

A notebook makes one :class:`Experiment` (its model-name prefix, seed, compile settings, batch size
and data recipe) and calls ``exp.fit(name, build, train, val, epochs=...)``; nothing else about
caching appears in the notebook.

A trained model is stored as ``weights/<name>.json`` (its record: the cache key and the parts it
was computed from, the weights file's SHA-256, the per-epoch history and the scores asked for with
``evaluate``) and ``<name>.weights.h5``. The record is always kept in ``weights/``; the weights
file is kept there only for models a notebook inspects (``keep_weights=True``), else in the user
cache folder (:func:`cnnlab.config.user_copy`), since a score in a table needs only the record.

The key hashes the architecture, the compile configuration, the training arguments (epochs,
batch size, seed, every callback's configuration) and the data: their bytes, or for data computed
in floating point (whose last bits differ between CPUs) the recipe their loader reports, with
their shapes and the bytes of the integer arrays. A record whose key differs is never used; with
``CNNLAB_REQUIRE_CACHE=1`` the miss raises :class:`CacheMiss` naming what changed instead of
training. Files are written atomically, weights first, and a weights file's SHA-256 is checked
before every load.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnlab import config
from cnnlab.analysis import mean_sd
from cnnlab.fileio import atomic_path, sha256_file, write_text_atomic
from cnnlab.train import (argmax_accuracy, callback_config, canonical_json, check_epochs_batch, check_xy, cross_entropy, fingerprint,
                          keras, restored_epoch, save_model_weights, train)

KEY_VERSION = 2
"""Bump when the key's recipe changes on purpose (every cached model then needs re-keying)."""


class CacheMiss(RuntimeError):
    """Raised instead of training when ``CNNLAB_REQUIRE_CACHE=1`` and no cached model matches."""


def data_identity(arrays: list[np.ndarray], recipe: str | None = None) -> str:
    """What identifies the data in a key: the arrays' bytes, or ``recipe`` with their shapes, dtypes
    and the bytes of the integer arrays (labels, which are exact on every CPU)."""
    if recipe is None:
        return fingerprint(*arrays)
    if not isinstance(recipe, str) or not recipe.strip():
        raise ValueError(f"recipe: expected a non-empty string describing how the data were made, got {recipe!r}")
    exact = [a for a in arrays if np.issubdtype(np.asarray(a).dtype, np.integer)]
    shapes = [f"{np.shape(a)}{np.asarray(a).dtype.str}" for a in arrays]
    return f"{recipe}|{shapes}|{fingerprint(*exact)}"


def key_parts(model: keras.Model, arrays: list[np.ndarray], training: dict, recipe: str | None = None) -> dict:
    """The readable parts a cache key is computed from (the architecture as a digest)."""
    architecture = canonical_json(model.to_json())
    return {
        "version": KEY_VERSION,
        "architecture": hashlib.sha256(architecture.encode()).hexdigest()[:16],
        "params": int(model.count_params()),
        "compile": json.loads(canonical_json(model.get_compile_config())),
        "training": training,
        "data": data_identity(arrays, recipe),
    }


def cache_key(parts: dict) -> str:
    """12 hex digits of the SHA-256 of ``parts`` (see :func:`key_parts`)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


def _leaves(obj, prefix: str = "") -> dict:
    if isinstance(obj, dict):
        return {k: v for key, value in obj.items() for k, v in _leaves(value, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): obj}


def what_changed(old: dict, new: dict, limit: int = 4) -> str:
    """The key parts that differ between two records, e.g. ``training.epochs 10 -> 20``."""
    a, b = _leaves(old), _leaves(new)
    changes = [f"{k} {a.get(k, '(none)')!r} -> {b.get(k, '(none)')!r}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    more = f" and {len(changes) - limit} more" if len(changes) > limit else ""
    return "; ".join(changes[:limit]) + more if changes else "nothing (same key)"


def _read_record(name: str, folder: Path) -> tuple[dict | None, Path | None]:
    for path in config.cached_paths(folder / f"{name}.json"):
        if path.exists():
            try:
                return json.loads(path.read_text()), path
            except ValueError as err:
                print(f"{name}: history record unreadable ({err}); not using it")
    return None, None


def recorded_history(name: str, weights_dir: Path | None = None) -> dict:
    """The history stored with the cached run ``name`` (e.g. ``"B1_original"``), for a notebook that
    plots a run another notebook trained. ValueError if there is no record."""
    record, _ = _read_record(name, Path(weights_dir or config.WEIGHTS_DIR))
    if record is None:
        raise ValueError(f"{name}: no history record {name}.json in weights/; run the notebook that trains it first")
    return record["history"]


def _weights_file(name: str, record: dict | None) -> str:
    """The record's weights file name: ``<name>.weights.h5``, or the name a re-keyed file kept (so that
    re-keying renames nothing in git)."""
    return (record or {}).get("weights_file") or f"{name}.weights.h5"


def _weights_candidates(name: str, folder: Path, record: dict | None = None) -> list[Path]:
    path = folder / _weights_file(name, record)
    return [p for p in config.cached_paths(path) if p.exists()]


def _load_weights(model: keras.Model, name: str, folder: Path, record: dict) -> bool:
    """Load the verified weights of ``record`` into ``model``; False if no weights file is present."""
    expected = record.get("weights_sha256")
    for path in _weights_candidates(name, folder, record):
        if not isinstance(expected, str):
            raise ValueError(f"{name}: its history record has no weights_sha256, so {path.name} cannot be verified; "
                             f"retrain it with CNNLAB_RETRAIN=1")
        if sha256_file(path) != expected:
            raise ValueError(f"{name}: {path.name} does not match the SHA-256 in its history record (corrupt or replaced); "
                             f"restore it with `git checkout weights/{path.name}` or retrain with CNNLAB_RETRAIN=1")
        with warnings.catch_warnings():  # the file holds no optimiser state; an unbuilt optimiser has none to load
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(path)
        return True
    return False


def _scores(model: keras.Model, evaluate: dict) -> dict:
    out = {}
    for split, (x, y) in evaluate.items():
        probs = model.predict(x, batch_size=1024, verbose=0)
        out[split] = {"accuracy": argmax_accuracy(probs, y)}
        if probs.ndim == 2 and y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
            out[split]["loss"] = cross_entropy(probs, y)
    return out


def _check_inputs(model: keras.Model, arrays: list[np.ndarray], names: list[str]) -> None:
    """Refuse non-finite inputs and labels outside the model's classes before any training."""
    classes = model.output_shape[-1] if isinstance(model.output_shape, tuple) else None
    for a, arg in zip(arrays, names):
        if np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all():
            raise ValueError(f"{arg}: expected finite values, got {int(np.size(a) - np.isfinite(a).sum())} NaN or inf")
        if arg.endswith("y") and np.issubdtype(a.dtype, np.integer) and classes and a.size \
                and (a.min() < 0 or a.max() >= classes):
            raise ValueError(f"{arg}: expected labels in [0, {classes}) for a {classes}-class model, "
                             f"got values from {a.min()} to {a.max()}")


@dataclass
class Run:
    """A trained (or loaded) model: ``history`` per epoch, ``scores[split]`` from ``evaluate``,
    ``params``; ``model`` only if its weights are present (kept, or trained in this session)."""

    name: str
    history: dict
    scores: dict
    params: int
    _model: keras.Model | None = field(default=None, repr=False)
    restored_epoch: int | None = None

    @property
    def model(self) -> keras.Model:
        if self._model is None:
            raise ValueError(f"{self.name}: only its scores are kept (keep_weights=False), not its weights; "
                             f"pass keep_weights=True and retrain with CNNLAB_RETRAIN=1 to inspect the model")
        return self._model

    def metrics(self, split: str = "test") -> dict:
        """Headline numbers for ``results/<notebook>.json``: ``<split>_accuracy``, params, epochs trained
        and, when validated, the val_accuracy of the weights kept (the last epoch's, or the epoch an
        EarlyStopping with ``restore_best_weights`` restored, also given as ``restored_epoch``)."""
        if split not in self.scores:
            raise ValueError(f"split: expected one of the evaluated splits {sorted(self.scores)}, got {split!r} "
                             f"(pass evaluate={{{split!r}: (x, y)}} to fit)")
        row = {f"{split}_accuracy": self.scores[split]["accuracy"], "params": self.params,
               "epochs": len(self.history.get("epoch_seconds", []))}
        if self.restored_epoch is not None:
            row["restored_epoch"] = self.restored_epoch
        if "val_accuracy" in self.history:
            row["val_accuracy"] = self.history["val_accuracy"][(self.restored_epoch or 0) - 1]
        return row


def summarise_seeds(runs: list[Run], split: str = "test") -> dict:
    """One model trained once per seed, as a results row: ``<split>_accuracy`` and, when validated,
    ``val_accuracy`` of the kept weights (see :meth:`Run.metrics`), each as a mean with its sample sd
    (``..._sd``), plus ``params`` and the number of ``seeds``."""
    if not runs or len({run.params for run in runs}) != 1:
        raise ValueError(f"runs: expected one or more runs of the same model, got parameter counts "
                         f"{[run.params for run in runs]} (pass the runs of one model, one per seed)")
    rows = [run.metrics(split) for run in runs]
    summary = {}
    for metric in (f"{split}_accuracy", "val_accuracy"):
        if all(metric in row for row in rows):
            summary[metric], summary[f"{metric}_sd"] = mean_sd([row[metric] for row in rows])
    return summary | {"params": runs[0].params, "seeds": len(runs)}


def fit_or_load(build_fn: Callable[[], keras.Model], data, validation_data=None, *, name: str, epochs: int,
                batch_size: int, seed: int = 0, callbacks: tuple = (), recipe: str | None = None,
                evaluate: dict | None = None, keep_weights: bool = False, verbose: int = 2,
                weights_dir: Path | None = None) -> Run:
    """Build a compiled model with ``build_fn()``, then load its cached run or train it.

    data, validation_data: ``(x, y)`` arrays. ``evaluate``: ``{split: (x, y)}`` scored right after
    training (accuracy and, for class probabilities, cross-entropy) and stored in the record, so a
    re-execution has them without the weights. ``recipe`` replaces the bytes of float data in the
    key (see :func:`data_identity`). Training seeds everything with ``seed`` first.
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"name: expected letters, digits, '_', '.', '-' (used in file names), got {name!r}")
    check_epochs_batch(epochs, batch_size)
    arrays = list(check_xy(data, "data"))
    if validation_data is not None:
        arrays += check_xy(validation_data, "validation_data")
    evaluate = {split: check_xy(xy, f"evaluate[{split!r}]") for split, xy in (evaluate or {}).items()}
    config.seed(seed)
    model = build_fn()
    if not isinstance(model, keras.Model) or not model.compiled:
        raise ValueError("build_fn: expected a function returning a compiled keras.Model (call model.compile)")
    _check_inputs(model, arrays, ["data x", "data y", "validation_data x", "validation_data y"][:len(arrays)])
    training = {"epochs": epochs, "batch_size": batch_size, "seed": seed,
                "callbacks": [callback_config(cb) for cb in callbacks]}
    parts = key_parts(model, arrays, training, recipe)
    key = cache_key(parts)
    eval_ids = {split: data_identity(list(xy), recipe) for split, xy in evaluate.items()}
    folder = Path(weights_dir or config.WEIGHTS_DIR)

    record, _ = _read_record(name, folder)
    attempted_load = not config.RETRAIN and record is not None and record.get("key") == key
    if attempted_load:
        loaded = _load_weights(model, name, folder, record)
        stored = record.get("evaluation", {})
        missing = [s for s in evaluate if stored.get(s, {}).get("data") != eval_ids[s]]
        if loaded or not missing:
            if missing:
                record.setdefault("evaluation", {}).update(
                    {s: {"data": eval_ids[s], **v} for s, v in _scores(model, {s: evaluate[s] for s in missing}).items()})
                write_text_atomic(config.writable_path(folder / f"{name}.json"), json.dumps(record, indent=1))
            return Run(name, record["history"], {s: _plain(record["evaluation"][s]) for s in evaluate},
                       parts["params"], model if loaded else None, restored_epoch(training["callbacks"], record["history"]))
        reason = f"its record has no scores for {missing} and its weights are not kept"
    elif record is None:
        # only the folder's own files: a user-cache copy without its record is a stale cache entry, replaced by training
        orphans = [p for p in [folder / _weights_file(name, None)] if p.exists()] + sorted(folder.glob(f"{glob.escape(name)}-*.weights.h5"))
        if orphans and not config.RETRAIN:
            raise ValueError(f"{name}: a weights file exists but its history record {name}.json is missing or unreadable; restore it "
                             f"(`git checkout weights/{name}.json`) or delete the weights file to train again")
        reason = "no cached run"
    elif config.RETRAIN:
        reason = "CNNLAB_RETRAIN=1"
    else:
        reason = f"the cached run differs: {what_changed(record.get('parts', {}), parts)}"

    if config.REQUIRE_CACHE and not config.QUICK:
        raise CacheMiss(f"{name}: {reason}; CNNLAB_REQUIRE_CACHE=1 forbids training (unset it to train)")
    if verbose:
        print(f"{name}: training ({reason})")
    if attempted_load:  # a failed load may have set some weights: start again from the seeded initialisation
        config.seed(seed)
        model = build_fn()
    history = train(model, tuple(arrays[:2]), tuple(arrays[2:]) or None, epochs=epochs, batch_size=batch_size,
                    callbacks=callbacks, verbose=verbose)
    run = _store(model, name, folder, key, parts, history, evaluate, eval_ids, keep_weights)
    if record is not None and _weights_file(name, record) != f"{name}.weights.h5":
        (folder / _weights_file(name, record)).unlink(missing_ok=True)  # replaced by <name>.weights.h5
    return run


def load_trained(build_fn: Callable[[], keras.Model], *, name: str, evaluate: dict | None = None,
                 recipe: str | None = None, weights_dir: Path | None = None) -> Run:
    """The kept weights of ``name``, trained earlier by :func:`fit_or_load` on data this machine may
    not have (e.g. a training split that is not vendored), like pre-trained weights from a course page.

    ``build_fn()`` must give the recorded architecture, parameter count and compile settings (else
    ValueError naming what differs); the weights are verified by their SHA-256. ``evaluate`` and
    ``recipe`` as in :func:`fit_or_load`: stored scores are used when their data match, else computed
    (and stored, except in quick mode). The folder is ``weights_dir``, else (full mode)
    ``CNNLAB_WEIGHTS_DIR``, else the committed ``weights/``. In quick mode ``CNNLAB_WEIGHTS_DIR`` is the
    scratch cache of quick training and is not read: pre-trained weights are full-mode ones.
    """
    full_mode_dir = None if config.QUICK else os.environ.get("CNNLAB_WEIGHTS_DIR")
    folder = Path(weights_dir or full_mode_dir or config.ROOT / "weights")
    record, _ = _read_record(name, folder)
    if record is None or not record.get("weights_kept"):
        raise ValueError(f"{name}: expected kept weights (weights/{name}.json with weights_kept true), found "
                         f"{'no record' if record is None else 'a score-only record'}; train it with its training data")
    evaluate = {split: check_xy(xy, f"evaluate[{split!r}]") for split, xy in (evaluate or {}).items()}
    model = build_fn()
    if not isinstance(model, keras.Model) or not model.compiled:
        raise ValueError("build_fn: expected a function returning a compiled keras.Model (call model.compile)")
    recorded = {k: record["parts"].get(k) for k in ("architecture", "params", "compile")}
    built = {k: v for k, v in key_parts(model, [], {}).items() if k in recorded}
    if built != recorded:
        raise ValueError(f"{name}: the model built differs from the one trained: {what_changed(recorded, built)}; "
                         f"build the recorded model or retrain it with its training data")
    if not _load_weights(model, name, folder, record):
        raise ValueError(f"{name}: weights file {_weights_file(name, record)} missing; restore it with "
                         f"`git checkout weights/{_weights_file(name, record)}`")
    eval_ids = {split: data_identity(list(xy), recipe) for split, xy in evaluate.items()}
    stored = record.get("evaluation", {})
    missing = {s: evaluate[s] for s in evaluate if stored.get(s, {}).get("data") != eval_ids[s]}
    if missing:
        stored.update({s: {"data": eval_ids[s], **v} for s, v in _scores(model, missing).items()})
        record["evaluation"] = stored
        if not config.QUICK:
            write_text_atomic(config.writable_path(folder / f"{name}.json"), json.dumps(record, indent=1))
    return Run(name, record["history"], {s: _plain(stored[s]) for s in evaluate}, record["parts"]["params"], model,
               restored_epoch(record["parts"]["training"]["callbacks"], record["history"]))


def _store(model, name, folder, key, parts, history, evaluate, eval_ids, keep_weights) -> Run:
    """Score the trained ``model``, write its weights and its record."""
    scores = _scores(model, evaluate)
    weights_path = folder / f"{name}.weights.h5"
    if not keep_weights:
        (folder / weights_path.name).unlink(missing_ok=True)
        weights_path = config.user_copy(weights_path)
        weights_path.parent.mkdir(parents=True, exist_ok=True)
    weights_path = config.writable_path(weights_path)
    with atomic_path(weights_path) as tmp:
        save_model_weights(model, tmp)
    record = {"name": name, "key": key, "parts": parts, "weights_sha256": sha256_file(weights_path),
              "weights_kept": bool(keep_weights), "history": history,
              "evaluation": {s: {"data": eval_ids[s], **v} for s, v in scores.items()}}
    write_text_atomic(config.writable_path(folder / f"{name}.json"), json.dumps(record, indent=1))
    return Run(name, history, scores, parts["params"], model, restored_epoch(parts["training"]["callbacks"], history))


def _plain(score: dict) -> dict:
    return {k: v for k, v in score.items() if k != "data"}


class Experiment:
    """One notebook's training settings: its model-name prefix, seed, Adam learning rate, batch size
    and data recipe. ``exp.fit("dense100", build, train, val, epochs=10)`` trains or loads.

    ``recipe``: how the notebook's float-computed data were made, as reported by their loader
    (e.g. ``info.recipe`` of the SVHN stand-in); None when the data are exact bytes (MNIST).
    """

    def __init__(self, prefix: str, *, seed: int = 0, batch_size: int = 128, learning_rate: float = 1e-3,
                 recipe: str | None = None, verbose: int = 2):
        if not isinstance(prefix, str) or not re.fullmatch(r"[A-Za-z0-9]+", prefix):
            raise ValueError(f"prefix: expected letters and digits like 'A3', got {prefix!r}")
        self.prefix, self.seed, self.batch_size = prefix, seed, batch_size
        self.learning_rate, self.recipe, self.verbose = learning_rate, recipe, verbose

    def fit(self, name: str, build: Callable[[], keras.Model], train_data, val_data=None, *, epochs: int,
            seed: int | None = None, batch_size: int | None = None, learning_rate: float | None = None,
            cosine: bool = False, callbacks: tuple = (), evaluate: dict | None = None, keep_weights: bool = False,
            verbose: int | None = None) -> Run:
        """Train (or load) ``build()``, compiled with Adam, sparse cross-entropy and accuracy.

        ``build`` returns an uncompiled model (or a compiled one, used as it is). ``cosine``: the
        learning rate decays along a cosine to zero over all the run's steps. Returns a :class:`Run`.
        """
        from cnnlab.models import compile_classifier

        batch_size = batch_size or self.batch_size
        rate = learning_rate or self.learning_rate
        steps = epochs * -(-len(check_xy(train_data, "train_data")[0]) // batch_size) if cosine else None

        def compiled() -> keras.Model:
            model = build()
            return model if isinstance(model, keras.Model) and model.compiled else \
                compile_classifier(model, rate, decay_steps=steps)

        return fit_or_load(compiled, train_data, val_data, name=f"{self.prefix}_{name}", epochs=epochs,
                           batch_size=batch_size, seed=self.seed if seed is None else seed, callbacks=callbacks,
                           recipe=self.recipe, evaluate=evaluate, keep_weights=keep_weights,
                           verbose=self.verbose if verbose is None else verbose)

    def load(self, name: str, build: Callable[[], keras.Model], *, learning_rate: float | None = None,
             evaluate: dict | None = None) -> Run:
        """The kept weights of ``<prefix>_<name>`` without its training data (see :func:`load_trained`);
        ``build`` and ``learning_rate`` as given to :meth:`fit` when it was trained."""
        from cnnlab.models import compile_classifier

        def compiled() -> keras.Model:
            model = build()
            return model if isinstance(model, keras.Model) and model.compiled else \
                compile_classifier(model, learning_rate or self.learning_rate)

        return load_trained(compiled, name=f"{self.prefix}_{name}", evaluate=evaluate, recipe=self.recipe)
