"""The weights cache: keys that see every setting, records that verify their weights, and the
Experiment helper notebooks use."""

import json

import keras
import numpy as np
import pytest

from cnnlab import config, experiment
from cnnlab.experiment import CacheMiss, Experiment, cache_key, fit_or_load, key_parts
from cnnlab.train import IterationLog


def fit(build, data, folder, **kwargs):
    args = dict(name="tiny", epochs=2, batch_size=16, verbose=0, weights_dir=folder) | kwargs
    return fit_or_load(build, data, **args)


def record(folder, name="tiny"):
    return json.loads((folder / f"{name}.json").read_text())


def flip_one_bit(path):
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # same size: only the checksum can tell
    path.write_bytes(bytes(raw))


def test_golden_key_of_a_fixed_model_data_and_training():
    """A dependency upgrade that changes keys fails here instead of silently retraining every model."""
    config.seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.arange(12, dtype=np.float32).reshape(4, 3) / 12
    y = np.array([0, 1, 0, 1])
    training = {"epochs": 3, "batch_size": 2, "seed": 0,
                "callbacks": [experiment.callback_config(keras.callbacks.EarlyStopping(patience=2))]}
    assert cache_key(key_parts(model, [x, y], training)) == "8cc158ca798f"


def test_first_call_trains_and_records_the_second_loads(build, data, tmp_path, capsys):
    run = fit(build, data, tmp_path, evaluate={"test": data})
    assert len(run.history["loss"]) == 2 and run.scores["test"]["accuracy"] == pytest.approx(
        float(np.mean(run.model.predict(data[0], verbose=0).argmax(1) == data[1])))
    saved = record(tmp_path)
    assert saved["parts"]["training"] == {"epochs": 2, "batch_size": 16, "seed": 0, "callbacks": []}
    assert len(saved["weights_sha256"]) == 64 and saved["evaluation"]["test"]["accuracy"] == run.scores["test"]["accuracy"]
    again = fit(build, data, tmp_path, evaluate={"test": data}, verbose=1)
    assert again.history == run.history and again.scores == run.scores
    assert "tiny: training" not in capsys.readouterr().out  # loaded, silently
    for a, b in zip(run.model.get_weights(), again.model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_score_only_models_keep_their_weights_out_of_the_folder(build, data, tmp_path, own_user_cache):
    folder = tmp_path / "weights"
    fit(build, data, folder, evaluate={"test": data})
    assert sorted(p.name for p in folder.iterdir()) == ["tiny.json"]
    assert len(list(own_user_cache.rglob("tiny.weights.h5"))) == 1
    kept = tmp_path / "kept"
    fit(build, data, kept, keep_weights=True)
    assert sorted(p.name for p in kept.iterdir()) == ["tiny.json", "tiny.weights.h5"]


def test_a_record_without_its_weights_still_gives_its_scores(build, data, tmp_path, own_user_cache):
    first = fit(build, data, tmp_path, evaluate={"test": data})
    for p in own_user_cache.rglob("*.weights.h5"):
        p.unlink()
    again = fit(build, data, tmp_path, evaluate={"test": data}, verbose=1)
    assert again.scores == first.scores and again.params == first.params
    with pytest.raises(ValueError, match="only its scores are kept"):
        again.model  # noqa: B018


@pytest.mark.parametrize("change", [
    dict(epochs=1), dict(seed=1), dict(batch_size=8),
    dict(callbacks=(keras.callbacks.EarlyStopping(monitor="loss", patience=1),)),
])
def test_every_training_setting_changes_the_key(build, data, tmp_path, change):
    fit(build, data, tmp_path)
    key = record(tmp_path)["key"]
    fit(build, data, tmp_path, **change)
    assert record(tmp_path)["key"] != key


@pytest.mark.parametrize("setting", ["patience", "min_delta", "monitor", "mode", "restore_best_weights", "start_from_epoch"])
def test_every_early_stopping_setting_enters_the_key(setting):
    base = dict(monitor="loss", patience=1, min_delta=0.0, mode="auto", restore_best_weights=False, start_from_epoch=0)
    other = {"patience": 2, "min_delta": 0.1, "monitor": "accuracy", "mode": "min", "restore_best_weights": True,
             "start_from_epoch": 1}
    a = experiment.callback_config(keras.callbacks.EarlyStopping(**base))
    b = experiment.callback_config(keras.callbacks.EarlyStopping(**(base | {setting: other[setting]})))
    assert a != b


def test_a_callback_used_in_training_keeps_its_key(build, data, tmp_path):
    halve = keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=1, min_delta=1e-4)
    before = experiment.callback_config(halve)
    fit(build, data, tmp_path, callbacks=(halve,))                      # Keras negates min_delta in place here
    assert experiment.callback_config(halve) == before and before["min_delta"] == 1e-4
    first = record(tmp_path)
    fit(build, data, tmp_path, callbacks=(halve,))                      # so a reused callback finds its own run
    assert record(tmp_path) == first and first["parts"]["training"]["callbacks"][0]["min_delta"] == 1e-4


