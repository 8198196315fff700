import json

import numpy as np
import pytest

from cnnlab import config, results


def test_save_writes_the_conventions_schema(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "MODE", "quick")
    metrics = {"cnn": {"test_accuracy": np.float32(0.5), "params": np.int64(12)}}
    record = results.save("A1_test", metrics, {"best": "cnn", "curve": np.arange(3)}, "MNIST", results_dir=tmp_path)
    on_disk = json.loads((tmp_path / "A1_test.json").read_text())
    assert on_disk == record
    assert on_disk["mode"] == "quick" and on_disk["data"] == {"source": "MNIST", "stand_in": False}
    assert on_disk["metrics"]["cnn"] == {"test_accuracy": 0.5, "params": 12}
    assert on_disk["answers"]["curve"] == [0, 1, 2]


def test_stand_in_is_flagged_but_not_announced_again(tmp_path, capsys):
    record = results.save("C2_x", {}, {}, "generated digits", stand_in=True, results_dir=tmp_path)
    assert record["data"]["stand_in"] is True and "STAND-IN" in record["data"]["banner"]
    assert capsys.readouterr().out == ""  # the loader announces the stand-in once; saving does not repeat it


def test_saved_file_is_strict_json(tmp_path):
    results.save("A1_x", {"m": {"acc": np.float32(0.5), "curve": np.arange(3)}}, {}, "MNIST", results_dir=tmp_path)
    text = (tmp_path / "A1_x.json").read_text()
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))["metrics"]["m"]["curve"] == [0, 1, 2]
    with pytest.raises(ValueError, match="record.metrics.m.acc: expected a finite number, got nan"):
        results.save("A1_x", {"m": {"acc": np.float64("nan")}}, {}, "MNIST", results_dir=tmp_path)
    assert "nan" not in (tmp_path / "A1_x.json").read_text().lower()  # the earlier file is left as it was


@pytest.mark.parametrize("args, match", [
    (("../evil", {}, {}), "notebook: expected the notebook's file stem"),
    (("A1", {"cnn": 0.9}, {}), "metrics: expected a dict of dicts"),
    (("A1", {}, ["x"]), "answers: expected a dict"),
])
def test_save_rejects_bad_input(args, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        results.save(*args, "MNIST", results_dir=tmp_path)


def test_table_prints_one_row_per_model():
    text = results.table({"dense": {"test_accuracy": 0.91234, "params": 10}, "cnn": {"params": 5}})
    lines = text.splitlines()
    assert len(lines) == 3 and "0.9123" in lines[1] and lines[2].split()[0] == "cnn"


def test_without_timings_drops_time_keys_at_any_depth():
    record = {"cnn": {"test_accuracy": 0.9, "train_seconds": 12.0}, "search": [{"seconds_to_95": 3.0, "params": 5}]}
    assert results.without_timings(record) == {"cnn": {"test_accuracy": 0.9}, "search": [{"params": 5}]}


def test_data_facts_join_the_data_record_but_cannot_replace_its_own_fields(tmp_path):
    record = results.save("nb", {"m": {"test_accuracy": 0.5}}, {}, "MNIST", data_facts={"checked": True}, results_dir=tmp_path)
    assert record["data"] == {"source": "MNIST", "stand_in": False, "checked": True}
    with pytest.raises(ValueError, match="data_facts"):
        results.save("nb", {}, {}, "MNIST", data_facts={"stand_in": True}, results_dir=tmp_path)


def test_confirm_names_every_failed_claim_and_is_silent_otherwise(monkeypatch, capsys):
    monkeypatch.setattr(config, "QUICK", False)
    results.confirm({"a beats b": True})
    with pytest.raises(AssertionError, match="no longer support: b beats c; c has 474 parameters"):
        results.confirm({"a beats b": True, "b beats c": False, "c has 474 parameters": False})
    with pytest.raises(AssertionError, match="no longer support: d beats e\\. "):
        results.confirm({"a beats b": lambda: True, "d beats e": lambda: False})
    monkeypatch.setattr(config, "QUICK", True)
    results.confirm({"b beats c": False})                                  # quick runs support no claim
    results.confirm({"keep 0.15 beats keep 0.5": lambda: {}["keep 0.15"]})   # and a lazy claim is not evaluated
    with pytest.raises(AssertionError, match="rot90 keeps shapes"):
        results.confirm({"rot90 keeps shapes": False}, in_quick_mode=True)
    assert capsys.readouterr().out == ""
