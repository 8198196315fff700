import keras
import numpy as np
import pytest

from cnnlab.analysis import param_counts
from cnnlab.models import (
    average_ensemble,
    compile_classifier,
    conv_classifier,
    deep_mlp,
    dense_classifier,
    rotation_cnn,
    shallow_cnn,
    tutorial_cnn,
    zhaw_feature_head,
)


def test_average_ensemble_outputs_the_mean_of_its_members():
    members = [dense_classifier((6,), hidden=(4,)) for _ in range(3)]
    x = np.random.default_rng(0).random((5, 6)).astype("float32")
    expected = np.mean([m.predict(x, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(average_ensemble(members).predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(average_ensemble(members[:1]).predict(x, verbose=0), members[0].predict(x, verbose=0),
                               rtol=1e-6)


@pytest.mark.parametrize("members, match", [([], "one or more"), (["model"], "one or more"),
                                            ([dense_classifier((6,)), dense_classifier((7,))], "one input shape")])
def test_average_ensemble_rejects_bad_members(members, match):
    with pytest.raises(ValueError, match=match):
        average_ensemble(members)


def test_dense_classifier_parameter_count():
    model = dense_classifier((28, 28, 1), hidden=(100,))
    assert param_counts(model)["total"] == 784 * 100 + 100 + 100 * 10 + 10


def test_conv_classifier_blocks_and_heads():
    model = conv_classifier((50, 50, 1), filters=(4, 8), kernel_size=3, head="flatten")
    # conv 3x3x1x4 + 4, pool to 25x25, conv 3x3x4x8 + 8, flatten 25*25*8 -> 10
    assert param_counts(model)["total"] == (9 * 4 + 4) + (9 * 4 * 8 + 8) + (25 * 25 * 8 * 10 + 10)
    pooled = conv_classifier((50, 50, 1), filters=(4, 8), head="global_max", batchnorm=True, downsample="stride")
    counts = param_counts(pooled)
    assert counts["non_trainable"] == 2 * (4 + 8)  # BatchNorm moving mean and variance
    assert pooled.output_shape == (None, 10)


def test_compile_classifier_compiles():
    assert compile_classifier(dense_classifier((4,), hidden=())).compiled


def test_compile_classifier_decays_the_learning_rate_to_zero():
    model = compile_classifier(dense_classifier((4,), hidden=()), 1e-3, decay_steps=100)
    schedule = model.optimizer.learning_rate if callable(model.optimizer.learning_rate) else model.optimizer._learning_rate
    assert float(schedule(0)) == pytest.approx(1e-3) and float(schedule(100)) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="decay_steps: expected a positive int"):
        compile_classifier(dense_classifier((4,), hidden=()), decay_steps=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(input_shape=(28, 28.0, 1)), "input_shape: expected a tuple of positive ints"),
    (dict(input_shape=(8, 8, 1), downsample="avg"), "downsample: expected 'maxpool' or 'stride'"),
    (dict(input_shape=(8, 8, 1), head="mean"), "head: expected 'flatten' or 'global_max'"),
    (dict(input_shape=(8, 8, 1), dropout=1.0), "filters, dropout"),
])
def test_conv_classifier_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        conv_classifier(**kwargs)


def test_dense_classifier_rejects_bad_dropout():
    with pytest.raises(ValueError, match="dropout: expected a rate"):
        dense_classifier((4,), dropout=-0.1)


def test_p4_cnn_is_invariant_to_quarter_turns_and_matches_the_plain_cnn_in_size():
    import numpy as np

    from cnnlab.data.transforms import rot90

    p4 = rotation_cnn(channels=4, head_channels=6)
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    reference = p4.predict(x, verbose=0)
    for k in (1, 2, 3):
        np.testing.assert_allclose(p4.predict(rot90(x, k), verbose=0), reference, atol=1e-5)
    plain = rotation_cnn(channels=8, head_channels=12, p4=False)
    assert abs(param_counts(plain)["total"] / param_counts(p4)["total"] - 1) < 0.1
    plain_out = plain.predict(x, verbose=0)
    assert np.abs(plain.predict(rot90(x, 1), verbose=0) - plain_out).max() > 1e-4  # not invariant by design


def test_rotation_cnn_rejects_bad_channels():
    with pytest.raises(ValueError, match="channels: expected a positive int"):
        rotation_cnn(channels=0)
    with pytest.raises(ValueError, match="head_channels: expected a positive int, got 2.5"):
        rotation_cnn(head_channels=2.5)


def test_feature_head_matches_the_sheets_summary_on_fc1_features():
    counts = param_counts(zhaw_feature_head(4096, 8))
    assert counts["total"] == 1_805_608 and counts["non_trainable"] == 1_600
    with pytest.raises(ValueError, match="n_features: expected a positive int"):
        zhaw_feature_head(0)


def test_deep_mlp_has_depth_hidden_layers_of_32_units():
    model = deep_mlp(depth=5)
    assert param_counts(model)["total"] == 784 * 32 + 32 + 4 * (32 * 32 + 32) + 32 * 10 + 10
    assert len([layer for layer in model.layers if hasattr(layer, "kernel")]) == 6
    with pytest.raises(ValueError, match="depth: expected a positive int"):
        deep_mlp(depth=0)


def test_svhn_cnn_and_digit_cnn_sizes():
    from cnnlab.models import digit_cnn, svhn_cnn

    model = svhn_cnn()
    assert param_counts(model)["total"] == (27 * 9 + 9) + (81 * 36 + 36) + (324 * 49 + 49) + (49 * 10 + 10)
    assert model.get_layer("pool3").output.shape[1:] == (1, 1, 49)
    assert param_counts(digit_cnn())["non_trainable"] == 2 * (32 + 32 + 64)


def test_tutorial_cnn_has_the_sheet_b_parameter_count_and_a_linear_twin():
    original, linear = tutorial_cnn(dropout=0.5), tutorial_cnn(linear=True)
    assert original.count_params() == linear.count_params() == 3_274_634
    kinds = {type(layer).__name__ for layer in linear.layers}
    assert "MaxPooling2D" not in kinds and "AveragePooling2D" in kinds
    assert all(layer.activation.__name__ == "linear" for layer in linear.layers[:-1] if hasattr(layer, "activation"))
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    scores = keras.Model(linear.inputs, linear.layers[-1].input)  # features feeding the softmax: linear in x
    zero = scores.predict(np.zeros_like(x), verbose=0)
    np.testing.assert_allclose(scores.predict(2 * x, verbose=0) - zero, 2 * (scores.predict(x, verbose=0) - zero), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("filters, kernel, strides, pool, expected", [
    (3, 5, 1, 6, 3 * 26 + 4 * 4 * 3 * 10 + 10),   # 24x24 -> pooled 4x4
    (2, 4, 3, 1, 2 * 17 + 9 * 9 * 2 * 10 + 10),    # stride 3: (28 - 4) // 3 + 1 = 9
])
def test_shallow_cnn_parameter_count_follows_the_formula(filters, kernel, strides, pool, expected):
    assert shallow_cnn(filters=filters, kernel_size=kernel, strides=strides, pool=pool).count_params() == expected