def test_a_callback_the_key_cannot_describe_is_refused(build, data, tmp_path):
    class Mystery(keras.callbacks.Callback):
        pass

    with pytest.raises(ValueError, match="callbacks: expected .* got Mystery; add cache_config"):
        fit(build, data, tmp_path, callbacks=(Mystery(),))
    with pytest.raises(ValueError, match="got LambdaCallback"):
        fit(build, data, tmp_path, callbacks=(keras.callbacks.LambdaCallback(),))


def test_iteration_log_settings_enter_the_key(build, data, tmp_path):
    fit(build, data, tmp_path, callbacks=(IterationLog(data, data, every=2),))
    key = record(tmp_path)["key"]
    fit(build, data, tmp_path, callbacks=(IterationLog(data, data, every=3),))
    assert record(tmp_path)["key"] != key


def test_a_recipe_stands_for_the_float_bytes_but_not_for_labels_or_shapes(build, data, tmp_path, capsys):
    x, y = data
    fit(build, data, tmp_path, recipe="recipe v1")
    fit(build, (x + 1e-7, y), tmp_path, recipe="recipe v1", verbose=1)    # last-bit differences: loaded
    assert "tiny: training" not in capsys.readouterr().out
    for changed in [dict(data=(x, 1 - y)), dict(data=(x[:32], y[:32])), dict(recipe="recipe v2")]:
        fit(build, **({"data": data, "recipe": "recipe v1"} | changed), folder=tmp_path, verbose=1)
        assert "tiny: training" in capsys.readouterr().out


def test_require_cache_raises_naming_what_changed(build, data, tmp_path, monkeypatch):
    fit(build, data, tmp_path)
    monkeypatch.setattr(config, "REQUIRE_CACHE", True)
    monkeypatch.setattr(config, "QUICK", False)
    fit(build, data, tmp_path)  # a hit needs no training
    with pytest.raises(CacheMiss, match=r"tiny: the cached run differs: training.epochs 2 -> 3.*REQUIRE_CACHE"):
        fit(build, data, tmp_path, epochs=3)
    with pytest.raises(CacheMiss, match="other: no cached run"):
        fit(build, data, tmp_path, name="other")


def test_a_flipped_bit_in_the_weights_is_refused_in_one_line(build, data, tmp_path):
    fit(build, data, tmp_path, keep_weights=True)
    flip_one_bit(tmp_path / "tiny.weights.h5")
    with pytest.raises(ValueError, match=r"^tiny: tiny.weights.h5 does not match the SHA-256 in its history record"):
        fit(build, data, tmp_path, keep_weights=True)


def test_a_record_without_a_checksum_is_not_trusted(build, data, tmp_path):
    fit(build, data, tmp_path, keep_weights=True)
    saved = record(tmp_path)
    del saved["weights_sha256"]
    (tmp_path / "tiny.json").write_text(json.dumps(saved))
    with pytest.raises(ValueError, match="has no weights_sha256"):
        fit(build, data, tmp_path, keep_weights=True)


def test_weights_without_their_record_are_never_overwritten(build, data, tmp_path):
    fit(build, data, tmp_path, keep_weights=True)
    before = (tmp_path / "tiny.weights.h5").read_bytes()
    (tmp_path / "tiny.json").unlink()
    with pytest.raises(ValueError, match="its history record tiny.json is missing"):
        fit(build, data, tmp_path, keep_weights=True)
    assert (tmp_path / "tiny.weights.h5").read_bytes() == before


def test_a_cached_copy_without_its_record_is_replaced_by_training(build, data, tmp_path, own_user_cache, capsys):
    # a fresh clone (empty weights folder) on a machine whose user cache still holds score-only weights of an earlier clone
    stale = config.user_copy(tmp_path / "tiny.weights.h5")
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"weights of an earlier clone")
    fit(build, data, tmp_path, evaluate={"test": data}, verbose=1)
    assert "tiny: training (no cached run)" in capsys.readouterr().out
    assert stale.read_bytes() != b"weights of an earlier clone"


def test_an_unreadable_record_is_reported_and_its_weights_kept(build, data, tmp_path, capsys):
    fit(build, data, tmp_path, keep_weights=True)
    (tmp_path / "tiny.json").write_text('{"key": ')
    with pytest.raises(ValueError, match="its history record tiny.json is missing or unreadable"):
        fit(build, data, tmp_path, keep_weights=True)
    assert "tiny: history record unreadable" in capsys.readouterr().out
    (tmp_path / "tiny.weights.h5").unlink()
    fit(build, data, tmp_path)  # nothing left to protect: trains and writes a new record
    assert "key" in record(tmp_path)


