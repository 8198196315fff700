import numpy as np
import pytest

from cnnlab.experiment import fit_or_load
from cnnlab.models import compile_classifier, dense_classifier
from cnnlab.train import canonical_json, fingerprint


def test_model_text_is_stable_across_auto_numbered_names(build):
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


def test_iteration_log_records_every_n_steps_and_stops_at_the_limit(build, data, tmp_path):
    from cnnlab.train import IterationLog

    log = IterationLog(data, data, every=3, stop_at=7)
    run = fit_or_load(build, data, name="tiny", epochs=5, batch_size=8, callbacks=(log,), verbose=0, weights_dir=tmp_path)
    model, history = run.model, run.history  # 8 steps per epoch
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



def test_a_key_or_value_equal_to_a_layer_name_is_not_renamed():
    """The first Activation layer is auto-named "activation", like the config key of every Dense layer: the
    text of a model must not depend on which layers a session happened to build first."""
    import keras

    def model():
        return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="relu"), keras.layers.Activation("softmax")])

    keras.backend.clear_session()
    first = canonical_json(model().to_json())   # its Activation layer is named "activation"
    second = canonical_json(model().to_json())  # "activation_1"
    assert first == second and '"activation": "relu"' in first


def test_stays_above_finds_the_last_crossing_not_the_first():
    from cnnlab.train import stays_above
    h = {"iterations": [0, 250, 500, 750, 1000], "train_seconds": [0, 1, 2, 3, 4], "val_accuracy": [0.1, 0.96, 0.94, 0.95, 0.97]}
    assert stays_above(h, 0.95) == {"iterations": 750, "seconds": 3.0}
    assert stays_above(h | {"val_accuracy": [0.96] * 5}, 0.95) == {"iterations": 0, "seconds": 0.0}
    assert stays_above(h | {"val_accuracy": [0.96, 0.97, 0.98, 0.99, 0.9]}, 0.95) is None
    with pytest.raises(ValueError, match="expected 'iterations'"):
        stays_above({"val_accuracy": [1.0]}, 0.95)


def test_iteration_log_can_name_its_second_set_validation(data):
    from cnnlab.train import IterationLog

    plain, val = IterationLog(data, data, every=3), IterationLog(data, data, every=3, test_name="val")
    assert "test_name" not in plain.cache_config()   # existing keys unchanged
    assert val.cache_config() == plain.cache_config() | {"test_name": "val"}
    with pytest.raises(ValueError, match="test_name"):
        IterationLog(data, data, test_name="validation")


def test_iteration_log_records_the_extra_sets_beside_test(build, data, tmp_path):
    from cnnlab.train import IterationLog

    x, y = data
    flipped = (x[:, ::-1].copy(), y)
    log = IterationLog(data, data, every=3, stop_at=7, also={"flipped": flipped})
    run = fit_or_load(build, data, name="tiny", epochs=5, batch_size=8, callbacks=(log,), verbose=0, weights_dir=tmp_path)
    assert len(run.history["flipped_accuracy"]) == len(run.history["iterations"]) == 4
    final = float(np.mean(run.model.predict(flipped[0], verbose=0).argmax(1) == y))
    assert run.history["flipped_accuracy"][-1] == pytest.approx(final)
    assert IterationLog(data, data).cache_config() | {"also": log.cache_config()["also"]} == \
        IterationLog(data, data, also={"flipped": flipped}).cache_config()
    assert log.cache_config()["also"] != IterationLog(data, data, also={"flipped": data}).cache_config()["also"]
    for bad in ({"test": data}, {"Flipped": data}, {"train": data}):
        with pytest.raises(ValueError, match="also"):
            IterationLog(data, data, also=bad)
