import numpy as np
import pytest

from cnnlab.analysis import (
    GradientProbe,
    accuracy,
    activation_model,
    edge_images,
    gradient_angles,
    max_abs_gradients,
    mean_activations,
    misclassified,
    model_metrics,
    param_counts,
    predict_classes,
    stroke_images,
)
from cnnlab.models import dense_classifier


def test_predict_classes_returns_labels_and_probabilities():
    model = dense_classifier((3,), hidden=(), n_classes=4)
    labels, probs = predict_classes(model, np.eye(3, dtype=np.float32))
    assert probs.shape == (3, 4) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(labels, probs.argmax(axis=1))


def test_param_counts_split_trainable():
    counts = param_counts(dense_classifier((3,), hidden=(2,), n_classes=2))
    assert counts == {"total": 3 * 2 + 2 + 2 * 2 + 2, "trainable": 14, "non_trainable": 0}


def test_accuracy():
    assert accuracy([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75
    with pytest.raises(ValueError, match="expected equal non-empty"):
        accuracy([1, 2], [1])


def test_model_metrics_reads_history_and_evaluates():
    model = dense_classifier((3,), hidden=(), n_classes=3)
    x = np.eye(3, dtype=np.float32)
    labels, _ = predict_classes(model, x)
    row = model_metrics(model, {"epoch_seconds": [1.0, 2.5], "val_accuracy": [0.2, 0.4]}, x, labels)
    assert row == {"test_accuracy": 1.0, "params": 12, "epochs": 2, "val_accuracy": 0.4}  # no timings in results


def test_misclassified_ranks_confident_mistakes_first():
    probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.7, 0.3]])
    assert misclassified([0, 0, 0, 1], probs).tolist() == [2, 3, 1]
    with pytest.raises(ValueError, match="expected \\(n,\\) and \\(n, classes\\)"):
        misclassified([0, 1], probs)


def small_cnn():
    import keras

    return keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="conv"),
                             keras.layers.Flatten(name="flat"), keras.layers.Dense(3, name="out")])


def test_activation_model_outputs_the_named_layers():
    model = small_cnn()
    acts = activation_model(model, ["conv", "out"])
    conv, out = acts.predict(np.ones((2, 6, 6, 1), np.float32), verbose=0)
    assert conv.shape == (2, 4, 4, 2) and out.shape == (2, 3)
    np.testing.assert_allclose(out, model.predict(np.ones((2, 6, 6, 1), np.float32), verbose=0), rtol=1e-6)
    with pytest.raises(ValueError, match="unknown \\['nope'\\]"):
        activation_model(model, ["conv", "nope"])


def test_mean_activations_overall_and_per_class():
    acts = activation_model(small_cnn(), ["conv", "out"])
    x = np.random.default_rng(0).random((10, 6, 6, 1), dtype=np.float32)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 2])
    full = acts.predict(x, verbose=0)
    overall = mean_activations(acts, x, batch_size=3)
    np.testing.assert_allclose(overall[0], full[0].mean(axis=0), rtol=1e-5, atol=1e-6)
    per_class = mean_activations(acts, x, y, batch_size=4)
    assert per_class[1].shape == (3, 3)
    np.testing.assert_allclose(per_class[1][2], full[1][y == 2].mean(axis=0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="y: expected \\(10,\\) non-negative integer labels"):
        mean_activations(acts, x, y[:5])


def test_stroke_images_draw_oriented_bars():
    horizontal, vertical, diagonal = stroke_images([0, 90, 45], size=15, width=1.0, length=9.0)
    assert horizontal[7, 3:12].min() == 1.0 and horizontal[2].max() == 0.0     # the middle row
    np.testing.assert_allclose(vertical, horizontal.T, atol=1e-6)
    assert diagonal[7, 7] == 1.0 and diagonal[4, 10] > 0.5 and diagonal[4, 4] == 0.0  # up and to the right
    assert diagonal.min() >= 0.0 and diagonal.max() <= 1.0


def test_stroke_images_reject_bad_arguments():
    with pytest.raises(ValueError, match="angles_deg: expected a finite number"):
        stroke_images([np.nan])
    with pytest.raises(ValueError, match="size, width, length"):
        stroke_images([0], width=0)


def test_max_abs_gradients_match_a_hand_computed_softmax_regression():
    import keras

    from cnnlab.models import compile_classifier

    model = compile_classifier(keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax",
                                                                                          kernel_initializer="zeros")]))
    x, y = np.array([[1.0, 2.0]], np.float32), np.array([0])
    # zero weights: p = (0.5, 0.5); dL/dW = x^T (p - onehot) = [[-0.5, 0.5], [-1, 1]]
    assert max_abs_gradients(model, x, y) == pytest.approx([1.0])


def test_gradient_probe_records_before_and_after_epochs():
    from cnnlab.models import compile_classifier
    from cnnlab.train import train

    model = compile_classifier(dense_classifier((3,), hidden=(4, 4), n_classes=2))
    x, y = np.random.default_rng(0).random((16, 3), dtype=np.float32), np.arange(16) % 2
    history = train(model, (x, y), epochs=2, batch_size=8, callbacks=(GradientProbe(x[:8], y[:8], epochs=(0, 2)),), verbose=0)
    assert len(history["max_grad_epoch0"]) == 3 and len(history["max_grad_epoch2"]) == 3
    assert "max_grad_epoch1" not in history


def test_edge_images_brighten_in_the_given_direction():
    right, up = edge_images([0, 90], size=9, softness=1.0)
    assert right[4, 0] == 0.0 and right[4, 8] == 1.0 and np.allclose(right[0], right[8])
    assert up[0, 4] == 1.0 and up[8, 4] == 0.0


def test_gradient_angles_recover_the_edge_direction():
    angles = [0, 45, 90, 200, 300]
    direction, magnitude = gradient_angles(edge_images(angles, size=21, softness=4.0))
    np.testing.assert_allclose(direction[:, 10, 10], angles, atol=1e-6)
    assert magnitude[:, 10, 10].min() > 0
    with pytest.raises(ValueError, match="images: expected"):
        gradient_angles(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="size, softness"):
        edge_images([0], softness=0)