@pytest.mark.parametrize("xy, match", [
    ((np.full((4, 4, 4, 1), np.nan, np.float32), np.zeros(4, np.int64)), "data x: expected finite values, got 64 NaN"),
    ((np.zeros((4, 4, 4, 1), np.float32), np.array([0, 1, 2, 1])), r"data y: expected labels in \[0, 2\).*from 0 to 2"),
    ((np.zeros((4, 4, 4, 1), np.float32), np.array([0, -1, 0, 1])), r"data y: expected labels in \[0, 2\)"),
])
def test_bad_training_data_is_refused_before_training(build, tmp_path, xy, match):
    with pytest.raises(ValueError, match=match):
        fit(build, xy, tmp_path)
    assert not (tmp_path / "tiny.json").exists()


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="a b"), "name: expected letters"),
    (dict(epochs=0), "epochs: expected a positive int"),
    (dict(batch_size=2.5), "batch_size: expected a positive int"),
    (dict(validation_data=(np.zeros((3, 4, 4, 1)), np.zeros(2))), "validation_data: x and y need the same"),
    (dict(recipe=" "), "recipe: expected a non-empty string"),
])
def test_bad_arguments_are_rejected(build, data, tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit(build, data, tmp_path, **kwargs)


def test_an_uncompiled_model_is_rejected(data, tmp_path):
    from cnnlab.models import dense_classifier

    with pytest.raises(ValueError, match="build_fn: expected a function returning a compiled"):
        fit(lambda: dense_classifier((4, 4, 1)), data, tmp_path)


class Interrupt(keras.callbacks.Callback):
    def cache_config(self):
        return {"class": "Interrupt"}

    def on_epoch_end(self, epoch, logs=None):
        raise KeyboardInterrupt


def test_interrupted_training_leaves_no_files(build, data, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        fit(build, data, tmp_path, callbacks=(Interrupt(),))
    assert list(tmp_path.iterdir()) == []


def test_retrain_forces_training(build, data, tmp_path, monkeypatch):
    first = fit(build, data, tmp_path)
    monkeypatch.setattr(config, "RETRAIN", True)
    again = fit(build, data, tmp_path)
    assert again.history["epoch_seconds"] != first.history["epoch_seconds"]
    assert again.history["loss"] == pytest.approx(first.history["loss"], rel=1e-4)  # same seed, same training


def test_cached_weights_leave_out_the_optimiser_state(build, data, tmp_path):
    import h5py

    fit(build, data, tmp_path, keep_weights=True)
    with h5py.File(tmp_path / "tiny.weights.h5") as f:
        assert "layers" in f and "optimizer" not in f


def test_experiment_prefixes_names_compiles_and_decays_along_a_cosine(data, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "WEIGHTS_DIR", tmp_path)
    exp = Experiment("T0", seed=3, batch_size=16, learning_rate=0.01, verbose=0)
    net = lambda: keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])  # noqa: E731
    run = exp.fit("net", net, data, data, epochs=2, cosine=True, evaluate={"test": data})
    saved = record(tmp_path, "T0_net")
    schedule = saved["parts"]["compile"]["optimizer"]["config"]["learning_rate"]["config"]
    assert schedule["decay_steps"] == 2 * 4 and schedule["initial_learning_rate"] == pytest.approx(0.01)
    assert saved["parts"]["training"]["seed"] == 3 and run.params == 34
    assert run.metrics() == {"test_accuracy": run.scores["test"]["accuracy"], "params": 34, "epochs": 2,
                             "val_accuracy": run.history["val_accuracy"][-1]}
    with pytest.raises(ValueError, match="split: expected one of the evaluated splits"):
        run.metrics("valid")
    with pytest.raises(ValueError, match="prefix: expected letters and digits"):
        Experiment("A 1")


def test_a_re_keyed_record_names_the_weights_file_it_kept(build, data, tmp_path):
    first = fit(build, data, tmp_path, keep_weights=True)
    (tmp_path / "tiny.weights.h5").rename(tmp_path / "tiny-0123456789ab.weights.h5")
    saved = record(tmp_path) | {"weights_file": "tiny-0123456789ab.weights.h5"}
    (tmp_path / "tiny.json").write_text(json.dumps(saved))
    again = fit(build, data, tmp_path, keep_weights=True)
    np.testing.assert_array_equal(again.model.get_weights()[0], first.model.get_weights()[0])
    fit(build, data, tmp_path, keep_weights=True, epochs=1)  # retrained: the new file replaces the old one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.json", "tiny.weights.h5"]


