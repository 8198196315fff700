"""Wall time of every notebook in quick mode and in cached full mode, as a markdown table.

    .venv/bin/python benchmarks/notebook_times.py [--quick-only | --full-only] [--update-notebooks] [--out FILE] [NOTEBOOK ...]

Each notebook is executed with :func:`cnnlab.runner.execute_notebook` into a temporary folder
(committed notebooks are never overwritten), with ``CNNLAB_RESULTS_DIR`` pointing into that folder.
Quick mode (``CNNLAB_QUICK=1``) also gets an empty temporary weights cache, as on a fresh clone in
CI, so its time includes the quick training. Cached full mode uses the committed records in
``weights/`` with ``CNNLAB_REQUIRE_CACHE=1``, so a notebook whose cached run is missing fails
instead of training. Retraining is not run (hours on this CPU): its time is estimated as the cached
full run plus the training seconds recorded in every record of the notebook (``weights/<prefix>_*.json``).
Targets: all notebooks together within 6 minutes in quick mode, 8 minutes in cached full mode.
The table goes to ``benchmarks/notebook_times.md`` and stdout; run times live only there, never in
a notebook. Cached full mode runs first, so on a fresh clone its time includes building the data
caches.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


from cnnlab import config
from cnnlab.fileio import write_text_atomic
from cnnlab.runner import execute_notebook

MODES = ("quick", "full", "retrain")
TARGET_SECONDS = {"quick": 6 * 60, "full": 8 * 60, "retrain": None}
HEADINGS = {"quick": "quick mode (s)", "full": "cached full mode (s)", "retrain": "retrain, estimated (s)"}
DEFAULT_OUT = Path(__file__).with_suffix(".md")

Timings = dict[str, dict[str, tuple[float, str]]]
"""mode -> notebook stem -> (wall seconds, "ok" or the failure)."""


def time_notebooks(notebooks: list[Path], modes: tuple[str, ...], scratch: Path,
                   execute: Callable | None = None) -> Timings:
    """Execute each notebook in each mode into ``scratch/<mode>/`` and return the wall times.

    ``execute(path, output, quick=..., env=...)`` runs one notebook (default: cnnlab.runner's);
    a failing notebook is timed up to its failure and marked with the error's last line.
    """
    execute = execute or execute_notebook
    timings: Timings = {}
    for mode in modes:
        folder = Path(scratch) / mode
        env = {"CNNLAB_RESULTS_DIR": str(folder / "results"), "CNNLAB_RETRAIN": "0"}
        if mode == "quick":
            env["CNNLAB_WEIGHTS_DIR"] = str(folder / "weights")  # as on a fresh clone
        else:
            env["CNNLAB_REQUIRE_CACHE"] = "1"  # a missing cached run fails instead of training
        timings[mode] = {}
        for path in notebooks:
            print(f"{mode:>5}: {path.name} ...", flush=True)
            start = time.perf_counter()
            try:
                execute(path, folder / path.name, quick=mode == "quick", env=env)
                status = "ok"
            except Exception as err:  # time and report every notebook, failures included
                status = f"FAILED: {(str(err).strip().splitlines() or [type(err).__name__])[-1][:100]}"
            timings[mode][path.stem] = (time.perf_counter() - start, status)
    return timings


def notebook_records(notebook: Path, weights_dir: Path) -> list[Path]:
    """The training records of a notebook's models: ``weights_dir/<prefix>_*.json`` (prefix: the
    notebook's sheet item, e.g. ``B1``)."""
    return sorted(Path(weights_dir).glob(f"{Path(notebook).stem.split('_')[0]}_*.json"))


def recorded_training_seconds(records: list[Path]) -> float:
    """Training seconds recorded in the records: per-epoch wall time, or an IterationLog's training time."""
    total = 0.0
    for path in records:
        history = json.loads(path.read_text())["history"]
        total += history["train_seconds"][-1] if history.get("train_seconds") else sum(history.get("epoch_seconds", []))
    return total


def add_retrain_estimates(timings: Timings, notebooks: list[Path], weights_dir: Path) -> dict:
    """``timings["retrain"]``: cached full time + recorded training time; returns {stem: number of models}."""
    counts, timings["retrain"] = {}, {}
    for path in notebooks:
        seconds, status = timings["full"][path.stem]
        records = notebook_records(path, weights_dir)
        counts[path.stem] = len(records)
        timings["retrain"][path.stem] = (seconds + recorded_training_seconds(records), status)
    return counts


def machine_and_commit() -> str:
    """"commit <short hash> on <n> CPU cores (<model>)": what the times were measured on."""
    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=config.ROOT, capture_output=True, text=True)
    cpuinfo = Path("/proc/cpuinfo")
    models = re.findall(r"model name\s*:\s*(.+)", cpuinfo.read_text()) if cpuinfo.is_file() else []
    return (f"commit {found.stdout.strip() or 'unknown'} on {os.cpu_count()} CPU cores"
            + (f" ({models[0].strip()})" if models else ""))


def markdown_table(timings: Timings, notebooks: list[Path]) -> str:
    """One row per notebook, one column per mode run, a totals row compared with the targets."""
    modes = [m for m in MODES if m in timings]
    lines = ["| notebook | " + " | ".join(HEADINGS[m] for m in modes) + " |", "|---" * (len(modes) + 1) + "|"]
    for path in notebooks:
        cells = []
        for mode in modes:
            seconds, status = timings[mode][path.stem]
            cells.append(f"{seconds:.1f}" + ("" if status == "ok" else f" ({status})"))
        lines.append(f"| {path.stem} | " + " | ".join(cells) + " |")
    totals = []
    for mode in modes:
        total = sum(seconds for seconds, _ in timings[mode].values())
        target = TARGET_SECONDS[mode]
        totals.append(f"**{total:.0f}**" + ("" if target is None else
                                            f" (target <= {target} s: {'met' if total <= target else '**not met**'})"))
    lines.append("| **total** | " + " | ".join(totals) + " |")
    when = time.strftime("%Y-%m-%d %H:%M")
    order = " then ".join(m for m in timings if m != "retrain")
    return "\n".join(lines) + (f"\n\nMeasured {when} by `benchmarks/notebook_times.py` at {machine_and_commit()}, modes run {order}; "
                               "data caches (MNIST, SVHN stand-in, VGG16 conversion, face features) are built by the "
                               "first run that needs them, so on a fresh clone the first mode's time includes them.\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/*.ipynb")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--quick-only", action="store_true", help="only quick mode")
    only.add_argument("--full-only", action="store_true", help="only cached full mode")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"markdown file (default: {DEFAULT_OUT.name})")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((config.ROOT / "notebooks").glob("*.ipynb"))
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    # full first: on a fresh clone it then includes building the data caches, as a grader's `make run` does
    modes = ("quick",) if args.quick_only else ("full",) if args.full_only else ("full", "quick")
    with tempfile.TemporaryDirectory(prefix="cnnlab-notebook-times-") as scratch:
        timings = time_notebooks(notebooks, modes, Path(scratch))
    if "full" in modes:
        add_retrain_estimates(timings, notebooks, config.WEIGHTS_DIR)
    table = markdown_table(timings, notebooks)
    write_text_atomic(args.out, "# Notebook wall times\n\n" + table)
    print("\n" + table)
    failed = any(status != "ok" for mode in timings.values() for _, status in mode.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
