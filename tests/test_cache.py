import numpy as np
import pytest

from cnnlab.cache import cache_path, cached_arrays


def test_arrays_are_computed_once_then_loaded(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"features": np.arange(6.0).reshape(2, 3)}

    path = tmp_path / "f-abc.npz"
    first = cached_arrays(path, compute)
    second = cached_arrays(path, compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(first["features"], second["features"])


def test_a_corrupt_cache_is_reported_and_recomputed(tmp_path, capsys):
    path = tmp_path / "f.npz"
    path.write_bytes(b"PK\x03\x04 truncated")
    arrays = cached_arrays(path, lambda: {"x": np.ones(3)})
    assert "cached file unusable" in capsys.readouterr().out
    np.testing.assert_array_equal(cached_arrays(path, lambda: {"x": np.zeros(3)})["x"], np.ones(3))
    assert arrays["x"].sum() == 3


def test_interrupted_computation_leaves_no_file(tmp_path):
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cached_arrays(tmp_path / "f.npz", interrupted)
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="path: expected a .npz file"):
        cached_arrays(tmp_path / "f.npy", dict)
    with pytest.raises(ValueError, match="compute: expected a non-empty dict"):
        cached_arrays(tmp_path / "f.npz", dict)
    assert cache_path("vgg", "k1").name == "vgg-k1.npz"
