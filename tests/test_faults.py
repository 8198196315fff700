"""Faults a student or grader can meet, one row each: what is damaged or mistyped, and the one-line
refusal that must follow. The unit tests of each module cover the mechanisms; this table runs them on
copies of the committed files and on the entry points people use."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from cnnlab import config, experiment, results

COMMITTED = sorted(p for p in (config.ROOT / "weights").glob("*.json")
                   if json.loads(p.read_text()).get("weights_kept"))


def copy_committed(record_path, folder):
    """A committed record and its weights file, copied into ``folder``: (record dict, weights copy)."""
    record = json.loads(record_path.read_text())
    weights = experiment._weights_file(record["name"], record)
    shutil.copy(record_path, folder / record_path.name)
    shutil.copy(config.ROOT / "weights" / weights, folder / weights)
    return record, folder / weights


def test_every_committed_weights_file_has_its_checksum_and_matches_it():
    assert COMMITTED, "no committed weights found"
    for path in COMMITTED:
        record = json.loads(path.read_text())
        weights = config.ROOT / "weights" / experiment._weights_file(record["name"], record)
        assert len(record.get("weights_sha256", "")) == 64, path.name
        assert experiment.sha256_file(weights) == record["weights_sha256"], weights.name


def flipped_bit(tmp_path):
    record, weights = copy_committed(COMMITTED[0], tmp_path)
    raw = bytearray(weights.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    weights.write_bytes(bytes(raw))
    experiment._load_weights(None, record["name"], tmp_path, record)  # refused before any model is needed


def record_without_checksum(tmp_path):
    record, _ = copy_committed(COMMITTED[0], tmp_path)
    del record["weights_sha256"]
    experiment._load_weights(None, record["name"], tmp_path, record)


def missing_record(tmp_path):
    record, _ = copy_committed(COMMITTED[0], tmp_path)
    (tmp_path / f"{record['name']}.json").unlink()
    from cnnlab.models import compile_classifier, dense_classifier

    experiment.fit_or_load(lambda: compile_classifier(dense_classifier((4, 4, 1), n_classes=2)),
                           (np.zeros((4, 4, 4, 1), np.float32), np.array([0, 1, 0, 1])), name=record["name"], epochs=1,
                           batch_size=2, weights_dir=tmp_path, verbose=0)


def nan_in_results(tmp_path):
    results.save("A0_fault", {"cnn": {"test_accuracy": float("nan")}}, {}, "MNIST", results_dir=tmp_path)


def labels_out_of_range(tmp_path):
    from cnnlab.models import compile_classifier, dense_classifier

    experiment.fit_or_load(lambda: compile_classifier(dense_classifier((4, 4, 1), n_classes=2)),
                           (np.zeros((4, 4, 4, 1), np.float32), np.array([0, 1, 5, 1])), name="x", epochs=1,
                           batch_size=2, weights_dir=tmp_path, verbose=0)


FAULTS = [
    ("one flipped bit in a committed weights file", flipped_bit, "does not match the SHA-256 in its history record"),
    ("a record without a checksum", record_without_checksum, "has no weights_sha256"),
    ("a committed weights file whose record is missing", missing_record, "its history record .* is missing or unreadable"),
    ("NaN in a results file", nan_in_results, "record.metrics.cnn.test_accuracy: expected a finite number"),
    ("labels outside the model's classes", labels_out_of_range, r"data y: expected labels in \[0, 2\)"),
]


@pytest.mark.parametrize("fault, make, message", FAULTS, ids=[f[0] for f in FAULTS])
def test_a_fault_is_refused_in_one_line(fault, make, message, tmp_path):
    with pytest.raises(ValueError, match=message) as raised:
        make(tmp_path)
    assert "\n" not in str(raised.value)
    assert not list(tmp_path.glob(".*"))  # no half-written temporary file left behind


def test_a_misspelled_mode_variable_stops_make_run_before_anything_runs(tmp_path):
    env = {"CNNLAB_QIUCK": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "cnnlab.runner", str(config.ROOT / "notebooks" / "B_theory.ipynb")],
                          env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 1 and "did you mean CNNLAB_QUICK?" in done.stderr and done.stdout == ""
