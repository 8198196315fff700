"""Temporary: adopt weights cached under the old ``<name>-<key>`` scheme into the new records (re-keying
by loading, no retraining). Removed once every committed model is re-keyed."""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

from cnnlab.fileio import sha256_file


def adopting() -> bool:
    return bool(os.environ.get("ADOPT_LEGACY_WEIGHTS"))


def adopt(model, name: str, folder: Path, training: dict):
    """(legacy history, legacy weights path) if exactly one legacy pair of ``name`` with the same epochs,
    batch size and seed exists and loads into ``model``; else None."""
    if not os.environ.get("ADOPT_LEGACY_WEIGHTS"):
        return None
    found = sorted(folder.glob(f"{name}-*.history.json"))
    if len(found) != 1:
        if found:
            print(f"{name}: {len(found)} legacy records, not adopting")
        return None
    record = json.loads(found[0].read_text())
    old = record.get("training", {})
    if any(old.get(k) != training[k] for k in ("epochs", "batch_size", "seed")):
        print(f"{name}: legacy training {old} differs from {training}, not adopting")
        return None
    weights = found[0].with_name(found[0].name.replace(".history.json", ".weights.h5"))
    if record.get("weights_sha256") and sha256_file(weights) != record["weights_sha256"]:
        raise ValueError(f"{weights.name}: legacy checksum mismatch")
    with warnings.catch_warnings():  # legacy files hold optimiser slots; the unbuilt optimiser skips them
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        model.load_weights(weights)
    print(f"{name}: adopted legacy weights")
    return record["history"], weights, found[0]


def place(weights: Path, target: Path, history_file: Path) -> None:
    """Move the legacy weights file (same bytes) to ``target``; drop the legacy history file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(weights), str(target))
    history_file.unlink()


def rekey(record: dict, parts: dict, key: str) -> dict | None:
    """With ``REKEY_RECORDS=1``: ``record`` under the new ``key`` if only the architecture's and compile
    configuration's text changed (a fix to how names are canonicalised), never the training, data or size."""
    if not os.environ.get("REKEY_RECORDS"):
        return None
    old = record.get("parts", {})
    same = [k for k in ("version", "params", "training", "data") if old.get(k) == parts.get(k)]
    if len(same) < 4:
        print(f"{record.get('name')}: not re-keyed, {sorted({'version', 'params', 'training', 'data'} - set(same))} differ")
        return None
    print(f"{record.get('name')}: re-keyed")
    return record | {"key": key, "parts": parts}
