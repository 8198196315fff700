import numpy as np
import pytest

from cnnlab.analysis import (
    GradientProbe,
    accuracy,
    activation_model,
    dead_units,
    edge_images,
    grating_images,
    hue_colours,
    max_abs_gradients,
    mean_activations,
    misclassified,
    model_metrics,
    param_counts,
    predict_classes,
    receptive_field,
    top_patches,
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


def test_gratings_vary_along_their_angle_with_their_period():
    g = grating_images([0, 90], [4], size=9)                  # (2, 9, 9)
    assert g.shape == (2, 9, 9) and g.min() >= 0 and g.max() <= 1
    np.testing.assert_allclose(g[0], g[0][:1].repeat(9, axis=0))          # 0 deg: constant down each column
    np.testing.assert_allclose(g[0][:, :-4], g[0][:, 4:], atol=1e-6)       # period 4 along the row
    np.testing.assert_allclose(g[1], g[0].T, atol=1e-6)                    # 90 deg: the same, turned
    with pytest.raises(ValueError, match="at least 2 pixels"):
        grating_images([0], [1])


def test_hue_colours_start_at_red_and_are_saturated():
    c = hue_colours(6)
    np.testing.assert_allclose(c, [[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 1, 1], [0, 0, 1], [1, 0, 1]])
    assert np.allclose(c.max(axis=1), 1) and np.allclose(c.min(axis=1), 0)


def test_receptive_field_walks_convolutions_and_pooling():
    import keras
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(2, 3, padding="same", name="a"),
                              keras.layers.Conv2D(2, 3, name="b"), keras.layers.MaxPooling2D(name="p"),
                              keras.layers.Conv2D(2, 3, padding="same", name="c"), keras.layers.Conv2D(2, 3, name="d")])
    assert receptive_field(model, "a") == (3, 1, -1)
    assert receptive_field(model, "b") == (5, 1, -1)
    assert receptive_field(model, "p") == (6, 2, -1)
    assert receptive_field(model, "d") == (14, 2, -3)
    with pytest.raises(ValueError, match="got 'e'"):
        receptive_field(model, "e")


def test_top_patches_cut_the_window_under_each_peak_strongest_first():
    images = np.zeros((3, 6, 6), np.float32)
    images[0, 2, 3], images[2, 4, 1] = 5, 9
    maps = images.copy()                                   # an identity "filter": field (1, 1, 0) ... widened to 3
    patches, index, value = top_patches(maps, images, (3, 1, -1), n=2)
    assert index.tolist() == [2, 0] and value.tolist() == [9, 5]
    assert patches.shape == (2, 3, 3) and patches[0, 1, 1] == 9 and patches[1, 1, 1] == 5
    corner = np.zeros((1, 6, 6), np.float32)
    corner[0, 0, 0] = 1
    patch, _, _ = top_patches(corner, corner, (3, 1, -1), n=1)
    assert patch[0, 1, 1] == 1 and patch[0, 0].sum() == 0    # outside the image: zeros
    with pytest.raises(ValueError, match="same N"):
        top_patches(maps[:2], images, (3, 1, -1))


def test_strongest_images_leave_out_images_where_the_filter_does_not_fire():
    from cnnlab.analysis import strongest_images
    peaks = np.array([0.0, 2.0, 0.0, 5.0, 2.0, -1.0])
    assert strongest_images(peaks, 10).tolist() == [3, 1, 4]      # ties in image order; zeros and negatives out
    assert strongest_images(peaks, 2).tolist() == [3, 1]
    _, index, value = top_patches(np.zeros((3, 4, 4)) + np.array([0, 1, 0])[:, None, None], np.zeros((3, 4, 4)), (1, 1, 0), n=3)
    assert index.tolist() == [1, 0, 2] and value.tolist() == [1, 0, 0]   # the firing image, then the rest in order
    assert top_patches(np.zeros((2, 4, 4)), np.zeros((2, 4, 4)), (1, 1, 0), n=2)[1].tolist() == [0, 1]
    with pytest.raises(ValueError, match="positive int"):
        strongest_images(peaks, 0)


def test_dead_units_are_those_that_never_fire():
    import keras
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="relu")])
    model.layers[0].set_weights([np.array([[1.0, -1.0, 0.0], [1.0, -1.0, 0.0]]), np.zeros(3)])
    dead, = dead_units(model, np.random.default_rng(0).random((10, 2)), batch_size=4)
    assert dead.tolist() == [False, True, True]


def test_mean_sd_is_the_sample_sd_and_zero_for_one_run():
    from cnnlab.analysis import mean_sd
    assert mean_sd([0.9, 0.92, 0.94]) == pytest.approx((0.92, 0.02))
    assert mean_sd([0.5]) == (0.5, 0.0)
    with pytest.raises(ValueError, match="finite numbers"):
        mean_sd([])
