import os
import shutil

import h5py
import numpy as np
import pytest

from cnnlab import config
from cnnlab.data import faces as faces_module
from cnnlab.data.faces import (
    FacesUnavailable,
    load_8faces_h5,
    load_att_faces,
    load_faces,
    read_pgm,
    split_per_person,
    to_rgb_batch,
)


def _shared_data_dir():
    candidates = [p for p in os.environ.get("CNNLAB_DATA_DIR", "").split(os.pathsep) if p]
    candidates += [config.ROOT.parent.parent / "shared" / "data", config.ROOT.parent / "shared" / "data"]
    for folder in map(os.path.abspath, candidates):
        if os.path.isdir(os.path.join(folder, "att_faces")):
            return folder
    return None


SHARED_DATA = _shared_data_dir()  # read before any fixture empties CNNLAB_DATA_DIR


@pytest.fixture
def no_sources(tmp_path, monkeypatch):
    """Empty data folders and no scikit-learn download; returns the (empty) data/ folder."""
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "data")
    monkeypatch.setenv("CNNLAB_DATA_DIR", "")

    def offline():
        raise RuntimeError("no network (test)")

    monkeypatch.setattr(faces_module, "_read_olivetti", offline)
    (tmp_path / "data").mkdir()
    return tmp_path / "data"


@pytest.fixture
def att_data_dir(no_sources, monkeypatch):
    """CNNLAB_DATA_DIR pointing at the shared data folder holding att_faces/ (as CI sets it)."""
    folder = SHARED_DATA
    if folder is None:
        pytest.skip("AT&T faces not found: set CNNLAB_DATA_DIR to a folder holding att_faces/ (shared/data)")
    monkeypatch.setenv("CNNLAB_DATA_DIR", folder)
    return folder


def test_att_faces_shapes_labels_and_order(att_data_dir):
    root = os.path.join(att_data_dir, "att_faces")
    images, labels = load_att_faces(root)  # content-verified
    assert images.shape == (400, 112, 92) and images.dtype == np.uint8
    np.testing.assert_array_equal(labels, np.repeat(np.arange(40), 10))
    np.testing.assert_array_equal(images[0], read_pgm(os.path.join(root, "s1", "1.pgm")))
    np.testing.assert_array_equal(images[19], read_pgm(os.path.join(root, "s2", "10.pgm")))  # numeric, not 1, 10, 2
    np.testing.assert_array_equal(images[399], read_pgm(os.path.join(root, "s40", "10.pgm")))


def test_att_faces_missing_corrupt_and_modified_files(att_data_dir, tmp_path):
    root = tmp_path / "att_faces"
    shutil.copytree(os.path.join(att_data_dir, "att_faces"), root)
    for p in root.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)  # the shared copy is read-only
    (root / "s3" / "7.pgm").unlink()
    with pytest.raises(FileNotFoundError, match="1 of 400 images missing: s3/7.pgm"):
        load_att_faces(root)
    (root / "s3" / "7.pgm").write_bytes(b"P5 92 112 255\n" + bytes(100))  # truncated
    with pytest.raises(ValueError, match="s3/7.pgm: unreadable PGM"):
        load_att_faces(root)
    shutil.copyfile(root / "s3" / "6.pgm", root / "s3" / "7.pgm")  # valid image, wrong content
    with pytest.raises(ValueError, match="content SHA-256 .* not the AT&T reference copy's"):
        load_att_faces(root)
    assert load_att_faces(root, verify=False)[0].shape == (400, 112, 92)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        load_att_faces(tmp_path / "absent")


def test_load_faces_uses_att_for_eight_and_forty_people(att_data_dir):
    images, labels, source = load_faces(8, verbose=False)
    assert "AT&T" in source
    assert images.shape == (80, 112, 92)
    np.testing.assert_array_equal(labels, np.repeat(np.arange(8), 10))
    images40, labels40, _ = load_faces(40, verbose=False)
    assert images40.shape == (400, 112, 92) and np.bincount(labels40).tolist() == [10] * 40
    np.testing.assert_array_equal(images40[:80], images)  # s1..s8 are the first eight subjects


def _write_8faces(path, rng, one_hot=False):
    sizes = {"train": 24, "valid": 8, "test": 8}
    with h5py.File(path, "w") as f:
        for split, n in sizes.items():
            y = np.arange(n) % 8
            f[f"X_{split}_8_faces"] = rng.integers(0, 256, (n, 48, 48, 3), dtype=np.uint8)
            f[f"Y_{split}_8_faces"] = np.eye(8, dtype=np.float32)[y] if one_hot else y
    return sizes


