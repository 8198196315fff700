import json

import pytest

from cnnlab.report import main, notebook_title, sheet_order, write_index


def notebook(path, *cells):
    cells = [{"cell_type": kind, "source": text, "metadata": {}} for kind, text in cells]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


@pytest.fixture
def exported(tmp_path):
    """Four notebooks (out of order), HTML exports for three of them, and a summary table."""
    books = tmp_path / "notebooks"
    books.mkdir()
    paths = [
        notebook(books / "D1_x.ipynb", ("markdown", "# Sheet D, exercise 1 — dense vs CNN\ntext")),
        notebook(books / "A2_y.ipynb", ("code", "# not a heading"), ("markdown", ["intro\n", "## Sheet A, exercise 2"])),
        notebook(books / "A10_z.ipynb", ("markdown", "no heading here")),
        notebook(books / "B_theory.ipynb", ("markdown", "# Sheet B <theory>")),
    ]
    out = tmp_path / "report"
    out.mkdir()
    for stem in ("D1_x", "A2_y", "B_theory"):
        (out / f"{stem}.html").write_text("<html></html>")
    summary = tmp_path / "SUMMARY.md"
    summary.write_text("# Results\n\n| notebook | measured |\n|---|---|\n| [A2_y](../notebooks/A2_y.ipynb) | 0.99 |\n")
    return paths, out, summary


def test_sheet_order_sorts_numbers_numerically():
    names = ["C1_a", "B_theory", "A10_b", "B5_c", "A2_d", "B1_e", "D2_f"]
    assert sorted(names, key=sheet_order) == ["A2_d", "A10_b", "B1_e", "B5_c", "B_theory", "C1_a", "D2_f"]


def test_title_is_the_first_markdown_heading(exported):
    paths, _, _ = exported
    assert [notebook_title(p) for p in paths] == ["Sheet D, exercise 1 — dense vs CNN", "Sheet A, exercise 2", "A10_z",
                                                  "Sheet B <theory>"]


def test_index_links_exports_in_sheet_order_and_embeds_the_summary(exported):
    paths, out, summary = exported
    text = write_index(paths, out, summary).read_text()
    items = [line for line in text.splitlines() if line.startswith("<li>")]
    assert items == [
        '<li><a href="A2_y.html">A2_y</a>: Sheet A, exercise 2</li>',
        "<li>A10_z (not exported): A10_z</li>",
        '<li><a href="B_theory.html">B_theory</a>: Sheet B &lt;theory&gt;</li>',
        '<li><a href="D1_x.html">D1_x</a>: Sheet D, exercise 1 — dense vs CNN</li>',
    ]
    assert "<table>" in text and '<a href="A2_y.html">A2_y</a>' in text.split("<table>")[1]
    assert "# Results" not in text


def test_missing_summary_is_said_and_bad_input_rejected(exported, tmp_path, capsys):
    paths, out, _ = exported
    assert main([*map(str, paths), "--out", str(out), "--summary", str(tmp_path / "absent.md")]) == 0
    assert "index.html" in capsys.readouterr().out
    assert "No results summary yet" in (out / "index.html").read_text()
    with pytest.raises(ValueError, match="notebooks: expected existing .ipynb files, got"):
        write_index([tmp_path / "missing.ipynb"], out, tmp_path / "absent.md")
