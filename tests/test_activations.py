import keras
import numpy as np
import pytest
import tensorflow as tf

from cnnlab.activations import lecun_tanh, lecun_tanh_derivative


def test_values_and_derivative_match_autodiff():
    x = tf.constant(np.linspace(-6, 6, 101), dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = lecun_tanh(x)
    np.testing.assert_allclose(y, 1.7159 * np.tanh(2 * x.numpy() / 3) + 0.01 * x.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tape.gradient(y, x), lecun_tanh_derivative(x), rtol=1e-5, atol=1e-6)
    d = np.asarray(lecun_tanh_derivative(x))
    assert d.min() > 0.01 and d.max() == pytest.approx(1.7159 * 2 / 3 + 0.01, rel=1e-5)


def test_a_model_with_the_activation_saves_and_loads_by_name(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation=lecun_tanh)])
    x = np.ones((2, 3), np.float32)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert "lecun_tanh" in model.to_json()


def test_scaled_tanh_is_lecun_without_its_linear_term():
    from cnnlab.activations import scaled_tanh

    x = np.linspace(-5, 5, 101).astype(np.float32)
    np.testing.assert_allclose(np.asarray(lecun_tanh(x)) - np.asarray(scaled_tanh(x)), 0.01 * x, rtol=1e-5, atol=1e-6)
    assert keras.saving.get_registered_object("cnnlab>scaled_tanh") is scaled_tanh
