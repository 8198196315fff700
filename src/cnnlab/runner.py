"""Execute notebooks with nbclient, in quick or full mode, and print a timing table.

    python -m cnnlab.runner notebooks/*.ipynb                  # full mode, outputs written in place
    python -m cnnlab.runner --quick --out build/quick notebooks/*.ipynb

Quick mode sets ``CNNLAB_QUICK=1`` and, unless already set, sends results to a scratch folder
beside the executed copies, so committed notebooks and results are never touched.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from cnnlab.fileio import write_text_atomic


@contextlib.contextmanager
def _environment(**values: str):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute_notebook(path: Path, output: Path, *, quick: bool, timeout: int = 3600, env: dict | None = None) -> float:
    """Run every cell of ``path`` (working directory: its folder) and save the result to ``output``.

    ``env`` adds environment variables for the kernel. Returns wall seconds. Raises
    ``nbclient.exceptions.CellExecutionError`` on the first failing cell; ``output`` then holds the
    notebook up to and including the error, for inspection.
    """
    path, output = Path(path), Path(output)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    start = time.perf_counter()
    try:
        with _environment(CNNLAB_QUICK="1" if quick else "0", **(env or {})):
            client.execute()
    finally:
        write_text_atomic(output, nbformat.writes(nb))
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--quick", action="store_true", help="CNNLAB_QUICK=1: small data, few epochs")
    parser.add_argument("--out", type=Path, help="folder for executed copies (default: overwrite in place)")
    args = parser.parse_args(argv)
    env = {}
    if args.out and "CNNLAB_RESULTS_DIR" not in os.environ:
        env["CNNLAB_RESULTS_DIR"] = str((args.out / "results").resolve())
    rows, failed = [], 0
    for nb in args.notebooks:
        output = args.out / nb.name if args.out else nb
        print(f"executing {nb} ({'quick' if args.quick else 'full'} mode) -> {output}", flush=True)
        start = time.perf_counter()
        try:
            execute_notebook(nb, output, quick=args.quick, env=env)
            status = "ok"
        except Exception as err:  # report every notebook, then fail at the end
            failed += 1
            status = f"FAILED: {type(err).__name__}: {str(err).strip().splitlines()[-1][:120]}"
        rows.append((nb.name, time.perf_counter() - start, status))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'notebook':<{width}}  {'seconds':>8}  status")
    for name, seconds, status in rows:
        print(f"{name:<{width}}  {seconds:8.1f}  {status}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