def test_metrics_report_the_epoch_early_stopping_restored(build, data, tmp_path):
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=50, restore_best_weights=True)
    run = fit(build, data, tmp_path, validation_data=data, epochs=6, callbacks=(stopper,), evaluate={"test": data})
    best = int(np.argmin(run.history["val_loss"])) + 1
    assert run.restored_epoch == best == stopper.best_epoch + 1   # Keras restores at the end even without stopping
    assert run.metrics()["val_accuracy"] == run.history["val_accuracy"][best - 1]
    again = fit(build, data, tmp_path, validation_data=data, epochs=6, callbacks=(stopper,), evaluate={"test": data})
    assert again.metrics() == run.metrics() and again.restored_epoch == best
    plain = fit(build, data, tmp_path / "plain", validation_data=data, epochs=3, evaluate={"test": data})
    assert plain.restored_epoch is None and plain.metrics()["val_accuracy"] == plain.history["val_accuracy"][-1]


def test_recorded_history_reads_another_runs_record(build, data, tmp_path):
    run = fit(build, data, tmp_path)
    assert experiment.recorded_history("tiny", tmp_path) == run.history
    with pytest.raises(ValueError, match="run the notebook that trains it first"):
        experiment.recorded_history("absent", tmp_path)


def test_kept_weights_load_without_their_training_data(build, data, tmp_path):
    x, y = data
    trained = fit(build, data, tmp_path, keep_weights=True, evaluate={"test": data})
    loaded = experiment.load_trained(build, name="tiny", weights_dir=tmp_path, evaluate={"test": data, "half": (x[:8], y[:8])})
    np.testing.assert_allclose(loaded.model.predict(x, verbose=0), trained.model.predict(x, verbose=0), atol=1e-6)
    assert loaded.history == trained.history and loaded.scores["test"] == trained.scores["test"]
    assert "half" in record(tmp_path)["evaluation"]          # a new split's score is stored with the record


def test_loading_kept_weights_refuses_a_different_model_or_a_score_only_record(build, data, tmp_path):
    fit(build, data, tmp_path, keep_weights=True)

    def wider():
        model = keras.Sequential([keras.Input(data[0].shape[1:]), keras.layers.Flatten(), keras.layers.Dense(5, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    with pytest.raises(ValueError, match="differs from the one trained: architecture"):
        experiment.load_trained(wider, name="tiny", weights_dir=tmp_path)
    fit(build, data, tmp_path / "scores", name="scores")
    with pytest.raises(ValueError, match="a score-only record"):
        experiment.load_trained(build, name="scores", weights_dir=tmp_path / "scores")
    with pytest.raises(ValueError, match="no record"):
        experiment.load_trained(build, name="absent", weights_dir=tmp_path)


def test_quick_mode_loads_kept_weights_from_the_committed_folder_not_its_scratch_cache(build, data, tmp_path, monkeypatch):
    fit(build, data, tmp_path / "weights", keep_weights=True)
    monkeypatch.setattr(config, "ROOT", tmp_path)
    monkeypatch.setenv("CNNLAB_WEIGHTS_DIR", str(tmp_path / "quick-scratch"))   # as the benchmark's fresh quick run sets it
    monkeypatch.setattr(config, "QUICK", True)
    assert experiment.load_trained(build, name="tiny").model is not None
    monkeypatch.setattr(config, "QUICK", False)   # full mode reads CNNLAB_WEIGHTS_DIR, which is empty here
    with pytest.raises(ValueError, match="no record"):
        experiment.load_trained(build, name="tiny")


def test_summarise_seeds_gives_mean_and_sample_sd_of_the_kept_epochs():
    def run(test, val, params=10):
        return experiment.Run("r", {"val_accuracy": [0.1, val], "epoch_seconds": [1, 1]}, {"test": {"accuracy": test}}, params)
    row = experiment.summarise_seeds([run(0.90, 0.80), run(0.92, 0.84), run(0.94, 0.88)])
    assert row == pytest.approx({"test_accuracy": 0.92, "test_accuracy_sd": 0.02, "val_accuracy": 0.84,
                                 "val_accuracy_sd": 0.04, "params": 10, "seeds": 3})
    unvalidated = experiment.Run("r", {"epoch_seconds": [1]}, {"test": {"accuracy": 0.5}}, 10)
    assert experiment.summarise_seeds([unvalidated]) == {"test_accuracy": 0.5, "test_accuracy_sd": 0.0, "params": 10, "seeds": 1}
    with pytest.raises(ValueError, match="same model"):
        experiment.summarise_seeds([run(0.9, 0.8), run(0.9, 0.8, params=11)])
    with pytest.raises(ValueError, match="one or more runs"):
        experiment.summarise_seeds([])
