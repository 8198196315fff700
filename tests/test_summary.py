import json

import pytest

from cnnlab import summary


def write(folder, notebook, record):
    (folder / f"{notebook}.json").write_text(json.dumps(record))


def test_rows_compare_measured_values_with_numbers_and_other_metrics(tmp_path):
    write(tmp_path, "A3_rotated_mnist", {"mode": "full", "data": {"source": "MNIST", "stand_in": False},
                                         "metrics": {"p4cnn": {"test_accuracy": 0.97}, "cnn": {"test_accuracy": 0.98},
                                                     "dense100": {"test_accuracy": 0.5}, "p4_dense": {"test_accuracy": 0.6}},
                                         "answers": {"matmul_max_abs_error": 2e-7, "invariance_max_abs_error": 1e-7}})
    table = {r["item"]: r for r in summary.rows(tmp_path)}
    assert table["P4-CNN vs CNN of similar size"]["met"] == "**no**"
    assert table["A3.4 layer == explicit matrix product"]["met"] == "yes"
    assert table["A3.3 dense 100, rotated MNIST"]["met"] == "" and table["A3.3 dense 100, rotated MNIST"]["measured"] == "0.5000"
    assert all(r["notebook"] == "A3_rotated_mnist" for r in table.values())


def test_stand_in_sources_are_flagged(tmp_path):
    write(tmp_path, "D2_vgg16_transfer_faces", {"mode": "quick", "data": {"source": "generated faces", "stand_in": True},
                                                "metrics": {"vgg_head_8": {"test_accuracy": 0.9}}, "answers": {}})
    text = summary.markdown(summary.rows(tmp_path))
    assert "**Stand-in data** in D2_vgg16_transfer_faces: generated faces" in text
    assert "| — |" in text  # the 40-people metric is missing


def test_readme_table_is_replaced_between_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{summary.START}\nold\n{summary.END}\noutro\n")
    summary.update_readme(readme, "new table")
    assert readme.read_text() == f"intro\n{summary.START}\nnew table\n{summary.END}\noutro\n"
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="expected the markers"):
        summary.update_readme(readme, "x")
