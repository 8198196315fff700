"""Read-only checkout: committed files are read in place, new files go to the user cache folder."""

import json
from pathlib import Path

import numpy as np
import pytest

from cnnlab import config, results
from cnnlab.cache import cached_arrays
from cnnlab.experiment import fit_or_load


@pytest.fixture
def user_cache(tmp_path, monkeypatch):
    folder = tmp_path / "user-cache"
    monkeypatch.setenv("CNNLAB_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def read_only(tmp_path):
    """Make folders read-only (no write bits: refused even for root); permissions restored afterwards."""
    made = []

    def lock(folder):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o555)
        made.append(folder)
        return folder

    yield lock
    for folder in made:
        folder.chmod(0o755)


def fit(build, data, folder, **kwargs):
    args = dict(name="tiny", epochs=1, batch_size=16, verbose=1, weights_dir=folder, keep_weights=True) | kwargs
    return fit_or_load(build, data, **args).history


def test_user_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("CNNLAB_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert config.user_cache_dir() == tmp_path / "xdg" / "cnnlab"
    monkeypatch.setenv("CNNLAB_CACHE_DIR", str(tmp_path / "mine"))
    assert config.user_cache_dir() == tmp_path / "mine"
    assert config.user_copy(config.ROOT / "weights" / "a.h5") == tmp_path / "mine" / "weights" / "a.h5"


def test_writable_folders_are_used_as_they_are(user_cache, tmp_path, capsys):
    assert config.writable_path(tmp_path / "new" / "x.npz") == tmp_path / "new" / "x.npz"
    assert (tmp_path / "new").is_dir() and not user_cache.exists()
    assert capsys.readouterr().out == ""


def test_committed_weights_load_from_a_read_only_folder(user_cache, read_only, tmp_path, build, data, capsys):
    weights = tmp_path / "weights"
    history = fit(build, data, weights)  # "committed" while still writable
    committed = sorted(p.name for p in weights.iterdir())
    read_only(weights)
    capsys.readouterr()
    again = fit(build, data, weights)
    assert again == history
    out = capsys.readouterr().out
    assert "tiny: training" not in out and "not writable" not in out
    assert sorted(p.name for p in weights.iterdir()) == committed and not user_cache.exists()


def test_new_weights_go_to_the_user_cache_and_are_found_there(user_cache, read_only, tmp_path, build, data, capsys):
    weights = read_only(tmp_path / "weights")
    history = fit(build, data, weights)
    out = capsys.readouterr().out
    assert out.count("is not writable") == 1 and str(user_cache) in out
    assert list(weights.iterdir()) == []
    copy = config.user_copy(weights)
    assert sorted(p.name for p in copy.iterdir()) == ["tiny.json", "tiny.weights.h5"]
    again = fit(build, data, weights)
    assert again == history and "tiny: training" not in capsys.readouterr().out


def test_a_read_only_parent_counts_too(user_cache, read_only, tmp_path):
    read_only(tmp_path / "repo")
    assert not config.is_writable(tmp_path / "repo" / "weights" / "quick")
    assert config.writable_dir(tmp_path / "repo" / "weights") == config.user_copy(tmp_path / "repo" / "weights")


def test_feature_cache_and_results_fall_back(user_cache, read_only, tmp_path, capsys):
    features = read_only(tmp_path / "data" / "cache")
    path = features / "vgg-k1.npz"
    cached_arrays(path, lambda: {"x": np.arange(3)})
    assert cached_arrays(path, lambda: {"x": np.zeros(3)})["x"].tolist() == [0, 1, 2]  # found in the user cache
    assert not path.exists()
    results_dir = read_only(tmp_path / "results")
    results.save("A0_demo", {"m": {"test_accuracy": 0.5}}, {}, "test data", results_dir=results_dir)
    record = json.loads((config.user_copy(results_dir) / "A0_demo.json").read_text())
    assert record["metrics"]["m"]["test_accuracy"] == 0.5
    assert capsys.readouterr().out.count("is not writable") == 2


def _as_unprivileged_user() -> list[str] | None:
    """A command prefix that runs as a user for whom permission bits are real, or None."""
    import os
    import shutil

    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] if setpriv else None


def test_a_really_unwritable_checkout_falls_back_for_a_user_who_cannot_write():
    """Not simulated: the results folder is unwritable for the user running the code (root ignores
    permission bits, so as root the code runs as the user 'nobody')."""
    import shutil
    import subprocess
    import sys
    import tempfile

    prefix = _as_unprivileged_user()
    if prefix is None:
        pytest.skip("running as root without setpriv: cannot make a folder unwritable for this process")
    top = Path(tempfile.mkdtemp(prefix="cnnlab-readonly-"))  # pytest's tmp_path is private to root
    try:
        results_dir, cache = top / "results", top / "cache"
        results_dir.mkdir()
        cache.mkdir()
        top.chmod(0o755)
        cache.chmod(0o777)
        results_dir.chmod(0o555)
        script = ("from cnnlab import results; results.save('A0_demo', {'m': {'test_accuracy': 0.5}}, {}, 'test data', "
                  f"results_dir={str(results_dir)!r})")
        env = {"CNNLAB_CACHE_DIR": str(cache), "HOME": str(cache), "PATH": "/usr/bin:/bin"}
        done = subprocess.run([*prefix, sys.executable, "-c", script], env=env, capture_output=True, text=True)
        if done.returncode and "cnnlab" not in done.stderr:
            pytest.skip(f"the unprivileged user cannot run this Python: {done.stderr.strip().splitlines()[-1:]}")
        assert done.returncode == 0, done.stderr
        assert done.stdout.count("is not writable") == 1 and list(results_dir.iterdir()) == []
        saved = cache / "external" / Path(*results_dir.parts[1:]) / "A0_demo.json"
        assert json.loads(saved.read_text())["metrics"]["m"]["test_accuracy"] == 0.5
    finally:
        shutil.rmtree(top, ignore_errors=True)
