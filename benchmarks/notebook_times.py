"""Wall time of every notebook in quick mode and in cached full mode, as a markdown table.

    .venv/bin/python benchmarks/notebook_times.py [--quick-only | --full-only] [--update-notebooks] [--out FILE] [NOTEBOOK ...]

Each notebook is executed with :func:`cnnlab.runner.execute_notebook` into a temporary folder
(committed notebooks are never overwritten), with ``CNNLAB_RESULTS_DIR`` pointing into that folder.
Quick mode (``CNNLAB_QUICK=1``) also gets an empty temporary weights cache, as on a fresh clone in
CI, so its time includes the quick training. Cached full mode uses the committed weights in
``weights/`` (``CNNLAB_RETRAIN=0``); a notebook whose weights are missing would train, which the
table would show. Retraining is not run (hours on this CPU): its time is estimated as the cached
full run plus the per-epoch wall seconds recorded in the history of every cached model the notebook
loaded. Targets: all notebooks together within 8 minutes in quick mode, 10 minutes in cached full
mode, 90 minutes retrained. The table goes to ``benchmarks/notebook_times.md`` and stdout;
``--update-notebooks`` also writes each notebook's times into the "Run time" paragraph of its first
cell (markdown only; outputs are kept). Cached full mode runs first, so on a fresh clone its time
includes building the data caches. Takes about 20 minutes for all notebooks and both modes.
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

import nbformat

import cnnlab  # noqa: F401  (before keras: mutes TensorFlow's start-up lines)
from cnnlab import config
from cnnlab.fileio import write_text_atomic
from cnnlab.runner import execute_notebook

MODES = ("quick", "full", "retrain")
TARGET_SECONDS = {"quick": 8 * 60, "full": 10 * 60, "retrain": 90 * 60}
HEADINGS = {"quick": "quick mode (s)", "full": "cached full mode (s)", "retrain": "retrain, estimated (s)"}
LOADED = re.compile(r"loaded cached weights (\S+\.weights\.h5)|loaded (\S+\.keras) ")
RUN_TIME = re.compile(r"\*\*Run time on a 2-core CPU[^*]*\*\*.*?(?=\n\n|\Z)", re.S)
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


def cached_models(executed: Path, weights_dir: Path) -> list[str]:
    """File names of a notebook's cached models: those its executed copy says it loaded, plus every
    ``<prefix>_*.weights.h5`` in ``weights_dir`` (prefix: the notebook's sheet item, e.g. ``B1``; models
    loaded silently, e.g. in a search, are found this way)."""
    nb = nbformat.read(executed, as_version=4)
    text = "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for out in cell.get("outputs", []) if out.get("output_type") == "stream")
    prefix = Path(executed).stem.split("_")[0] + "_"
    named = {p.name for p in Path(weights_dir).glob(f"{prefix}*.weights.h5")}
    return sorted({weights or keras_file for weights, keras_file in LOADED.findall(text)} | named)


def recorded_training_seconds(model_files: list[str], weights_dir: Path) -> float:
    """Sum of the per-epoch wall seconds recorded in each model's ``<stem>.history.json``."""
    total = 0.0
    for name in model_files:
        stem = name.removesuffix(".weights.h5").removesuffix(".keras")
        history = Path(weights_dir) / f"{stem}.history.json"
        if not history.is_file():
            raise ValueError(f"{name}: expected its training record {history}, which is missing")
        total += sum(json.loads(history.read_text())["history"].get("epoch_seconds", []))
    return total


def add_retrain_estimates(timings: Timings, notebooks: list[Path], full_folder: Path, weights_dir: Path) -> dict:
    """``timings["retrain"]``: cached full time + recorded training time; returns {stem: number of models}."""
    counts, timings["retrain"] = {}, {}
    for path in notebooks:
        seconds, status = timings["full"][path.stem]
        models = cached_models(Path(full_folder) / path.name, weights_dir) if status == "ok" else []
        counts[path.stem] = len(models)
        timings["retrain"][path.stem] = (seconds + recorded_training_seconds(models, weights_dir), status)
    return counts


def run_time_paragraph(quick: float, full: float, retrain: float, n_models: int, when: str) -> str:
    """The first cell's "Run time" paragraph (seconds in, rounded prose out)."""
    models = f"{n_models} cached models" if n_models > 1 else "cached model"
    retrained = (f"retraining its {models} (`CNNLAB_RETRAIN=1`) about {retrain / 60:.0f} min, estimated from the "
                 f"training time{'s' if n_models > 1 else ''} recorded with the weights"
                 if n_models else "nothing is trained, so retraining changes nothing")
    return (f"**Run time on a 2-core CPU** (measured by `benchmarks/notebook_times.py`, {when}): quick mode "
            f"{quick:.0f} s; full mode with the committed weights {full:.0f} s (including any data cache it had "
            f"to build); {retrained}.")


def update_run_time(path: Path, paragraph: str) -> None:
    """Replace the "**Run time on a 2-core CPU...**" paragraph of the notebook's first (markdown) cell."""
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0] if nb.cells else None
    if first is None or first.cell_type != "markdown" or not RUN_TIME.search(first.source):
        raise ValueError(f"{Path(path).name}: expected a first markdown cell with a '**Run time on a 2-core CPU:**' "
                         "paragraph to update; add one")
    first.source = RUN_TIME.sub(lambda _: paragraph, first.source, count=1)
    write_text_atomic(path, nbformat.writes(nb))


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
        totals.append(f"**{total:.0f}** (target <= {target} s: {'met' if total <= target else '**not met**'})")
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
    parser.add_argument("--update-notebooks", action="store_true",
                        help="write the measured times into each notebook's first cell (needs both modes)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"markdown file (default: {DEFAULT_OUT.name})")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((config.ROOT / "notebooks").glob("*.ipynb"))
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    # full first: on a fresh clone it then includes building the data caches, as a grader's `make run` does
    modes = ("quick",) if args.quick_only else ("full",) if args.full_only else ("full", "quick")
    if args.update_notebooks and len(modes) < 2:
        parser.error("--update-notebooks needs both modes (drop --quick-only / --full-only)")
    with tempfile.TemporaryDirectory(prefix="cnnlab-notebook-times-") as scratch:
        timings = time_notebooks(notebooks, modes, Path(scratch))
        counts = add_retrain_estimates(timings, notebooks, Path(scratch) / "full", config.WEIGHTS_DIR) if "full" in modes else {}
    if args.update_notebooks:
        when = time.strftime("%Y-%m-%d")
        for path in notebooks:
            if all(timings[m][path.stem][1] == "ok" for m in MODES):
                update_run_time(path, run_time_paragraph(*(timings[m][path.stem][0] for m in MODES), counts[path.stem], when))
            else:
                print(f"{path.name}: not updated (a run failed)")
    table = markdown_table(timings, notebooks)
    write_text_atomic(args.out, "# Notebook wall times\n\n" + table)
    print("\n" + table)
    failed = any(status != "ok" for mode in timings.values() for _, status in mode.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
