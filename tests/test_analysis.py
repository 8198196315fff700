import numpy as np
import pytest

from cnnlab.analysis import accuracy, param_counts, predict_classes
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
