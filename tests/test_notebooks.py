"""Execute every notebook in quick mode (copies in a temp dir; committed files are never touched)."""

import json
from pathlib import Path

import pytest

from cnnlab.runner import execute_notebook

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.notebook
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_quick_mode_and_writes_results(notebook, tmp_path):
    before = notebook.read_bytes()
    results = tmp_path / "results"
    execute_notebook(notebook, tmp_path / notebook.name, quick=True, timeout=600,
                     env={"CNNLAB_RESULTS_DIR": str(results)})
    record = json.loads((results / f"{notebook.stem}.json").read_text())
    assert record["notebook"] == notebook.stem and record["mode"] == "quick"
    assert record["metrics"], "the notebook recorded no metrics"
    assert notebook.read_bytes() == before
