"""Wall time of every notebook in quick mode and in cached full mode, as a markdown table.

    .venv/bin/python benchmarks/notebook_times.py [--quick-only | --full-only] [--out FILE] [NOTEBOOK ...]

Each notebook is executed with :func:`cnnlab.runner.execute_notebook` into a temporary folder
(committed notebooks are never overwritten), with ``CNNLAB_RESULTS_DIR`` pointing into that folder.
Quick mode (``CNNLAB_QUICK=1``) also gets an empty temporary weights cache, as on a fresh clone in
CI, so its time includes the quick training. Cached full mode uses the committed weights in
``weights/`` (``CNNLAB_RETRAIN=0``); a notebook whose weights are missing would train, which the
table would show. Targets: all notebooks together within 8 minutes in quick mode and within 10
minutes in cached full mode. The table goes to ``benchmarks/notebook_times.md`` and stdout.
Takes about 20 minutes of CPU for all notebooks and both modes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cnnlab  # noqa: F401  (before keras: mutes TensorFlow's start-up lines)
from cnnlab import config
from cnnlab.fileio import write_text_atomic
from cnnlab.runner import execute_notebook

MODES = ("quick", "full")
TARGET_SECONDS = {"quick": 8 * 60, "full": 10 * 60}
HEADINGS = {"quick": "quick mode (s)", "full": "cached full mode (s)"}
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
    return "\n".join(lines) + f"\n\nMeasured {when} by `benchmarks/notebook_times.py`.\n"


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
    modes = ("quick",) if args.quick_only else ("full",) if args.full_only else MODES
    with tempfile.TemporaryDirectory(prefix="cnnlab-notebook-times-") as scratch:
        timings = time_notebooks(notebooks, modes, Path(scratch))
    table = markdown_table(timings, notebooks)
    write_text_atomic(args.out, "# Notebook wall times\n\n" + table)
    print("\n" + table)
    failed = any(status != "ok" for mode in timings.values() for _, status in mode.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
