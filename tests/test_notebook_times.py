"""benchmarks/notebook_times.py without executing notebooks: a fake executor stands in."""

import importlib.util
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
    assert set(timings) == {"quick", "full"} and timings["quick"]["A1_a"][1] == "ok"


def test_table_has_a_row_per_notebook_and_totals_against_targets(notebooks):
    timings = {"quick": {"A1_a": (100.0, "ok"), "B1_b": (400.0, "FAILED: boom")}, "full": {"A1_a": (50.0, "ok"), "B1_b": (60.0, "ok")}}
    lines = notebook_times.markdown_table(timings, notebooks).splitlines()
    assert lines[0] == "| notebook | quick mode (s) | cached full mode (s) |"
    assert lines[2] == "| A1_a | 100.0 | 50.0 |"
    assert lines[3] == "| B1_b | 400.0 (FAILED: boom) | 60.0 |"
    assert lines[4] == "| **total** | **500** (target <= 480 s: **not met**) | **110** (target <= 600 s: met) |"


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
