"""benchmarks/notebook_times.py without executing notebooks: a fake executor stands in."""

import importlib.util
import json
import os
from pathlib import Path

import nbformat
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


def notebook_with(first_cell: str, printed: str = "") -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_markdown_cell(first_cell), nbformat.v4.new_code_cell("train()")]
    cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    return nbformat.v4.new_notebook(cells=cells)


def write_history(folder, stem, epoch_seconds):
    (folder / f"{stem}.history.json").write_text(json.dumps({"history": {"loss": [1.0], "epoch_seconds": epoch_seconds}}))


def test_retrain_estimate_adds_the_recorded_training_time_of_each_loaded_model(notebooks, tmp_path):
    printed = ("A1_cnn: loaded cached weights A1_cnn-0123abcd.weights.h5\n"
               "loaded lecture.keras (trained earlier; CNNLAB_RETRAIN=1 trains it again)\n"
               "A1_cnn: loaded cached weights A1_cnn-0123abcd.weights.h5\n")  # loaded twice, counted once
    full = tmp_path / "full"
    full.mkdir()
    nbformat.write(notebook_with("# A1", printed), full / "A1_a.ipynb")
    nbformat.write(notebook_with("# B1"), full / "B1_b.ipynb")
    weights = tmp_path / "weights"
    weights.mkdir()
    write_history(weights, "A1_cnn-0123abcd", [10.0, 20.0])
    write_history(weights, "lecture", [5.0])
    write_history(weights, "A1_search-99", [1.5])  # loaded without a printed line: found by its A1_ prefix
    for stem in ("A1_cnn-0123abcd", "A1_search-99", "A10_other-1"):
        (weights / f"{stem}.weights.h5").write_bytes(b"")
    assert notebook_times.cached_models(full / "A1_a.ipynb", weights) == [
        "A1_cnn-0123abcd.weights.h5", "A1_search-99.weights.h5", "lecture.keras"]
    timings = {"full": {"A1_a": (40.0, "ok"), "B1_b": (7.0, "ok")}}
    counts = notebook_times.add_retrain_estimates(timings, notebooks, full, weights)
    assert counts == {"A1_a": 3, "B1_b": 0}
    assert timings["retrain"] == {"A1_a": (76.5, "ok"), "B1_b": (7.0, "ok")}
    (weights / "lecture.history.json").unlink()
    with pytest.raises(ValueError, match="lecture.keras: expected its training record"):
        notebook_times.add_retrain_estimates(timings, notebooks, full, weights)


def test_update_run_time_rewrites_only_the_run_time_paragraph_and_is_repeatable(tmp_path):
    path = tmp_path / "A1_a.ipynb"
    first = "# Title\n\n**Data:** MNIST. **Run time on a 2-core CPU:** quick mode well under a minute;\nabout 40 min.\n\n## Next"
    nbformat.write(notebook_with(first, "kept output\n"), path)
    for quick in (30.4, 31.6):
        paragraph = notebook_times.run_time_paragraph(quick, 60.0, 3000.0, 3, "2026-11-23")
        notebook_times.update_run_time(path, paragraph)
        nb = nbformat.read(path, as_version=4)
        assert nb.cells[0].source == f"# Title\n\n**Data:** MNIST. {paragraph}\n\n## Next"
    assert "quick mode 32 s; full mode with the committed weights 60 s (including any data cache it had to build); " \
           "retraining its 3 cached models" in paragraph
    assert "retraining its cached model (`CNNLAB_RETRAIN=1`) about 2 min, estimated from the training time recorded" \
        in notebook_times.run_time_paragraph(30, 40, 100, 1, "2026-11-23")
    assert "about 50 min" in paragraph and nb.cells[1].outputs[0]["text"] == "kept output\n"
    assert "nothing is trained" in notebook_times.run_time_paragraph(30, 40, 40, 0, "2026-11-23")
    nbformat.write(notebook_with("# no run-time paragraph"), path)
    with pytest.raises(ValueError, match="A1_a.ipynb: expected a first markdown cell"):
        notebook_times.update_run_time(path, paragraph)


def test_update_notebooks_needs_both_modes(notebooks):
    with pytest.raises(SystemExit):
        notebook_times.main(["--quick-only", "--update-notebooks", *map(str, notebooks)])
