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
    assert info.recipe == (f"svhn_stand_in v{svhn_stand_in.VERSION} difficulty {svhn_stand_in.DIFFICULTY} "
                           f"seed {svhn_stand_in.SEED} sizes 60 30")
    assert "stand-in" in info.source and "the SVHN site could not be reached" in info.source
    assert "Errno" not in info.source and "http" not in info.source
    assert "train_32x32.mat" in info.source and "test_32x32.mat" in info.source
    assert "not in data/ or $CNNLAB_DATA_DIR/" in info.source and str(data_dirs[0].parent) not in info.source + out
    assert out.count("STAND-IN DATA") == 1
    assert x_train.shape == (60, 32, 32, 3) and x_test.shape == (30, 32, 32, 3)
    assert y_train.shape == (60,) and y_test.shape == (30,)
    assert (data_dirs[0] / f"svhn_stand_in-v{svhn_stand_in.VERSION}.npz").is_file()


def _layout(n, seed, **kwargs):
    """Replay generate()'s first draws: the per-image parameters and the ink masks."""
    p = svhn_stand_in._params(np.random.default_rng(seed), n, **kwargs)
    return p, svhn_stand_in._masks(p, slice(0, n))


def _luminance(x):
    return x.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def test_stand_in_images_shapes_labels_and_determinism():
    x, y = generate(200, seed=5)
    assert x.shape == (200, 32, 32, 3) and x.dtype == np.uint8
    assert y.shape == (200,) and y.dtype == np.uint8 and set(y.tolist()) == set(range(10))
    assert x.min() == 0 and x.max() == 255  # dark and light images both occur
    x2, y2 = generate(200, seed=5)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(x, generate(200, seed=6)[0])
    assert not np.array_equal(x, generate(200, seed=5, difficulty=0.2)[0])


def test_class_frequencies_follow_svhn():
    rng = np.random.default_rng(0)
    for counts in (svhn_stand_in.TRAIN_COUNTS, svhn_stand_in.TEST_COUNTS):  # exact at SVHN's sizes
        labels = svhn_stand_in._draw_counts(rng, sum(counts), counts)
        assert np.bincount(labels, minlength=10).tolist() == list(counts)
    assert sum(svhn_stand_in.TRAIN_COUNTS) == svhn_stand_in.SIZES[0] and sum(svhn_stand_in.TEST_COUNTS) == svhn_stand_in.SIZES[1]
    _, y = generate(1000, seed=3)
    share = np.bincount(y, minlength=10) / 1000
    target = np.array(svhn_stand_in.TRAIN_COUNTS) / svhn_stand_in.SIZES[0]
    assert np.abs(share - target).max() <= 0.001  # largest-remainder rounding: within one image
    assert share.argmax() == 1 and share[1] > 0.18 and share.min() > 0.06  # digit 1 most frequent, as in SVHN
    _, y_test = generate(500, seed=3, counts=svhn_stand_in.TEST_COUNTS)
    assert np.bincount(y_test, minlength=10)[1] == round(500 * 5099 / 26032)


def test_neighbours_on_both_sides_in_the_same_style():
    n = 1000
    p, masks = _layout(n, seed=11)
    blank = len(svhn_stand_in.glyph_bank()[3]) * 10
    left, right = p["glyphs"][:, 0] != blank, p["glyphs"][:, 2] != blank
    assert 0.80 < left.mean() < 0.90 and 0.80 < right.mean() < 0.90 and 0.66 < (left & right).mean() < 0.78
    style = p["glyphs"] // 10
    assert np.all(style[left, 0] == style[left, 1]) and np.all(style[right, 2] == style[right, 1])  # same font
    assert np.all(p["glyphs"][:, 1] % 10 == p["labels"])  # the centre slot is the label
    left_ink, right_ink = masks[:, :, :4].mean(axis=(1, 2)), masks[:, :, -4:].mean(axis=(1, 2))
    assert (left_ink[left] > 0.02).mean() > 0.8 and (left_ink[~left] > 0.02).mean() < 0.2  # cut off at the edge
    assert (right_ink[right] > 0.02).mean() > 0.8 and (right_ink[~right] > 0.02).mean() < 0.2
    gaps = p["bounds"][:, 1] - p["bounds"][:, 0] - svhn_stand_in.glyph_bank()[1][p["glyphs"][:, 1]]
    assert gaps.min() < 0 < gaps.max()  # spacing varies, some neighbours touch


