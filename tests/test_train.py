import json

import keras
import numpy as np
import pytest

from cnnlab.models import compile_classifier, dense_classifier
from cnnlab.train import canonical_json, fingerprint, fit_or_load, load_or_train_model


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.random((64, 4, 4, 1), dtype=np.float32)
    return x, (x.sum(axis=(1, 2, 3)) > 8).astype(np.int64)


def build():
    return compile_classifier(dense_classifier((4, 4, 1), hidden=(8,), n_classes=2))


def fit(data, tmp_path, **kwargs):
    args = dict(name="tiny", epochs=2, batch_size=16, verbose=0, weights_dir=tmp_path) | kwargs
    return fit_or_load(build, data, **args)


def files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_first_call_trains_and_caches_second_loads(data, tmp_path):
    model, history = fit(data, tmp_path)
    assert len(history["loss"]) == 2 and len(history["epoch_seconds"]) == 2
    names = files(tmp_path)
    assert len(names) == 2 and names[0].endswith(".history.json") and names[1].endswith(".weights.h5")
    again, cached = fit(data, tmp_path, verbose=1)
    assert cached == history
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_loading_reports_itself(data, tmp_path, capsys):
    fit(data, tmp_path)
    fit(data, tmp_path, verbose=1)
    assert "tiny: loaded cached weights" in capsys.readouterr().out


def test_key_changes_with_data_training_arguments_and_seed(data, tmp_path):
    x, y = data
    fit(data, tmp_path)
    fit((x, 1 - y), tmp_path)
    fit(data, tmp_path, epochs=1)
    fit(data, tmp_path, seed=1)
    assert len(files(tmp_path)) == 8


def test_model_text_is_stable_across_auto_numbered_names():
    first, second = build(), build()
    assert first.layers[-1].name != second.layers[-1].name
    assert canonical_json(first.to_json()) == canonical_json(second.to_json())
    assert canonical_json(first.get_compile_config()) == canonical_json(second.get_compile_config())
    other = compile_classifier(dense_classifier((4, 4, 1), hidden=(9,), n_classes=2))
    assert canonical_json(other.to_json()) != canonical_json(first.to_json())


def test_fingerprint_sees_one_changed_value(data):
    x, y = data
    changed = x.copy()
    changed[3, 1, 1, 0] += 1e-3
    assert fingerprint(x, y) != fingerprint(changed, y)
    assert fingerprint(x, y) == fingerprint(x.copy(), y.copy())


def test_corrupt_weights_are_reported_and_retrained(data, tmp_path, capsys):
    _, history = fit(data, tmp_path)
    weights = next(tmp_path.glob("*.weights.h5"))
    weights.write_bytes(weights.read_bytes()[:100])
    _, again = fit(data, tmp_path)
    assert "cached file unusable" in capsys.readouterr().out
    assert again["loss"] == pytest.approx(history["loss"], rel=1e-4)  # same seed, same training
    fit(data, tmp_path)  # the rebuilt file loads
    assert "unusable" not in capsys.readouterr().out


def test_retrain_forces_training(data, tmp_path):
    _, history = fit(data, tmp_path)
    _, again = fit(data, tmp_path, retrain=True)
    assert again["epoch_seconds"] != history["epoch_seconds"]


class Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise KeyboardInterrupt


