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
