"""Execute notebooks with nbclient, in quick or full mode, and print a table of what happened.

    python -m cnnlab.runner notebooks/*.ipynb                  # full mode, outputs written in place
    python -m cnnlab.runner --quick --out build/quick notebooks/*.ipynb

A notebook is replaced only once every cell has run (executed into a temporary file, then
renamed); a failing one is saved to ``build/failed/`` for inspection and Ctrl-C leaves the
notebook being run unchanged. Quick mode (``--quick`` or ``CNNLAB_QUICK=1``) never writes committed
notebooks, weights or results: executed copies go to ``--out`` (default ``build/quick``), results
beside them. In full mode the table is followed by every change to ``results/*.json`` beyond float
noise. If the checkout is not writable, notebooks and results go to the user cache folder
(:func:`cnnlab.config.writable_path`), said in one line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from cnnlab.fileio import write_text_atomic

try:
    from cnnlab import config
except ValueError as err:  # e.g. a misspelled CNNLAB_ variable, refused by cnnlab.config
    sys.exit(f"cnnlab.runner: {err}")

RELATIVE_NOISE = 1e-5
"""Relative change of a number in results/*.json that counts as float noise, not a change."""
ROUND_OFF_LIMIT = 1e-4
"""A number whose key ends in ``_error`` and stays below this size measures round-off (e.g. a float32
check of an identity): its value is itself float noise, so any change of it counts as noise."""


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


def execute_notebook(path: Path, output: Path, *, quick: bool, timeout: int = 3600, env: dict | None = None,
                     failed_dir: Path | None = None) -> float:
    """Run every cell of ``path`` (working directory: its folder) and save the result to ``output``.

    ``output`` is written only if every cell ran. ``env`` adds environment variables for the kernel.
    Returns wall seconds. Raises ``nbclient.exceptions.CellExecutionError`` on the first failing
    cell (the partial notebook is then saved in ``failed_dir``, default ``build/failed/``) and
    ``KeyboardInterrupt`` unchanged.
    """
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    path, output = Path(path), Path(output)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:   # timings belong in benchmarks/, not in a notebook (stale ones from older runs included)
        cell.metadata.pop("execution", None)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cnnlab-kernel-") as sockets:
        # local IPC sockets: no network ports, and no "Kernel is running over TCP" line from the kernel
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "kernel"))
        client = NotebookClient(nb, km=km, timeout=timeout, record_timing=False, coalesce_streams=True,
                                resources={"metadata": {"path": str(path.parent.resolve())}})
        try:
            with _environment(CNNLAB_QUICK="1" if quick else "0", **(env or {})):
                client.execute()
        except Exception:  # not KeyboardInterrupt: an interrupted notebook is neither replaced nor saved
            failed = config.writable_path(Path(failed_dir or config.ROOT / "build" / "failed") / path.name)
            write_text_atomic(failed, nbformat.writes(nb))
            raise
        finally:
            if km.has_kernel:  # a kernel manager passed in is not shut down by nbclient itself
                km.shutdown_kernel(now=True)
    write_text_atomic(output, nbformat.writes(nb))
    return time.perf_counter() - start


def _numbers(obj, prefix: str = "") -> dict:
    if isinstance(obj, dict):
        return {k: v for key, value in obj.items() for k, v in _numbers(value, f"{prefix}{key}.").items()}
    if isinstance(obj, list):
        return {k: v for i, value in enumerate(obj) for k, v in _numbers(value, f"{prefix}{i}.").items()}
    return {prefix.rstrip("."): obj}


def results_changes(before: dict, after: dict) -> list[str]:
    """Lines ``file: key old -> new`` for values that changed beyond float noise.

    Noise: a relative change within :data:`RELATIVE_NOISE`, or a round-off measurement (key ending in
    ``_error``) below :data:`ROUND_OFF_LIMIT` before and after."""
    lines = []
    for name in sorted(set(before) | set(after)):
        old, new = _numbers(before.get(name, {})), _numbers(after.get(name, {}))
        for key in sorted(set(old) | set(new)):
            a, b = old.get(key), new.get(key)
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
            if numeric and (math.isclose(a, b, rel_tol=RELATIVE_NOISE, abs_tol=1e-12)
                            or (key.endswith("_error") and max(abs(a), abs(b)) < ROUND_OFF_LIMIT)):
                continue
            if a != b:
                lines.append(f"{name}: {key} {a!r} -> {b!r}")
    return lines


def _read_results(folder: Path) -> dict:
    out = {}
    for path in sorted(folder.glob("*.json")):
        with contextlib.suppress(ValueError):
            out[path.name] = json.loads(path.read_text())
    return out


def _status(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return f"FAILED: {type(err).__name__}" + (f": {lines[-1][:120]}" if lines else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--quick", action="store_true", help="CNNLAB_QUICK=1: small data, few epochs")
    parser.add_argument("--out", type=Path, help="folder for executed copies (default: overwrite in place; "
                                                 "build/quick in quick mode)")
    args = parser.parse_args(argv)
    quick = args.quick or config.QUICK
    out = args.out or (config.ROOT / "build" / "quick" if quick else None)
    env = {}
    if out and "CNNLAB_RESULTS_DIR" not in os.environ:
        env["CNNLAB_RESULTS_DIR"] = str((out / "results").resolve())
    results_dir = Path(env.get("CNNLAB_RESULTS_DIR") or config.RESULTS_DIR)
    before = _read_results(results_dir)
    rows, failed = [], 0
    for nb in args.notebooks:
        output = config.writable_path(out / nb.name if out else nb)
        print(f"executing {nb.name} ({'quick' if quick else 'full'} mode)", flush=True)
        start = time.perf_counter()
        try:
            execute_notebook(nb, output, quick=quick, env=env)
            status = "ok" if output == (out / nb.name if out else nb) else f"ok (written to {output})"
        except KeyboardInterrupt:
            print(f"interrupted: {nb.name} not changed")
            rows.append((nb.name, time.perf_counter() - start, "interrupted (not changed)"))
            failed = 130
            break
        except Exception as err:  # report every notebook, then fail at the end
            failed = failed or 1
            status = _status(err)
        rows.append((nb.name, time.perf_counter() - start, status))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'notebook':<{width}}  {'seconds':>8}  status")
    for name, seconds, status in rows:
        print(f"{name:<{width}}  {seconds:8.1f}  {status}")
    if not quick:
        changes = results_changes(before, _read_results(results_dir) | _read_results(config.user_copy(results_dir)))
        print("\nresults/: " + ("no changes beyond float noise" if not changes else f"{len(changes)} changes:"))
        for line in changes:
            print("  " + line)
    return failed


if __name__ == "__main__":
    sys.exit(main())
