"""The notebook runner: a notebook is replaced only once it ran completely; Ctrl-C and failures leave it
unchanged; quick mode never writes in place; changes to results/ beyond float noise are reported."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from cnnlab import config, runner


def notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.write_text(nbformat.writes(nb))
    return path


@pytest.fixture
def fake_kernel(monkeypatch):
    """NotebookClient.execute that fills in outputs without a kernel, raising what a cell says to raise."""
    def execute(self, **kwargs):
        for cell in self.nb.cells:
            if "KeyboardInterrupt" in cell.source:
                raise KeyboardInterrupt
            if "fail" in cell.source:
                raise RuntimeError("cell failed\nNameError: name 'fail' is not defined")
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
            cell.execution_count = 1
        return self.nb

    monkeypatch.setattr(NotebookClient, "execute", execute)


def test_a_notebook_is_replaced_only_when_every_cell_ran(tmp_path, fake_kernel):
    ok = notebook(tmp_path / "ok.ipynb", "print(1)")
    runner.execute_notebook(ok, ok, quick=False, failed_dir=tmp_path / "failed")
    assert nbformat.read(ok, as_version=4).cells[0].outputs[0]["text"] == "ran\n"
    bad = notebook(tmp_path / "bad.ipynb", "print(1)", "fail")
    before = bad.read_bytes()
    with pytest.raises(RuntimeError):
        runner.execute_notebook(bad, bad, quick=False, failed_dir=tmp_path / "failed")
    assert bad.read_bytes() == before and (tmp_path / "failed" / "bad.ipynb").exists()


def test_ctrl_c_stops_cleanly_leaves_the_notebook_and_still_prints_the_table(tmp_path, fake_kernel, capsys, monkeypatch):
    monkeypatch.setenv("CNNLAB_RESULTS_DIR", str(tmp_path / "results"))
    first = notebook(tmp_path / "A1_first.ipynb", "print(1)")
    second = notebook(tmp_path / "A2_second.ipynb", "raise KeyboardInterrupt")
    third = notebook(tmp_path / "A3_third.ipynb", "print(3)")
    before = second.read_bytes(), third.read_bytes()
    assert runner.main([str(first), str(second), str(third)]) == 130
    out = capsys.readouterr().out
    assert "interrupted: A2_second.ipynb not changed" in out and "Traceback" not in out
    assert "A1_first.ipynb" in out.split("status")[1] and "interrupted (not changed)" in out
    assert (second.read_bytes(), third.read_bytes()) == before  # the third never started


def test_quick_mode_from_the_environment_never_writes_in_place(tmp_path, fake_kernel, monkeypatch, capsys):
    monkeypatch.setattr(config, "QUICK", True)
    monkeypatch.setattr(config, "ROOT", tmp_path)
    nb = notebook(tmp_path / "A1_x.ipynb", "print(1)")
    before = nb.read_bytes()
    assert runner.main([str(nb)]) == 0
    assert nb.read_bytes() == before and (tmp_path / "build" / "quick" / "A1_x.ipynb").exists()
    assert "quick mode" in capsys.readouterr().out


def test_results_changes_ignore_float_noise_and_name_real_changes():
    before = {"A1.json": {"metrics": {"cnn": {"test_accuracy": 0.9912, "params": 10}}, "answers": {"curve": [0.1, 0.2]}}}
    noise = {"A1.json": {"metrics": {"cnn": {"test_accuracy": 0.9912 * (1 + 5e-6), "params": 10}}, "answers": {"curve": [0.1, 0.2]}}}
    assert runner.results_changes(before, noise) == []
    changed = {"A1.json": {"metrics": {"cnn": {"test_accuracy": 0.9813, "params": 10}}, "answers": {"curve": [0.1, 0.3]}}}
    assert runner.results_changes(before, changed) == ["A1.json: answers.curve.1 0.2 -> 0.3",
                                                       "A1.json: metrics.cnn.test_accuracy 0.9912 -> 0.9813"]
    assert runner.results_changes({}, {"B1.json": {"mode": "full"}}) == ["B1.json: mode None -> 'full'"]


def test_a_round_off_measurement_below_the_limit_is_noise_but_a_grown_one_is_a_change():
    before = {"A3.json": {"answers": {"matmul_max_abs_error": 6.7e-6, "test_error": 0.05}}}
    jitter = {"A3.json": {"answers": {"matmul_max_abs_error": 7.2e-6, "test_error": 0.05}}}
    assert runner.results_changes(before, jitter) == []
    grown = {"A3.json": {"answers": {"matmul_max_abs_error": 3e-4, "test_error": 0.06}}}
    assert runner.results_changes(before, grown) == ["A3.json: answers.matmul_max_abs_error 6.7e-06 -> 0.0003",
                                                     "A3.json: answers.test_error 0.05 -> 0.06"]


def test_the_runner_refuses_a_misspelled_variable_in_one_line(tmp_path):
    import subprocess
    import sys

    env = {"CNNLAB_QIUCK": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "cnnlab.runner", str(tmp_path / "x.ipynb")], env=env,
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.strip() == (
        "cnnlab.runner: CNNLAB_QIUCK is not a cnnlab setting; did you mean CNNLAB_QUICK? (unset it: `unset CNNLAB_QIUCK`)")


def test_a_read_only_checkout_writes_the_executed_notebook_to_the_user_cache(tmp_path, fake_kernel, monkeypatch, capsys,
                                                                                own_user_cache):
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    monkeypatch.setattr(config, "ROOT", repo)
    monkeypatch.setenv("CNNLAB_RESULTS_DIR", str(repo / "results"))
    nb = notebook(repo / "notebooks" / "A1_x.ipynb", "print(1)")
    before = nb.read_bytes()
    (repo / "notebooks").chmod(0o555)
    try:
        assert runner.main([str(nb)]) == 0
    finally:
        (repo / "notebooks").chmod(0o755)
    out = capsys.readouterr().out
    copy = own_user_cache / "notebooks" / "A1_x.ipynb"
    assert nb.read_bytes() == before and nbformat.read(copy, as_version=4).cells[0].outputs[0]["text"] == "ran\n"
    assert out.count("is not writable") == 1 and "ok (written to" in out
