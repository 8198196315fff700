import random

import numpy as np
import pytest

from cnnlab import config


def test_flag_parsing(monkeypatch):
    for value, expected in [("", False), ("0", False), ("false", False), ("1", True), ("YES", True)]:
        monkeypatch.setenv("CNNLAB_X", value)
        assert config._flag("CNNLAB_X") is expected
    monkeypatch.setenv("CNNLAB_X", "maybe")
    with pytest.raises(ValueError, match="CNNLAB_X must be 0 or 1"):
        config._flag("CNNLAB_X")


@pytest.mark.parametrize("typo, suggestion", [("CNNLAB_QIUCK", "CNNLAB_QUICK"), ("CNNLAB_RETRIAN", "CNNLAB_RETRAIN"),
                                              ("CNNLAB_REQUIRE_CACHES", "CNNLAB_REQUIRE_CACHE")])
def test_a_misspelled_variable_is_refused_with_the_closest_name(typo, suggestion):
    with pytest.raises(ValueError, match=f"{typo} is not a cnnlab setting; did you mean {suggestion}"):
        config.check_variables({typo: "1", "CNNLAB_QUICK": "1"})
    config.check_variables({"CNNLAB_QUICK": "1", "OTHER_QIUCK": "1"})  # known names and other prefixes pass


def test_paths_point_into_the_repository():
    assert (config.ROOT / "src" / "cnnlab").is_dir()
    assert config.DATA_DIR == config.ROOT / "data"


def test_data_dirs_include_environment_folders(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLAB_CACHE_DIR", str(tmp_path / "user-cache"))
    monkeypatch.setenv("CNNLAB_DATA_DIR", f"{tmp_path}{__import__('os').pathsep}{tmp_path / 'b'}")
    assert config.data_dirs() == [config.DATA_DIR, tmp_path, tmp_path / "b"]
    (tmp_path / "user-cache" / "data").mkdir(parents=True)  # data written by a read-only checkout
    assert config.data_dirs() == [config.DATA_DIR, tmp_path / "user-cache" / "data", tmp_path, tmp_path / "b"]


def test_seed_makes_python_numpy_and_keras_repeat():
    import keras

    def draw():
        return random.random(), np.random.rand(), float(keras.random.uniform(()))

    config.seed(3)
    first = draw()
    config.seed(3)
    assert draw() == first
    config.seed(4)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 1.5, "3"])
def test_seed_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="seed: expected a non-negative int"):
        config.seed(bad)


def test_pick_follows_quick_mode(monkeypatch):
    monkeypatch.setattr(config, "QUICK", True)
    assert config.pick(10, 1) == 1
    monkeypatch.setattr(config, "QUICK", False)
    assert config.pick(10, 1) == 10
