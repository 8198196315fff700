"""Wall time of ``cnnlab.experiment.fit_or_load`` (retraining) relative to a bare ``model.fit``.

Both train the same small CNN (``conv_classifier`` with 8 and 16 filters) on the same 10,000
random 28x28 images for 2 epochs from the same seed; ``fit_or_load`` adds the cache key (model
JSON and a hash of the data), the epoch timer and the atomic save of weights and history into a
temporary folder. TensorFlow's one-off start-up is excluded by a warm-up fit of a throwaway
model; the two variants then run alternately (``--runs`` rounds, order swapped each round). Each
run's wall time and the process's CPU time (all threads) are taken; the reported ratios are the
medians over rounds, with a breakdown of fit_or_load's extra steps. The CPU-time ratio is the one
to trust when other jobs share the machine (their load stretches wall times run by run).
Target: ratio <= 1.03.

    .venv/bin/python benchmarks/fit_overhead.py [--runs 2] [--n 10000] [--epochs 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cnnlab  # noqa: F401  (before keras: mutes TensorFlow's start-up lines)
import numpy as np

from cnnlab import config
from cnnlab.models import compile_classifier, conv_classifier
from cnnlab.experiment import cache_key, fit_or_load, key_parts
from cnnlab.train import fingerprint

TARGET = 1.03
BATCH_SIZE = 128
SEED = 0


def build():
    """The benchmark's compiled model: (n, 28, 28, 1) float32 -> 10 class probabilities."""
    return compile_classifier(conv_classifier((28, 28, 1), filters=(8, 16)))


def make_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random images (n, 28, 28, 1) float32 in [0, 1] and labels (n,) int64 in 0..9."""
    rng = np.random.default_rng(SEED)
    return rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n)


def timed(fn) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of calling ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def bare_fit(data, epochs: int, folder: Path) -> None:
    """Seed + build + ``model.fit``: what a notebook without the cache would do (``folder`` unused)."""
    config.seed(SEED)
    build().fit(*data, epochs=epochs, batch_size=BATCH_SIZE, verbose=0)


def cached_fit(data, epochs: int, folder: Path) -> None:
    """``fit_or_load`` with ``CNNLAB_RETRAIN`` on, saving into ``folder``."""
    config.RETRAIN = True
    fit_or_load(build, data, name="bench", epochs=epochs, batch_size=BATCH_SIZE, verbose=0, weights_dir=folder,
                keep_weights=True)


def extra_steps(data, epochs: int) -> dict[str, float]:
    """Seconds of fit_or_load's own steps, measured separately: data fingerprint and whole cache key."""
    model = build()
    start = time.perf_counter()
    fingerprint(*data)
    middle = time.perf_counter()
    cache_key(key_parts(model, list(data), {"epochs": epochs, "batch_size": BATCH_SIZE, "seed": SEED, "callbacks": []}))
    return {"data fingerprint": middle - start, "cache key (incl. fingerprint)": time.perf_counter() - middle}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="rounds of (bare, fit_or_load), order alternating")
    parser.add_argument("--n", type=int, default=10_000, help="training images")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)
    data = make_data(args.n)
    config.seed(SEED)
    build().fit(data[0][:BATCH_SIZE], data[1][:BATCH_SIZE], epochs=1, batch_size=BATCH_SIZE, verbose=0)  # warm-up
    times = {bare_fit: [], cached_fit: []}  # per variant: (wall, cpu) per round
    with tempfile.TemporaryDirectory() as folder:
        for run in range(args.runs):
            for fn in (bare_fit, cached_fit) if run % 2 == 0 else (cached_fit, bare_fit):
                times[fn].append(timed(lambda fn=fn: fn(data, args.epochs, Path(folder))))
    bare, cached = np.array(times[bare_fit]), np.array(times[cached_fit])  # (runs, 2)
    print(f"{args.n} images 28x28, {args.epochs} epochs, batch {BATCH_SIZE}, {args.runs} run(s) each, alternating")
    for label, t in (("bare model.fit", bare), ("fit_or_load (retraining)", cached)):
        print(f"{label:>26}: wall {' '.join(f'{w:6.2f}' for w in t[:, 0])} s | cpu {' '.join(f'{c:6.2f}' for c in t[:, 1])} s")
    for step, seconds in extra_steps(data, args.epochs).items():
        print(f"  fit_or_load's {step}: {seconds * 1000:.0f} ms")
    for i, kind in enumerate(("wall", "cpu")):
        ratio = statistics.median(cached[:, i] / bare[:, i])
        verdict = "OK" if ratio <= TARGET else "ABOVE TARGET"
        print(f"ratio fit_or_load / bare fit ({kind} time, median of rounds): {ratio:.3f} (target <= {TARGET}) {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
