import keras
import numpy as np
import pytest
from keras import layers, ops

from cnnlab.config import seed
from cnnlab.layers import GroupPool, P4ConvP4, P4ConvZ2, P4Dense, group_bank, lifting_bank


def rot(x, k=1):
    """Rotate a batch of images or maps (n, h, w, ...) by k quarter turns counter-clockwise."""
    return np.rot90(x, k, axes=(1, 2))


def rot_p4(y, k=1):
    """The P4 action on maps (n, h, w, 4 c), rotation index fastest: rotate space, roll rotations by k."""
    n, h, w, c4 = y.shape
    moved = np.roll(rot(y.reshape(n, h, w, c4 // 4, 4), k), k, axis=-1)
    return moved.reshape(*moved.shape[:3], c4)


def run(layer_or_model, x):
    return ops.convert_to_numpy(layer_or_model(x))


@pytest.fixture(autouse=True)
def _seeded():
    seed(0)


# --- equivariance ------------------------------------------------------------------------------

EQUIVARIANT_CASES = [  # (input side, kernel_size, padding, strides)
    (9, 3, "same", 1), (8, 3, "same", 1), (8, 5, "same", 1), (8, 3, "valid", 1), (7, 4, "valid", 1),
    (9, 3, "valid", 2), (7, 3, "same", 2),
]


@pytest.mark.parametrize("side, kernel, padding, strides", EQUIVARIANT_CASES)
def test_lifting_conv_is_rotation_equivariant(rng, side, kernel, padding, strides):
    layer = P4ConvZ2(3, kernel, padding=padding, strides=strides, bias_initializer="random_normal")
    x = rng.random((2, side, side, 2), dtype=np.float32)
    y = run(layer, x)
    for k in (1, 2, 3):
        assert np.abs(run(layer, rot(x, k)) - rot_p4(y, k)).max() < 1e-4


@pytest.mark.parametrize("side, kernel, padding, strides", EQUIVARIANT_CASES)
def test_group_conv_is_rotation_equivariant(rng, side, kernel, padding, strides):
    layer = P4ConvP4(3, kernel, padding=padding, strides=strides, bias_initializer="random_normal")
    x = rng.standard_normal((2, side, side, 8), dtype=np.float32)
    y = run(layer, x)
    for k in (1, 2, 3):
        assert np.abs(run(layer, rot_p4(x, k)) - rot_p4(y, k)).max() < 1e-4


def test_filter_banks_follow_the_np_rot90_construction(rng):
    """Output rotation r = one plain correlation with the bank built by hand in numpy."""
    x = rng.random((2, 6, 6, 8), dtype=np.float32)
    lift, group = P4ConvZ2(2, 3, use_bias=False), P4ConvP4(2, 3, use_bias=False)
    y_lift, y_group = run(lift, x[..., :1]), run(group, x)
    w_lift = ops.convert_to_numpy(lift.kernel)  # (3, 3, 1, 2)
    w_group = ops.convert_to_numpy(group.kernel).reshape(3, 3, 2, 4, 2)
    for r in range(4):
        want = ops.conv(x[..., :1], np.rot90(w_lift, r).copy(), padding="same")
        np.testing.assert_allclose(y_lift[..., r::4], ops.convert_to_numpy(want), atol=1e-5)
        bank = np.roll(np.rot90(w_group, r), r, axis=3).reshape(3, 3, 8, 2)
        want = ops.conv(x, bank, padding="same")
        np.testing.assert_allclose(y_group[..., r::4], ops.convert_to_numpy(want), atol=1e-5)


def test_bank_functions_stack_the_rotated_kernels(rng):
    w = rng.standard_normal((3, 3, 2, 5)).astype(np.float32)
    bank = ops.convert_to_numpy(lifting_bank(w)).reshape(3, 3, 2, 5, 4)
    for r in range(4):
        np.testing.assert_array_equal(bank[..., r], np.rot90(w, r))
    w = rng.standard_normal((3, 3, 8, 5)).astype(np.float32)
    bank = ops.convert_to_numpy(group_bank(w)).reshape(3, 3, 2, 4, 5, 4)
    for r in range(4):
        np.testing.assert_array_equal(bank[..., r], np.roll(np.rot90(w.reshape(3, 3, 2, 4, 5), r), r, axis=3))


@pytest.mark.parametrize("fn, shape, match", [
    (lifting_bank, (3, 2, 1, 4), r"lifting_bank: expected a square kernel \(k, k, c, f\), got shape \(3, 2, 1, 4\)"),
    (lifting_bank, (3, 3, 4), "lifting_bank: expected a square kernel"),
    (group_bank, (3, 3, 6, 4), r"group_bank: expected a square kernel \(k, k, 4 c, f\), got shape \(3, 3, 6, 4\)"),
])
def test_bank_functions_reject_bad_kernels(fn, shape, match):
    with pytest.raises(ValueError, match=match):
        fn(np.zeros(shape, np.float32))


def test_bias_is_shared_by_the_four_rotations():
    layer = P4ConvZ2(2, 3, bias_initializer="random_normal")
    y = run(layer, np.zeros((1, 4, 4, 1), np.float32))
    bias = ops.convert_to_numpy(layer.bias)
    np.testing.assert_allclose(y[0, 0, 0], np.repeat(bias, 4), atol=1e-6)
    assert layer.count_params() == 9 * 2 + 2


def test_group_pool_max_and_mean_over_rotations(rng):
    y = rng.standard_normal((2, 3, 3, 8), dtype=np.float32)
    np.testing.assert_allclose(run(GroupPool("max"), y), y.reshape(2, 3, 3, 2, 4).max(-1), atol=1e-6)
    np.testing.assert_allclose(run(GroupPool("mean"), y), y.reshape(2, 3, 3, 2, 4).mean(-1), atol=1e-6)
    # pooled P4 maps are plain equivariant maps: rotate the input, the output rotates
    np.testing.assert_allclose(run(GroupPool(), rot_p4(y)), rot(y.reshape(2, 3, 3, 2, 4).max(-1)), atol=1e-6)


# --- a stack, and the even-size rule for pooling -----------------------------------------------

def p4_stack(side):
    return keras.Sequential([
        keras.Input((side, side, 1)),
        P4ConvZ2(4, 3, activation="relu", bias_initializer="random_normal"),
        P4ConvP4(4, 3, activation="relu", bias_initializer="random_normal"),
        layers.MaxPooling2D(2),
        P4ConvP4(4, 3, bias_initializer="random_normal"),
        GroupPool("max"),
        layers.GlobalMaxPooling2D(),
    ])


def test_stack_with_even_sizes_is_rotation_invariant(rng):
    model = p4_stack(8)
    x = rng.random((4, 8, 8, 1), dtype=np.float32)
    y = run(model, x)
    for k in (1, 2, 3):
        assert np.abs(run(model, rot(x, k).copy()) - y).max() < 1e-4


def test_odd_size_before_2x2_pooling_breaks_invariance(rng):
    """Keep spatial sizes even before each 2x2 pooling: 7x7 -> 3x3 drops the last row and column."""
    model = p4_stack(7)
    x = rng.random((4, 7, 7, 1), dtype=np.float32)
    assert np.abs(run(model, rot(x).copy()) - run(model, x)).max() > 1e-3


# --- P4Dense -----------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5, 12, 12), (5, 12, 12, 1), (5, 144)])
def test_p4_dense_is_the_explicit_matrix_product(rng, shape):
    layer = P4Dense(3, bias_initializer="random_normal")
    x = rng.random(shape, dtype=np.float32)
    y = run(layer, x)
    matrix = layer.explicit_matrix()
    assert y.shape == (5, 12) and matrix.shape == (144, 12) and matrix.dtype == np.float32
    want = x.reshape(5, 144) @ matrix + np.repeat(ops.convert_to_numpy(layer.bias), 4)
    assert np.abs(y - want).max() < 1e-5


def test_p4_dense_matrix_columns_are_the_rotated_filters():
    layer = P4Dense(2)
    layer.build((None, 6, 6))
    filters = ops.convert_to_numpy(layer.kernel).reshape(6, 6, 2)
    columns = layer.explicit_matrix().reshape(6, 6, 2, 4)
    for r in range(4):
        np.testing.assert_array_equal(columns[..., r], np.rot90(filters, r))


def test_p4_dense_is_a_full_image_lifting_conv(rng):
    dense, conv = P4Dense(3, bias_initializer="random_normal"), P4ConvZ2(3, 7, padding="valid")
    x = rng.random((4, 7, 7, 1), dtype=np.float32)
    y = run(dense, x)
    conv.build(x.shape)
    conv.set_weights([dense.get_weights()[0].reshape(7, 7, 1, 3), dense.get_weights()[1]])
    np.testing.assert_allclose(run(conv, x).reshape(4, 12), y, atol=1e-5)


def test_p4_dense_rotating_the_input_rolls_each_filters_outputs(rng):
    layer = P4Dense(3, bias_initializer="random_normal")
    x = rng.random((4, 10, 10), dtype=np.float32)
    y = run(layer, x).reshape(4, 3, 4)
    for k in (1, 2, 3):
        got = run(layer, rot(x, k).copy()).reshape(4, 3, 4)
        assert np.abs(got - np.roll(y, k, axis=-1)).max() < 1e-5


def test_p4_dense_parameter_count():
    layer = P4Dense(25)
    layer.build((None, 784))
    assert layer.count_params() == 25 * 784 + 25
    assert P4Dense(25, use_bias=False)(np.zeros((1, 28, 28, 1))).shape == (1, 100)


# --- saving ------------------------------------------------------------------------------------

def saved_models():
    conv = keras.Sequential([keras.Input((8, 8, 1)), P4ConvZ2(2, 3, activation="relu", name="lift"),
                             P4ConvP4(2, 3, padding="valid", use_bias=False), GroupPool("mean"), layers.Flatten()])
    dense = keras.Sequential([keras.Input((6, 6)), P4Dense(3, activation="relu", kernel_regularizer="l2"),
                              GroupPool()])
    return [conv, dense]


@pytest.mark.parametrize("index", [0, 1])
def test_models_round_trip_through_keras_and_weights_files(rng, tmp_path, index):
    model = saved_models()[index]
    for w in model.weights:  # non-zero biases too
        w.assign(rng.standard_normal(w.shape).astype(np.float32))
    x = rng.random((3, *model.input_shape[1:]), dtype=np.float32)
    want = run(model, x)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert loaded.layers[0].get_config() == model.layers[0].get_config()
    np.testing.assert_array_equal(run(loaded, x), want)
    model.save_weights(tmp_path / "m.weights.h5")
    fresh = saved_models()[index]
    fresh.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(run(fresh, x), want)


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make, match", [
    (lambda: P4ConvZ2(0, 3), "filters: expected a positive int, got 0"),
    (lambda: P4ConvZ2(2.0, 3), "filters: expected a positive int"),
    (lambda: P4ConvZ2(2, (3, 5)), "kernel_size: expected an int or a pair of equal ints"),
    (lambda: P4ConvP4(2, -1), "kernel_size: expected a positive int"),
    (lambda: P4ConvZ2(2, 3, padding="full"), "padding: expected 'same' or 'valid', got 'full'"),
    (lambda: P4ConvP4(2, 4, padding="same"), "padding: expected 'valid' for an even kernel_size"),
    (lambda: P4ConvZ2(2, 3, strides=(1, 2)), "strides: expected an int or a pair of equal ints"),
    (lambda: GroupPool("sum"), "mode: expected 'max' or 'mean', got 'sum'"),
    (lambda: P4Dense(-3), "filters: expected a positive int, got -3"),
])
def test_bad_options_are_rejected(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("layer, shape, match", [
    (P4ConvZ2(2, 3), (2, 8, 8), r"expected \(n, h, w, c\) images .* got shape \(2, 8, 8\)"),
    (P4ConvP4(2, 3), (2, 8, 8, 6), "expected a channel count divisible by 4 .* got 6"),
    (P4ConvP4(2, 5, padding="valid"), (2, 4, 4, 4), "'valid' padding needs inputs at least 5 pixels wide"),
    (GroupPool(), (2, 8, 8, 3), "divisible by 4, got shape"),
    (P4Dense(2), (2, 28, 27), "expected square single-channel images"),
    (P4Dense(2), (2, 28, 28, 3), "expected square single-channel images"),
    (P4Dense(2), (2, 780), r"flattened \(n, s \* s\), got shape \(2, 780\)"),
])
def test_bad_input_shapes_are_rejected(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer(np.zeros(shape, np.float32))


def test_explicit_matrix_needs_a_built_layer():
    with pytest.raises(ValueError, match="no weights yet"):
        P4Dense(2).explicit_matrix()
