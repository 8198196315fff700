"""Damaged weights caches are detected (checksum or load failure), reported in one line and rebuilt.

The other caches have their own tests: MNIST (test_mnist.py), converted VGG16 weights
(test_pretrained.py), feature arrays (test_cache.py), the SVHN stand-in (test_svhn.py).
"""

import json

import keras
import numpy as np
import pytest

from cnnlab.models import compile_classifier, dense_classifier
from cnnlab.train import fit_or_load, load_or_train_model


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.random((64, 4, 4, 1), dtype=np.float32)
    return x, (x.sum(axis=(1, 2, 3)) > 8).astype(np.int64)


@pytest.fixture(autouse=True)
def own_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_CACHE_DIR", str(tmp_path / "user-cache"))


def build():
    return compile_classifier(dense_classifier((4, 4, 1), hidden=(8,), n_classes=2))


def fit(data, folder):
    return fit_or_load(build, data, name="tiny", epochs=2, batch_size=16, verbose=0, weights_dir=folder)


def flip_one_byte(path):
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # same size: only the checksum can tell
    path.write_bytes(bytes(raw))


def test_history_records_the_weights_checksum(data, tmp_path):
    fit(data, tmp_path)
    record = json.loads(next(tmp_path.glob("*.history.json")).read_text())
    assert len(record["weights_sha256"]) == 64


def test_a_flipped_byte_in_the_weights_is_caught_by_the_checksum(data, tmp_path, capsys):
    model, history = fit(data, tmp_path)
    flip_one_byte(next(tmp_path.glob("*.weights.h5")))
    again, retrained = fit(data, tmp_path)
    out = capsys.readouterr().out
    assert out.count("cached file unusable") == 1 and "SHA-256 does not match" in out
    assert retrained["loss"] == pytest.approx(history["loss"], rel=1e-4)  # retrained from the seeded start
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    fit(data, tmp_path)
    assert "unusable" not in capsys.readouterr().out  # the rebuilt pair loads


def test_a_truncated_history_file_is_reported_and_rebuilt(data, tmp_path, capsys):
    fit(data, tmp_path)
    history = next(tmp_path.glob("*.history.json"))
    history.write_text(history.read_text()[:40])
    fit(data, tmp_path)
    assert "cached file unusable (JSONDecodeError" in capsys.readouterr().out
    json.loads(history.read_text())


def test_interrupted_saving_of_a_whole_model_leaves_no_file(data, tmp_path, monkeypatch):
    def save_then_interrupt(self, path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"half a model")
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "save", save_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        load_or_train_model(tmp_path / "lecture.keras", build, data, epochs=1, batch_size=16, verbose=0)
    assert list(tmp_path.iterdir()) == []
