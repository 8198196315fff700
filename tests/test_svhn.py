from pathlib import Path

import numpy as np
import pytest
import scipy.io

from cnnlab import config
from cnnlab.data import svhn as svhn_module
from cnnlab.data import svhn_stand_in
from cnnlab.data.svhn import SvhnFileError, find_local, load_svhn, read_mat
from cnnlab.data.svhn_stand_in import generate, load_stand_in
from cnnlab.fileio import md5_file


def _write_mat(path, n, seed):
    """A small file in the official layout: X (32, 32, 3, n) uint8, y (n, 1) uint8 with 10 for digit 0."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    digits = np.arange(n) % 10
    scipy.io.savemat(path, {"X": x.transpose(1, 2, 3, 0), "y": np.where(digits == 0, 10, digits).astype(np.uint8)[:, None]})
    return x, digits


@pytest.fixture
def data_dirs(tmp_path, monkeypatch):
    """An empty data/ and an empty CNNLAB_DATA_DIR folder; downloads fail at once."""
    data, extra = tmp_path / "data", tmp_path / "extra"
    data.mkdir()
    extra.mkdir()
    monkeypatch.setattr(config, "DATA_DIR", data)
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(extra))

    def offline(name):
        raise Exception(f"URL fetch failure on {svhn_module.URL}{name}: -2 -- Name or service not known (test)")

    monkeypatch.setattr(svhn_module, "_download", offline)
    return data, extra


@pytest.fixture
def small_stand_in(monkeypatch):
    monkeypatch.setattr(svhn_stand_in, "SIZES", (60, 30))


@pytest.fixture
def official_files(data_dirs, monkeypatch):
    """Small train / test files in CNNLAB_DATA_DIR, with their MD5s patched in as the official ones."""
    _, extra = data_dirs
    arrays = {}
    for name, n, seed in (("train_32x32.mat", 23, 1), ("test_32x32.mat", 12, 2)):
        arrays[name] = _write_mat(extra / name, n, seed)
        monkeypatch.setitem(svhn_module.MD5, name, md5_file(extra / name))
    return arrays


def test_official_layout_is_read_with_label_10_as_digit_0(official_files, data_dirs, capsys):
    (x_train, y_train), (x_test, y_test), info = load_svhn()
    assert x_train.shape == (23, 32, 32, 3) and x_test.shape == (12, 32, 32, 3)
    assert y_train.shape == (23,) and y_test.shape == (12,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    np.testing.assert_array_equal(x_train, official_files["train_32x32.mat"][0])  # (n, 32, 32, 3) image order
    np.testing.assert_array_equal(y_train, official_files["train_32x32.mat"][1])
    assert y_test[0] == 0 and set(y_test.tolist()) == set(range(10))
    assert info.stand_in is False and "MD5-verified" in info.source and info.recipe is None
    assert "$CNNLAB_DATA_DIR/train_32x32.mat" in info.source and str(data_dirs[1]) not in info.source
    assert "STAND-IN" not in capsys.readouterr().out


def test_wrong_md5_is_refused_and_never_used(official_files, data_dirs, capsys, small_stand_in):
    data, extra = data_dirs
    _write_mat(data / "train_32x32.mat", 5, seed=9)  # data/ is searched first: a different file
    path, reasons = find_local("train_32x32.mat")
    assert path == extra / "train_32x32.mat"  # the refused copy is skipped, the verified one found
    out = capsys.readouterr().out
    assert "refusing data/train_32x32.mat" in out and "data/train_32x32.mat refused (MD5" in reasons[0]
    assert str(data) not in out + reasons[0]
    (extra / "train_32x32.mat").unlink()
    (x_train, _), _, info = load_svhn()
    assert info.stand_in and x_train.shape == (60, 32, 32, 3)
    with pytest.raises(SvhnFileError, match="MD5"):
        read_mat(data / "train_32x32.mat", md5=svhn_module.MD5["train_32x32.mat"])


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        (np.zeros((28, 28, 3, 4), np.uint8), np.ones((4, 1), np.uint8), "X of shape"),
        (np.zeros((32, 32, 3, 4), np.float64), np.ones((4, 1), np.uint8), "X of shape"),
        (np.zeros((32, 32, 3, 4), np.uint8), np.ones((3, 1), np.uint8), "y of shape"),
        (np.zeros((32, 32, 3, 4), np.uint8), np.zeros((4, 1), np.uint8), "labels 1..10"),
    ],
)
def test_bad_layouts_are_refused(tmp_path, x, y, match):
    path = tmp_path / "bad.mat"
    scipy.io.savemat(path, {"X": x, "y": y})
    with pytest.raises(SvhnFileError, match=match):
        read_mat(path)


def test_unreadable_file_and_bad_name(tmp_path):
    path = tmp_path / "train_32x32.mat"
    path.write_bytes(b"MATLAB 5.0 truncated")
    with pytest.raises(SvhnFileError, match="unreadable"):
        read_mat(path)
    with pytest.raises(FileNotFoundError):
        read_mat(tmp_path / "missing.mat")
    with pytest.raises(ValueError, match="name: expected one of"):
        find_local("extra_32x32.mat")


def test_offline_fallback_is_loud_and_flagged(data_dirs, small_stand_in, capsys):
    (x_train, y_train), (x_test, y_test), info = load_svhn(verbose=False)
    out = capsys.readouterr().out
    assert "*** STAND-IN DATA: generated SVHN-like stand-in" in out  # printed even with verbose=False
    assert info.stand_in is True
    assert info.recipe == f"svhn_stand_in v{svhn_stand_in.VERSION} seed {svhn_stand_in.SEED} sizes 60 30"
    assert "stand-in" in info.source and "Name or service not known" in info.source
    assert "train_32x32.mat" in info.source and "test_32x32.mat" in info.source
    assert "not in data/ or $CNNLAB_DATA_DIR/" in info.source and str(data_dirs[0].parent) not in info.source + out
    assert out.count("STAND-IN DATA") == 1
    assert x_train.shape == (60, 32, 32, 3) and x_test.shape == (30, 32, 32, 3)
    assert y_train.shape == (60,) and y_test.shape == (30,)
    assert (data_dirs[0] / f"svhn_stand_in-v{svhn_stand_in.VERSION}.npz").is_file()


def test_stand_in_images_shapes_labels_and_determinism():
    x, y = generate(200, seed=5)
    assert x.shape == (200, 32, 32, 3) and x.dtype == np.uint8
    assert y.shape == (200,) and y.dtype == np.uint8
    assert np.bincount(y, minlength=10).tolist() == [20] * 10
    assert x.min() < 40 and x.max() > 215  # uses the value range
    x2, y2 = generate(200, seed=5)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(x, generate(200, seed=6)[0])


def test_stand_in_digits_contrast_with_background():
    n, seed = 200, 7
    x, _ = generate(n, seed=seed)
    rng = np.random.default_rng(seed)  # replay generate()'s draws to get the ink masks
    masks = svhn_stand_in._masks(svhn_stand_in._params(rng, n, len(svhn_stand_in.glyph_bank()[3])), slice(0, n))
    lum = x.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    ink, paper = masks > 0.6, masks < 0.05
    assert ink[:, :, 10:22].sum(axis=(1, 2)).min() > 20  # a digit in the middle of every image
    difference = [abs(lum[i][ink[i]].mean() - lum[i][paper[i]].mean()) for i in range(n)]
    assert min(difference) > 35  # grey levels of 255


def test_corrupt_or_stale_cache_is_regenerated(tmp_path, capsys):
    cache = tmp_path / "svhn_stand_in-v1.npz"
    cache.write_bytes(b"PK\x03\x04 not a complete npz")
    (x_train, y_train), (x_test, _) = load_stand_in(cache=cache, sizes=(40, 20))
    assert "regenerating" in capsys.readouterr().out
    (x_again, y_again), _ = load_stand_in(cache=cache, sizes=(40, 20))
    assert "generating" not in capsys.readouterr().out  # loaded from the rebuilt cache
    np.testing.assert_array_equal(x_again, x_train)
    np.testing.assert_array_equal(y_again, y_train)
    load_stand_in(cache=cache, sizes=(30, 20))  # made with other sizes: regenerated, not reused
    assert "regenerating" in capsys.readouterr().out


@pytest.mark.parametrize(("kwargs", "match"), [({"n": 0}, "n: expected"), ({"n": 5, "seed": -1}, "seed: expected")])
def test_generate_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate(**kwargs)


def test_load_stand_in_rejects_bad_sizes(tmp_path):
    with pytest.raises(ValueError, match="sizes: expected"):
        load_stand_in(cache=tmp_path / "c.npz", sizes=(10,))


def test_download_goes_to_data_dir_with_the_md5_and_is_found_next_time(tmp_path, monkeypatch):
    import keras

    data = tmp_path / "data"
    monkeypatch.setattr(config, "DATA_DIR", data)
    monkeypatch.setenv("CNNLAB_DATA_DIR", "")
    calls = []

    def fake_get_file(fname, origin, file_hash, hash_algorithm, cache_dir, cache_subdir):
        calls.append((origin, file_hash, hash_algorithm))
        target = Path(cache_dir) / cache_subdir / fname
        _write_mat(target, 10, seed=len(calls))
        monkeypatch.setitem(svhn_module.MD5, fname, md5_file(target))  # the "official" sum of this fake
        return str(target)

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    (x_train, _), (x_test, _), info = load_svhn(verbose=False)
    assert info.stand_in is False and "downloaded from" in info.source
    assert x_train.shape == x_test.shape == (10, 32, 32, 3)
    assert [c[0] for c in calls] == [svhn_module.URL + "train_32x32.mat", svhn_module.URL + "test_32x32.mat"]
    assert all(c[2] == "md5" for c in calls)
    assert find_local("train_32x32.mat", verbose=False)[0] == data / "train_32x32.mat"  # no download next time
