import pytest

from cnnlab.analysis import param_counts
from cnnlab.models import compile_classifier, conv_classifier, dense_classifier


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
