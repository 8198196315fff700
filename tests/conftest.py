import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest


@pytest.fixture(scope="session")
def mnist():
    from cnnlab.data.mnist import load_mnist

    return load_mnist(verbose=False)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def data():
    """A tiny two-class problem: x (64, 4, 4, 1) float32 in [0, 1), y (64,) int64."""
    x = np.random.default_rng(0).random((64, 4, 4, 1), dtype=np.float32)
    return x, (x.sum(axis=(1, 2, 3)) > 8).astype(np.int64)


@pytest.fixture
def build():
    """A function returning a fresh compiled 4x4 -> 8 -> 2 dense classifier."""
    from cnnlab.models import compile_classifier, dense_classifier

    return lambda: compile_classifier(dense_classifier((4, 4, 1), hidden=(8,), n_classes=2))


@pytest.fixture(autouse=True)
def own_user_cache(tmp_path, monkeypatch):
    """Each test gets its own user cache folder (never the real ~/.cache/cnnlab)."""
    monkeypatch.setenv("CNNLAB_CACHE_DIR", str(tmp_path / "user-cache"))
    return tmp_path / "user-cache"
