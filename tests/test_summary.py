import json

import pytest

from cnnlab import config, summary


def write(folder, notebook, record):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{notebook}.json").write_text(json.dumps(record))


def test_sheet_numbers_are_checked_and_results_listed_without_targets(tmp_path):
    write(tmp_path, "D1_fc_vs_cnn_mnist4000", {"mode": "full", "data": {"source": "MNIST", "stand_in": False},
                                               "metrics": {"fc": {"params": 420_260, "val_accuracy": 0.9},
                                                           "cnn2": {"params": 695_971, "test_accuracy": 0.98},
                                                           "cnn1": {"val_accuracy": 0.95}}, "answers": {}})
    records = summary.read_results(tmp_path)
    checks = {r["metric"]: r["matches"] for r in summary.sheet_rows(records)}
    assert checks == {"metrics.fc.params": "yes", "metrics.cnn2.params": "**no**"}
    text = summary.markdown(records)
    assert "| 0.9800 |" in text and "target" not in text and ">=" not in text


def test_stand_in_numbers_say_so_in_their_row(tmp_path):
    write(tmp_path, "C2_svhn", {"mode": "full", "data": {"source": "generated house numbers", "stand_in": True},
                                "metrics": {"svhn_cnn": {"test_accuracy": 0.9}}, "answers": {}})
    (row,) = [line for line in summary.markdown(summary.read_results(tmp_path)).splitlines() if "svhn_cnn" in line]
    assert "0.9000 (stand-in)" in row and "stand-in: generated house numbers" in row


def test_results_written_from_a_read_only_checkout_are_read_too(tmp_path, monkeypatch, own_user_cache):
    committed = tmp_path / "results"
    write(committed, "B5_two_digit_sum", {"metrics": {"direct": {"sum_accuracy": 0.5}}})
    write(config.user_copy(committed), "C2_svhn", {"metrics": {"svhn_cnn": {"test_accuracy": 0.7}}})
    assert sorted(summary.read_results(committed)) == ["B5_two_digit_sum", "C2_svhn"]


def test_every_row_resolves_in_the_committed_results():
    """No silent '—': each row's metric exists in its notebook's committed results file."""
    records = summary.read_results(config.ROOT / "results")
    wanted = [(nb, path) for nb, _, path, *_ in summary.SHEET_NUMBERS + summary.RESULTS]
    missing = [f"{nb}: {path}" for nb, path in wanted if summary.lookup(records.get(nb, {}), path) is None]
    assert missing == []
    assert all(r["matches"] == "yes" for r in summary.sheet_rows(records))


def test_readme_table_is_replaced_between_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{summary.START}\nold\n{summary.END}\noutro\n")
    summary.update_readme(readme, "new table")
    assert readme.read_text() == f"intro\n{summary.START}\nnew table\n{summary.END}\noutro\n"
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="expected the markers"):
        summary.update_readme(readme, "x")
