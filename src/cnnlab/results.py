"""Write a notebook's headline numbers to ``results/<notebook>.json`` (schema: CONVENTIONS.md)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cnnlab import config
from cnnlab.fileio import write_text_atomic


def plain(value, where: str = "record"):
    """``value`` as JSON data (numpy scalars and arrays become numbers and lists); ValueError naming the
    key path (``metrics.cnn.test_accuracy``) of a NaN, an infinity or a value JSON cannot hold."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise ValueError(f"{where}: expected string keys, got {bad[0]!r} ({type(bad[0]).__name__})")
        return {k: plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite number, got {value} (JSON has no NaN or infinity)")
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise ValueError(f"{where}: expected a number, string, list or dict, got {type(value).__name__}")


TIMING_KEY = re.compile(r"seconds|elapsed|duration|wall", re.I)
"""Keys that hold times: results hold what a re-execution reproduces, so times stay in the notebook."""


def without_timings(value):
    """``value`` (nested dicts and lists) without the dict entries whose key names a time (``train_seconds``)."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if not (isinstance(k, str) and TIMING_KEY.search(k))}
    if isinstance(value, (list, tuple)):
        return [without_timings(v) for v in value]
    return value


def stand_in_banner(source: str) -> str:
    """The one-line warning printed wherever results come from generated stand-in data."""
    return f"*** STAND-IN DATA: {source} -- numbers are NOT comparable to the real data set ***"


def save(notebook: str, metrics: dict, answers: dict, data_source: str, *, stand_in: bool = False,
         data_facts: dict | None = None, results_dir: Path | None = None) -> dict:
    """Write ``results/<notebook>.json`` atomically and return the record written.

    metrics: ``{model: {"test_accuracy": float, "params": int, ...}}``; answers: ``{item: value}``;
    data_facts: more facts about the data, added to ``data`` (e.g. ``{"faces_sha256_manifest_ok": True}``).
    The mode (quick / full) comes from ``cnnlab.config``; quick runs go to a scratch folder. If the
    results folder is not writable (read-only checkout) the file goes to its user-cache copy.
    """
    if not re.fullmatch(r"[A-Za-z0-9_]+", notebook or ""):
        raise ValueError(f"notebook: expected the notebook's file stem, e.g. 'A1_translated_mnist', got {notebook!r}")
    if not isinstance(metrics, dict) or not all(isinstance(v, dict) for v in metrics.values()):
        got = {k: type(v).__name__ for k, v in metrics.items()} if isinstance(metrics, dict) else type(metrics).__name__
        raise ValueError(f"metrics: expected a dict of dicts {{model: {{metric: value}}}}, got {got}")
    if not isinstance(answers, dict):
        raise ValueError(f"answers: expected a dict, got {type(answers).__name__}")
    if not isinstance(data_source, str) or not data_source.strip():
        raise ValueError(f"data_source: expected a non-empty description of the data, got {data_source!r}")
    facts = dict(data_facts or {})
    if set(facts) & {"source", "stand_in", "banner"}:
        raise ValueError(f"data_facts: 'source', 'stand_in' and 'banner' have their own arguments, got {sorted(facts)}")
    record = {
        "notebook": notebook,
        "mode": config.MODE,
        "data": {"source": data_source, "stand_in": bool(stand_in), **facts},
        "metrics": metrics,
        "answers": answers,
    }
    if stand_in:
        record["data"]["banner"] = stand_in_banner(data_source)
    record = plain(record)
    text = json.dumps(record, indent=2, allow_nan=False)
    write_text_atomic(config.writable_path(Path(results_dir or config.RESULTS_DIR) / f"{notebook}.json"), text + "\n")
    return record


def table(metrics: dict, columns: tuple[str, ...] = ("test_accuracy", "params")) -> str:
    """A fixed-width text table of ``metrics`` (one row per model) for printing in notebooks."""
    if not isinstance(metrics, dict) or not all(isinstance(v, dict) for v in metrics.values()):
        raise ValueError(f"metrics: expected a dict of dicts {{model: {{column: value}}}}, got {type(metrics).__name__}")
    width = max([5] + [len(m) for m in metrics])
    lines = [f"{'model':<{width}}  " + "  ".join(f"{c:>14}" for c in columns)]
    for model, row in metrics.items():
        cells = []
        for c in columns:
            v = row.get(c, "")
            cells.append(f"{v:>14.4f}" if isinstance(v, float) else f"{v!s:>14}")
        lines.append(f"{model:<{width}}  " + "  ".join(cells))
    return "\n".join(lines)


def confirm(claims: dict[str, bool | Callable[[], bool]], *, in_quick_mode: bool = False) -> None:
    """Stop the notebook if a claim its Answer makes no longer holds: ``claims`` maps each claim, in words,
    to whether the numbers above support it, or to a function returning that (for claims about settings
    only full mode runs). Silent when all hold. Quick mode's tiny runs support no claim, so there nothing
    is checked unless ``in_quick_mode`` (for checks of code, not of results)."""
    if config.QUICK and not in_quick_mode:
        return
    failed = [claim for claim, holds in claims.items() if not (holds() if callable(holds) else holds)]
    if failed:
        raise AssertionError("the numbers above no longer support: " + "; ".join(failed)
                             + ". Rewrite the Answer from the new numbers, then update these claims.")
