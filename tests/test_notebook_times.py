"""benchmarks/notebook_times.py without executing notebooks: a fake executor stands in."""

import importlib.util
import json
import os
from pathlib import Path

import pytest

from cnnlab import config

spec = importlib.util.spec_from_file_location("notebook_times", config.ROOT / "benchmarks" / "notebook_times.py")
notebook_times = importlib.util.module_from_spec(spec)
spec.loader.exec_module(notebook_times)


class FakeExecute:
    """Records each call; fails for notebooks named in ``failing``."""

    def __init__(self, failing=()):
        self.calls, self.failing = [], set(failing)

    def __call__(self, path, output, *, quick, env):
        self.calls.append((Path(path).name, Path(output), quick, dict(env)))
        if Path(path).stem in self.failing:
            raise RuntimeError("cell 3 failed\nNameError: name 'x' is not defined")


@pytest.fixture
def notebooks(tmp_path):
    paths = [tmp_path / "A1_a.ipynb", tmp_path / "B1_b.ipynb"]
    for p in paths:
        p.write_text("{}")
    return paths


def test_each_mode_runs_in_scratch_with_its_own_results_and_weights(notebooks, tmp_path):
    fake = FakeExecute()
    timings = notebook_times.time_notebooks(notebooks, ("quick", "full"), tmp_path / "scratch", execute=fake)
    assert [(name, quick) for name, _, quick, _ in fake.calls] == [
        ("A1_a.ipynb", True), ("B1_b.ipynb", True), ("A1_a.ipynb", False), ("B1_b.ipynb", False)]
    for _, output, quick, env in fake.calls:
        mode = "quick" if quick else "full"
        assert output.parent == tmp_path / "scratch" / mode
        assert env["CNNLAB_RESULTS_DIR"] == str(tmp_path / "scratch" / mode / "results")
        assert env["CNNLAB_RETRAIN"] == "0"
        assert ("CNNLAB_WEIGHTS_DIR" in env) == quick  # full mode uses the committed weights
        assert ("CNNLAB_REQUIRE_CACHE" in env) == (not quick)  # and must not train
    assert set(timings) == {"quick", "full"} and timings["quick"]["A1_a"][1] == "ok"


def test_table_has_a_row_per_notebook_and_totals_against_targets(notebooks):
    timings = {"quick": {"A1_a": (100.0, "ok"), "B1_b": (400.0, "FAILED: boom")}, "full": {"A1_a": (50.0, "ok"), "B1_b": (60.0, "ok")}}
    lines = notebook_times.markdown_table(timings, notebooks).splitlines()
    assert lines[0] == "| notebook | quick mode (s) | cached full mode (s) |"
    assert lines[2] == "| A1_a | 100.0 | 50.0 |"
    assert lines[3] == "| B1_b | 400.0 (FAILED: boom) | 60.0 |"
    assert lines[4] == "| **total** | **500** (target <= 360 s: **not met**) | **110** (target <= 480 s: met) |"
    assert "modes run quick then full" in lines[6] and f"on {os.cpu_count()} CPU cores" in lines[6]


def test_both_modes_run_full_first_so_a_fresh_clone_times_the_data_build(notebooks, tmp_path, monkeypatch):
    fake = FakeExecute()
    monkeypatch.setattr(notebook_times, "execute_notebook", fake)
    monkeypatch.setattr(notebook_times, "add_retrain_estimates", lambda timings, *args: {})
    notebook_times.main(["--out", str(tmp_path / "times.md"), *map(str, notebooks)])
    assert [quick for _, _, quick, _ in fake.calls] == [False, False, True, True]
    assert "modes run full then quick" in (tmp_path / "times.md").read_text()


def test_main_writes_the_table_and_reports_failures(notebooks, tmp_path, monkeypatch, capsys):
    fake = FakeExecute(failing={"B1_b"})
    monkeypatch.setattr(notebook_times, "execute_notebook", fake)
    out = tmp_path / "times.md"
    assert notebook_times.main(["--quick-only", "--out", str(out), *map(str, notebooks)]) == 1
    assert {quick for _, _, quick, _ in fake.calls} == {True}
    text = out.read_text()
    assert "quick mode (s)" in text and "cached full" not in text
    assert "FAILED: NameError: name 'x' is not defined" in text and text.split("\n", 2)[2] in capsys.readouterr().out


def test_options_exclude_each_other_and_notebooks_must_exist(tmp_path):
    with pytest.raises(SystemExit):
        notebook_times.main(["--quick-only", "--full-only"])
    with pytest.raises(SystemExit):
        notebook_times.main([str(tmp_path / "missing.ipynb")])


def write_record(folder, name, history):
    (folder / f"{name}.json").write_text(json.dumps({"name": name, "history": history}))


def test_retrain_estimate_adds_the_recorded_training_time_of_each_record(notebooks, tmp_path):
    weights = tmp_path / "weights"
    weights.mkdir()
    write_record(weights, "A1_cnn", {"loss": [1.0, 0.5], "epoch_seconds": [10.0, 20.0]})
    write_record(weights, "A1_search", {"iterations": [0, 500], "train_seconds": [0.0, 1.5], "epoch_seconds": [9.0]})
    write_record(weights, "A10_other", {"epoch_seconds": [99.0]})  # another notebook's prefix
    assert [p.name for p in notebook_times.notebook_records(notebooks[0], weights)] == ["A1_cnn.json", "A1_search.json"]
    timings = {"full": {"A1_a": (40.0, "ok"), "B1_b": (7.0, "ok")}}
    counts = notebook_times.add_retrain_estimates(timings, notebooks, weights)
    assert counts == {"A1_a": 2, "B1_b": 0}
    assert timings["retrain"] == {"A1_a": (71.5, "ok"), "B1_b": (7.0, "ok")}