@pytest.mark.parametrize("one_hot", [False, True])
def test_course_8faces_file_loads_and_is_preferred(no_sources, rng, one_hot):
    path = no_sources / "8_faces.hdf5"
    sizes = _write_8faces(path, rng, one_hot)
    splits = load_8faces_h5(path)
    for (x, y), n in zip(splits, sizes.values()):
        assert x.shape == (n, 48, 48, 3) and x.dtype == np.uint8
        np.testing.assert_array_equal(y, np.arange(n) % 8)
    images, labels, source = load_faces(8, verbose=False)
    assert source == f"course file {path}"
    assert images.shape == (40, 48, 48, 3) and np.bincount(labels).tolist() == [5] * 8
    np.testing.assert_array_equal(images[:24], splits[0][0])


def test_course_file_with_missing_keys_is_refused(no_sources):
    path = no_sources / "8_faces.hdf5"
    with h5py.File(path, "w") as f:
        f["X_train_8_faces"] = np.zeros((2, 48, 48, 3), np.uint8)
    with pytest.raises(ValueError, match=r"missing keys \['Y_train_8_faces'\]"):
        load_8faces_h5(path)
    path.write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="unreadable HDF5"):
        load_8faces_h5(path)


def test_error_lists_every_source_when_all_fail(no_sources):
    with pytest.raises(FacesUnavailable) as info:
        load_faces(8, verbose=False)
    message = str(info.value)
    for source in ("course file", "8_faces.hdf5", "AT&T faces", "fetch_olivetti_faces", "no network (test)"):
        assert source in message
    with pytest.raises(FacesUnavailable) as info:
        load_faces(40, verbose=False)
    assert "course file" not in str(info.value)  # the course file only has eight people


def test_n_people_is_validated():
    for bad in (0, 41, 8.0, True):
        with pytest.raises(ValueError, match=r"n_people: expected an int in 1..40"):
            load_faces(bad)


def test_split_per_person_is_balanced_disjoint_and_seeded():
    labels = np.repeat(np.arange(8), 10)
    train, valid, test = split_per_person(labels, 6, 2, 2, seed=0)
    assert (len(train), len(valid), len(test)) == (48, 16, 16)
    for idx, per_person in ((train, 6), (valid, 2), (test, 2)):
        assert np.bincount(labels[idx], minlength=8).tolist() == [per_person] * 8
    assert np.array_equal(np.sort(np.concatenate([train, valid, test])), np.arange(80))  # disjoint, complete
    again = split_per_person(labels, 6, 2, 2, seed=0)
    other = split_per_person(labels, 6, 2, 2, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip((train, valid, test), again))
    assert not np.array_equal(train, other[0])
    shuffled = np.random.default_rng(3).permutation(labels)
    for idx, per_person in zip(split_per_person(shuffled, 5, 0, 3, seed=7), (5, 0, 3)):
        assert np.bincount(shuffled[idx], minlength=8).tolist() == [per_person] * 8


def test_split_per_person_rejects_bad_inputs():
    labels = np.repeat(np.arange(4), 10)
    with pytest.raises(ValueError, match="n_train: expected an int >= 1, got 0"):
        split_per_person(labels, 0, 2, 2, seed=0)
    with pytest.raises(ValueError, match=r"n_train \+ n_valid \+ n_test: expected at most .* got 11"):
        split_per_person(labels, 7, 2, 2, seed=0)
    with pytest.raises(ValueError, match="labels: expected a non-empty 1-D integer array"):
        split_per_person(labels.astype(float), 6, 2, 2, seed=0)
    with pytest.raises(ValueError, match="seed: expected an int >= 0"):
        split_per_person(labels, 6, 2, 2, seed=-1)


def test_to_rgb_batch_shapes_range_and_grey_channels(rng):
    grey = rng.integers(0, 256, (3, 112, 92), dtype=np.uint8)
    out = to_rgb_batch(grey, 48)
    assert out.shape == (3, 48, 48, 3) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 255
    assert np.array_equal(out[..., 0], out[..., 2])
    flat = to_rgb_batch(np.full((2, 112, 92), 77, np.uint8), (224, 224))
    np.testing.assert_allclose(flat, 77, atol=1e-3)  # resizing keeps a constant image
    rgb = rng.integers(0, 256, (2, 48, 48, 3), dtype=np.uint8)
    np.testing.assert_array_equal(to_rgb_batch(rgb, 48), rgb.astype(np.float32))


def test_to_rgb_batch_rejects_bad_inputs():
    with pytest.raises(ValueError, match="images: expected"):
        to_rgb_batch(np.zeros((112, 92), np.uint8)[None, None], 48)
    with pytest.raises(ValueError, match=r"values in \[0, 255\]"):
        to_rgb_batch(np.full((1, 8, 8), 300.0), 48)
    with pytest.raises(ValueError, match="size: expected a positive int"):
        to_rgb_batch(np.zeros((1, 8, 8), np.uint8), 0)
