import hashlib
import os
import shutil
import zipfile

import h5py
import numpy as np
import pytest

from cnnlab import config
from cnnlab.data import faces as faces_module
from cnnlab.data.faces import (
    ATT_MANIFEST,
    ATT_NAMES,
    FacesUnavailable,
    load_8faces_h5,
    load_att_faces,
    load_faces,
    manifest_matches,
    read_manifest,
    read_pgm,
    split_per_person,
    to_rgb_batch,
)

VENDORED = config.ROOT / "data" / "att_faces.zip"


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


def _copy_zip(tmp_path, replace=None, drop=()):
    """A copy of the vendored zip with ``replace`` ({name: bytes}) swapped in and ``drop`` left out."""
    target = tmp_path / "att_faces.zip"
    with zipfile.ZipFile(VENDORED) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            if name not in drop:
                dst.writestr(name, (replace or {}).get(name, src.read(name)))
    return target


def test_vendored_zip_matches_the_committed_manifest_and_gitignore():
    digests = read_manifest(ATT_MANIFEST)
    with zipfile.ZipFile(VENDORED) as archive:
        assert sorted(archive.namelist()) == sorted(ATT_NAMES)
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_DEFLATED}
        assert all(hashlib.sha256(archive.read(n)).hexdigest() == digests[n] for n in ATT_NAMES)
    ignore = (config.ROOT / ".gitignore").read_text().splitlines()
    assert "!data/att_faces.zip" in ignore and "!data/att_faces.sha256" in ignore


def test_att_faces_shapes_labels_and_order():
    images, labels = load_att_faces(VENDORED)  # verified against the manifest
    assert images.shape == (400, 112, 92) and images.dtype == np.uint8
    np.testing.assert_array_equal(labels, np.repeat(np.arange(40), 10))
    with zipfile.ZipFile(VENDORED) as archive:
        first, s2_10, last = (faces_module.decode_pgm(archive.read(n), n) for n in ("s1/1.pgm", "s2/10.pgm", "s40/10.pgm"))
    np.testing.assert_array_equal(images[0], first)
    np.testing.assert_array_equal(images[19], s2_10)  # numeric order, not 1, 10, 2
    np.testing.assert_array_equal(images[399], last)


def test_the_shared_folder_holds_the_same_images(att_data_dir):
    folder = load_att_faces(os.path.join(att_data_dir, "att_faces"))
    np.testing.assert_array_equal(folder[0], load_att_faces(VENDORED)[0])


def test_a_changed_image_is_refused_naming_the_file(tmp_path):
    with zipfile.ZipFile(VENDORED) as archive:
        other = archive.read("s3/6.pgm")
    changed = _copy_zip(tmp_path, replace={"s3/7.pgm": other})  # a valid image, the wrong one
    with pytest.raises(ValueError, match=r"att_faces.zip: s3/7.pgm has SHA-256 .* but .*att_faces.sha256 lists .* refusing it"):
        load_att_faces(changed)
    assert load_att_faces(changed, manifest=None)[0].shape == (400, 112, 92)  # decodes fine: only the check refuses it
    pixel = bytearray(other)
    pixel[-1] ^= 1  # one pixel, one bit
    with pytest.raises(ValueError, match="s3/6.pgm has SHA-256"):
        load_att_faces(_copy_zip(tmp_path, replace={"s3/6.pgm": bytes(pixel)}))


def test_missing_and_unreadable_images_and_zips(tmp_path):
    with pytest.raises(FileNotFoundError, match="1 of 400 images missing: s3/7.pgm"):
        load_att_faces(_copy_zip(tmp_path, drop={"s3/7.pgm"}))
    truncated = _copy_zip(tmp_path, replace={"s3/7.pgm": b"P5 92 112 255\n" + bytes(100)})
    with pytest.raises(ValueError, match="s3/7.pgm: unreadable PGM"):
        load_att_faces(truncated, manifest=None)
    (tmp_path / "bad.zip").write_bytes(VENDORED.read_bytes()[:5000])
    with pytest.raises(ValueError, match="bad.zip: unreadable zip"):
        load_att_faces(tmp_path / "bad.zip")
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        load_att_faces(tmp_path / "absent.zip")


def test_an_extracted_folder_is_verified_the_same_way(tmp_path):
    root = tmp_path / "att_faces"
    with zipfile.ZipFile(VENDORED) as archive:
        archive.extractall(root)
    np.testing.assert_array_equal(load_att_faces(root)[0], load_att_faces(VENDORED)[0])
    np.testing.assert_array_equal(load_att_faces(root)[0][0], read_pgm(root / "s1" / "1.pgm"))
    shutil.copyfile(root / "s3" / "6.pgm", root / "s3" / "7.pgm")
    with pytest.raises(ValueError, match="s3/7.pgm has SHA-256"):
        load_att_faces(root)
    (root / "s3" / "7.pgm").unlink()
    with pytest.raises(FileNotFoundError, match="1 of 400 images missing: s3/7.pgm"):
        load_att_faces(root)


def test_manifest_matches_counts_the_images_equal_to_the_manifest(tmp_path):
    assert manifest_matches(VENDORED) == 400
    changed = tmp_path / "changed.zip"
    with zipfile.ZipFile(VENDORED) as src, zipfile.ZipFile(changed, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data[:-1] + bytes([data[-1] ^ 1]) if name == "s2/3.pgm" else data)
    assert manifest_matches(changed) == 399


def test_a_bad_manifest_is_refused(tmp_path):
    lines = ATT_MANIFEST.read_text().splitlines()
    (tmp_path / "short.sha256").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(ValueError, match=r"expected the 400 names sN/K.pgm, got 399 \(missing \['s40/10.pgm'\]"):
        read_manifest(tmp_path / "short.sha256")
    (tmp_path / "garbled.sha256").write_text("not a checksum line\n")
    with pytest.raises(ValueError, match="line 1: expected '<sha256>  sN/K.pgm'"):
        load_att_faces(VENDORED, manifest=tmp_path / "garbled.sha256")


def test_a_fresh_clone_loads_the_vendored_faces_without_cnnlab_data_dir(monkeypatch):
    monkeypatch.setenv("CNNLAB_DATA_DIR", "")
    monkeypatch.setattr(faces_module, "_read_olivetti", lambda: pytest.fail("must not need scikit-learn's copy"))
    images, labels, source = load_faces(8, verbose=False)
    assert source == "AT&T (ORL) faces, data/att_faces.zip"  # no absolute path
    assert images.shape == (80, 112, 92)
    np.testing.assert_array_equal(labels, np.repeat(np.arange(8), 10))
    images40, labels40, _ = load_faces(40, verbose=False)
    assert images40.shape == (400, 112, 92) and np.bincount(labels40).tolist() == [10] * 40
    np.testing.assert_array_equal(images40[:80], images)  # s1..s8 are the first eight subjects


def test_faces_in_cnnlab_data_dir_are_named_relative_to_it(no_sources, tmp_path, monkeypatch):
    extra = tmp_path / "extra"
    extra.mkdir()
    shutil.copyfile(VENDORED, extra / "att_faces.zip")
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(extra))
    assert load_faces(40, verbose=False)[2] == "AT&T (ORL) faces, $CNNLAB_DATA_DIR/att_faces.zip"


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
    assert source == "course file data/8_faces.hdf5"
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
    for source in ("course file", "8_faces.hdf5", "AT&T (ORL) faces", "att_faces.zip", "fetch_olivetti_faces",
                   "no network (test)"):
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