def test_contrast_is_drawn_low_and_shows_in_the_pixels():
    n, seed = 400, 7
    x, _ = generate(n, seed=seed)
    p, masks = _layout(n, seed)
    floor = svhn_stand_in.degradations(svhn_stand_in.DIFFICULTY)["contrast_floor"]
    assert p["contrast"].min() >= floor - 1e-6 and np.median(p["contrast"]) < 0.35  # skewed towards low contrast
    np.testing.assert_allclose(np.abs(_luminance(p["fg"]) - _luminance(p["bg"])), p["contrast"], atol=1e-5)
    assert p["bg"].min() > -1e-6 and p["fg"].max() < 1 + 1e-6  # colours in [0, 1] up to float rounding
    ink, paper = masks > 0.6, masks < 0.05
    assert (masks[:, :, 10:22] > 0.3).sum(axis=(1, 2)).min() > 10  # a digit in the middle of every image
    lum = _luminance(x)
    sharp = ink.sum(axis=(1, 2)) > 20
    measured = np.array([abs(lum[i][ink[i]].mean() - lum[i][paper[i]].mean()) for i in np.flatnonzero(sharp)])
    assert np.corrcoef(measured, 255 * p["contrast"][sharp])[0, 1] > 0.9  # gradients and noise do not hide it


def test_difficulty_knob_degrades_monotonically():
    easy, hard = svhn_stand_in.degradations(0.0), svhn_stand_in.degradations(1.0)
    assert easy["contrast_floor"] > hard["contrast_floor"] and easy["blur_max"] < hard["blur_max"]
    assert easy["noise_max"] < hard["noise_max"] and easy["jpeg_min_quality"] > hard["jpeg_min_quality"]
    p_easy, _ = _layout(500, seed=2, difficulty=0.1)
    p_hard, _ = _layout(500, seed=2, difficulty=0.9)
    assert p_hard["contrast"].mean() < p_easy["contrast"].mean() and p_hard["blur"].mean() > p_easy["blur"].mean()
    assert p_hard["quality"].mean() < p_easy["quality"].mean() and p_hard["noise"].mean() > p_easy["noise"].mean()


def test_jpeg_like_degradation():
    assert np.allclose(svhn_stand_in._DCT @ svhn_stand_in._DCT.T, np.eye(8), atol=1e-6)  # orthonormal DCT
    x, _ = generate(40, seed=1)
    images = x.astype(np.float32)
    error = {q: np.abs(svhn_stand_in._jpeg_like(images, np.full(40, q, np.float32)) - images).mean() for q in (100, 50, 10)}
    assert error[100] < 1.0 < error[50] < error[10]  # quality 100: only chroma subsampling and rounding
    flat = np.full((2, 32, 32, 3), 100.0, np.float32)
    out = svhn_stand_in._jpeg_like(flat, np.array([5.0, 95.0], np.float32))
    assert out.std(axis=(1, 2)).max() < 0.01  # a flat image stays flat at any quality (only its DC is quantised)
    np.testing.assert_allclose(out[1], flat[1], atol=1.0)  # and keeps its value at high quality


def test_corrupt_or_stale_cache_is_regenerated(tmp_path, capsys, monkeypatch):
    cache = tmp_path / f"svhn_stand_in-v{svhn_stand_in.VERSION}.npz"
    cache.write_bytes(b"PK\x03\x04 not a complete npz")
    (x_train, y_train), (x_test, _) = load_stand_in(cache=cache, sizes=(40, 20))
    assert "regenerating" in capsys.readouterr().out
    (x_again, y_again), _ = load_stand_in(cache=cache, sizes=(40, 20))
    assert "generating" not in capsys.readouterr().out  # loaded from the rebuilt cache
    np.testing.assert_array_equal(x_again, x_train)
    np.testing.assert_array_equal(y_again, y_train)
    load_stand_in(cache=cache, sizes=(30, 20))  # made with other sizes: regenerated, not reused
    assert "regenerating" in capsys.readouterr().out
    monkeypatch.setattr(svhn_stand_in, "DIFFICULTY", 0.1)  # made with another difficulty: regenerated
    load_stand_in(cache=cache, sizes=(30, 20))
    assert "regenerating" in capsys.readouterr().out


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n": 0}, "n: expected"), ({"n": 5, "seed": -1}, "seed: expected"),
    ({"n": 5, "counts": (1, 2, 3)}, "counts: expected 10"), ({"n": 5, "counts": (-1,) + (1,) * 9}, "counts: expected 10"),
    ({"n": 5, "difficulty": 1.5}, "difficulty: expected a number in"),
])
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