def test_interrupted_training_leaves_no_files(data, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        fit(data, tmp_path, callbacks=(Interrupt(),))
    assert files(tmp_path) == []
    _, history = fit(data, tmp_path)
    assert len(history["loss"]) == 2


def test_data_key_stands_for_the_float_bytes_but_not_for_labels_or_shapes(data, tmp_path):
    x, y = data
    fit(data, tmp_path, data_key="recipe v1")
    fit((x + 1e-7, y), tmp_path, data_key="recipe v1")            # last-bit differences: same key, loaded
    assert len(files(tmp_path)) == 2
    fit((x, 1 - y), tmp_path, data_key="recipe v1")               # other labels
    fit((x[:32], y[:32]), tmp_path, data_key="recipe v1")         # other shape
    fit(data, tmp_path, data_key="recipe v2")                     # other recipe
    assert len(files(tmp_path)) == 8


def test_history_file_records_the_training_arguments(data, tmp_path):
    fit(data, tmp_path, validation_data=data)
    record = json.loads(next(tmp_path.glob("*.history.json")).read_text())
    assert record["training"] == {"epochs": 2, "batch_size": 16, "seed": 0, "callbacks": []}
    assert "val_accuracy" in record["history"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="a b"), "name: expected letters"),
    (dict(epochs=0), "epochs: expected a positive int"),
    (dict(batch_size=2.5), "batch_size: expected a positive int"),
    (dict(validation_data=(np.zeros((3, 4, 4, 1)), np.zeros(2))), "validation_data: x and y need the same"),
    (dict(data_key=" "), "data_key: expected a non-empty string"),
])
def test_bad_arguments_are_rejected(data, tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit(data, tmp_path, **kwargs)


def test_an_uncompiled_model_is_rejected(data, tmp_path):
    with pytest.raises(ValueError, match="build_fn: expected a function returning a compiled"):
        fit_or_load(lambda: dense_classifier((4, 4, 1)), data, name="x", epochs=1, batch_size=8, weights_dir=tmp_path)


def test_saved_model_is_trained_once_then_loaded(data, tmp_path, capsys):
    path = tmp_path / "lecture.keras"
    model, history = load_or_train_model(path, build, data, epochs=2, batch_size=16, verbose=0)
    assert path.exists() and (tmp_path / "lecture.history.json").exists()
    again, cached = load_or_train_model(path, build, data, epochs=2, batch_size=16, verbose=1)
    assert cached == history and "loaded lecture.keras" in capsys.readouterr().out
    np.testing.assert_array_equal(model.predict(data[0], verbose=0), again.predict(data[0], verbose=0))


def test_unreadable_saved_model_is_trained_again(data, tmp_path, capsys):
    path = tmp_path / "lecture.keras"
    load_or_train_model(path, build, data, epochs=1, batch_size=16, verbose=0)
    path.write_bytes(b"garbage")
    load_or_train_model(path, build, data, epochs=1, batch_size=16, verbose=0)
    assert "lecture.keras: unusable" in capsys.readouterr().out
    keras.models.load_model(path)


def test_saved_model_needs_a_keras_suffix(data, tmp_path):
    with pytest.raises(ValueError, match="path: expected a .keras file"):
        load_or_train_model(tmp_path / "m.h5", build, data, epochs=1, batch_size=16)


def test_cached_weights_leave_out_the_optimiser_state(data, tmp_path):
    import h5py

    fit(data, tmp_path)
    (weights,) = tmp_path.glob("*.weights.h5")
    with h5py.File(weights) as f:
        assert "layers" in f and "optimizer" not in f


def test_iteration_log_records_every_n_steps_and_stops_at_the_limit(data, tmp_path):
    from cnnlab.train import IterationLog

    log = IterationLog(data, data, every=3, stop_at=7)
    model, history = fit(data, tmp_path, epochs=5, batch_size=8, callbacks=(log,))  # 8 steps per epoch
    assert history["iterations"] == [0, 3, 6, 7] and len(history["loss"]) == 1
    assert len(history["test_accuracy"]) == 4 and all(0 <= a <= 1 for a in history["train_accuracy"])
    assert history["train_seconds"][0] == 0 and np.all(np.diff(history["train_seconds"]) > 0)
    probs = model.predict(data[0], verbose=0)
    assert history["test_accuracy"][-1] == pytest.approx(float(np.mean(probs.argmax(1) == data[1])))
    expected_loss = -np.mean(np.log(probs[np.arange(len(data[1])), data[1]]))
    assert len(history["train_loss"]) == 4 and history["train_loss"][-1] == pytest.approx(expected_loss, rel=1e-4)


def test_cross_entropy_is_minus_mean_log_probability_of_the_true_class():
    from cnnlab.train import cross_entropy

    probs = np.array([[0.5, 0.5], [0.9, 0.1], [0.0, 1.0]])
    assert cross_entropy(probs, np.array([0, 0, 0])) == pytest.approx(-(np.log(0.5) + np.log(0.9) + np.log(1e-7)) / 3)
    with pytest.raises(ValueError, match="integer labels"):
        cross_entropy(probs, np.array([0.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match=r"\(n, k\) probabilities"):
        cross_entropy(probs[:2], np.array([0, 1, 1]))


def test_iteration_log_settings_enter_the_cache_key(data, tmp_path):
    from cnnlab.train import IterationLog

    fit(data, tmp_path, callbacks=(IterationLog(data, data, every=2),))
    fit(data, tmp_path, callbacks=(IterationLog(data, data, every=3),))
    assert len(list(tmp_path.glob("*.weights.h5"))) == 2


@pytest.mark.parametrize("kwargs, match", [({"every": 0}, "every: expected a positive int"),
                                           ({"stop_at": -1}, "stop_at: expected a positive int")])
def test_iteration_log_rejects_bad_settings(data, kwargs, match):
    from cnnlab.train import IterationLog

    with pytest.raises(ValueError, match=match):
        IterationLog(data, data, **kwargs)


def test_first_reaching_finds_the_first_logged_step_over_the_threshold():
    from cnnlab.train import first_reaching

    history = {"iterations": [0, 10, 20, 30], "train_seconds": [0, 1.5, 3.0, 4.5], "test_accuracy": [0.1, 0.9, 0.96, 0.94]}
    assert first_reaching(history, 0.95) == {"iterations": 20, "seconds": 3.0}
    assert first_reaching(history, 0.99) is None
    with pytest.raises(ValueError, match="expected 'iterations'"):
        first_reaching({"loss": [1.0]}, 0.5)
