import numpy as np
import pytest

from cnnlab.batchnorm import BatchNormProbe, moving_mean_error, with_recomputed_batchnorm
from cnnlab import quiet_tensorflow  # noqa: F401
import keras


def _bn_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.BatchNormalization(),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_recomputed_statistics_are_the_exact_ones_and_the_model_is_untouched(rng):
    model = _bn_model()
    x = rng.normal(3.0, 2.0, (200, 3)).astype(np.float32)
    before = [w.copy() for w in model.get_weights()]
    copy = with_recomputed_batchnorm(model, x, batch_size=64)
    dense_out = x @ model.layers[0].kernel.numpy() + model.layers[0].bias.numpy()
    bn = copy.layers[1]
    np.testing.assert_allclose(bn.moving_mean.numpy(), dense_out.mean(axis=0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.moving_variance.numpy(), dense_out.var(axis=0), rtol=1e-4, atol=1e-4)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    # the untouched model still normalises with mean 0 / variance 1, far from these inputs' statistics
    assert moving_mean_error(model, copy) > 0.5
    assert moving_mean_error(copy, copy) == pytest.approx(0.0, abs=1e-5)


def test_recomputed_statistics_of_conv_layers_follow_the_earlier_recomputed_layers(rng):
    model = keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Conv2D(3, 3), keras.layers.BatchNormalization(),
                              keras.layers.Conv2D(4, 3), keras.layers.BatchNormalization()])
    x = rng.normal(1.0, 3.0, (50, 6, 6, 2)).astype(np.float32)
    copy = with_recomputed_batchnorm(model, x, batch_size=16)
    first = copy.layers[0](x).numpy()
    np.testing.assert_allclose(copy.layers[1].moving_mean.numpy(), first.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(copy.layers[1].moving_variance.numpy(), first.var(axis=(0, 1, 2)), rtol=1e-4, atol=1e-4)
    second = copy.layers[2](copy.layers[1](first, training=False)).numpy()   # normalised with the recomputed statistics
    np.testing.assert_allclose(copy.layers[3].moving_mean.numpy(), second.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(copy.layers[3].moving_variance.numpy(), second.var(axis=(0, 1, 2)), rtol=1e-4, atol=1e-4)


def test_recompute_refuses_a_model_without_batchnorm_and_bad_inputs(rng):
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="without any"):
        with_recomputed_batchnorm(plain, np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match="finite batch"):
        with_recomputed_batchnorm(_bn_model(), np.full((4, 3), np.nan, np.float32))


def test_probe_records_one_value_per_epoch_and_keys_its_data(rng):
    x = rng.normal(0, 1, (64, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    probe = BatchNormProbe(x, (x[:32], y[:32]))
    history = _bn_model().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[probe])
    assert len(history.history["loss"]) == 2
    assert {k: len(v) for k, v in probe.record.items()} == {
        "val_accuracy_moving_bn": 2, "val_accuracy_recomputed_bn": 2, "bn_moving_mean_error": 2}
    assert all(0.0 <= a <= 1.0 for a in probe.record["val_accuracy_recomputed_bn"])
    assert probe.cache_config() != BatchNormProbe(x, (x[32:], y[32:])).cache_config()
