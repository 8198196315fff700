import numpy as np
import pytest

from cnnlab import config
from cnnlab.data import cifar10


def test_the_vendored_test_split_loads_verified_in_the_original_order():
    x, y = cifar10.load_cifar10("test", limit=20)
    assert x.shape == (20, 32, 32, 3) and x.dtype == np.uint8 and y.dtype == np.int64
    # CIFAR-10's test_batch starts: cat, ship, ship, airplane, frog, frog, automobile, frog
    assert [cifar10.CLASSES[i] for i in y[:8]] == ["cat", "ship", "ship", "airplane", "frog", "frog", "automobile", "frog"]
    assert 60 < x.mean() < 200


def test_a_file_with_another_checksum_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    (tmp_path / "cifar10_test_jpeg.npz").write_bytes(b"not the course's file")
    with pytest.raises(ValueError, match="cifar10_test_jpeg.npz: expected SHA-256 840f1007bb5ac699..., got"):
        cifar10.load_cifar10("test")


def test_a_missing_split_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    monkeypatch.delenv("CNNLAB_DATA_DIR", raising=False)
    with pytest.raises(cifar10.Cifar10Unavailable, match="put it into data/ or set CNNLAB_DATA_DIR"):
        cifar10.load_cifar10("train")


@pytest.mark.parametrize("kwargs, match", [(dict(split="valid"), "split: expected 'test' or 'train'"),
                                           (dict(limit=0), "limit: expected a positive int")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cifar10.load_cifar10(**kwargs)


def test_available_tells_whether_a_split_can_be_found():
    assert cifar10.available("test")                      # vendored in data/
    with pytest.raises(ValueError, match="expected 'test' or 'train'"):
        cifar10.available("valid")
