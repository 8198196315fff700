"""Forward + backward time of the P4 layers relative to a plain layer with the same FLOPs.

Each P4 layer is paired with the plain Keras layer that has the same input and the same number
of output channels (4 * filters), hence the same multiply-adds: P4ConvZ2 and P4ConvP4 vs
Conv2D, P4Dense vs Dense. A step is one tf.function computing the output, a sum-of-squares
loss and the gradients with respect to the input and the weights. The two layers of a pair
are timed alternately, repetition after repetition, and the ratio reported is the median of
the per-repetition ratios (robust to background load). Target: ratio <= 1.05, i.e. the cost
of the rotated filter bank is negligible next to the one convolution.

    .venv/bin/python benchmarks/p4_speed.py [--reps 30] [--inner 5] [--batch 64]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

from cnnlab.layers import P4ConvP4, P4ConvZ2, P4Dense

TARGET = 1.05


def train_step(layer, x):
    """A compiled forward + backward pass of ``layer`` on the fixed batch ``x``."""
    layer(x)  # build the weights outside the tf.function

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.square(layer(x)))
        return tape.gradient(loss, [x, *layer.trainable_variables])

    step()  # trace and warm up
    return step


def seconds_per_step(step, inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        grads = step()
    _ = grads[0].numpy()  # wait for the last step
    return (time.perf_counter() - start) / inner


def cases(batch: int, filters: int, dense_filters: int):
    rng = np.random.default_rng(0)
    images = tf.constant(rng.random((batch, 28, 28, 1), dtype=np.float32))
    maps = tf.constant(rng.random((batch, 28, 28, 4 * filters), dtype=np.float32))
    flat = tf.constant(rng.random((batch, 784), dtype=np.float32))
    out = 4 * filters
    return [
        (f"P4ConvZ2 3x3, 1 -> 4x{filters}", P4ConvZ2(filters, 3), keras.layers.Conv2D(out, 3, padding="same"), images),
        (f"P4ConvP4 3x3, 4x{filters} -> 4x{filters}", P4ConvP4(filters, 3), keras.layers.Conv2D(out, 3, padding="same"),
         maps),
        (f"P4Dense 784 -> 4x{dense_filters}", P4Dense(dense_filters), keras.layers.Dense(4 * dense_filters), flat),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30, help="alternating repetitions per pair (median taken)")
    parser.add_argument("--inner", type=int, default=5, help="steps timed back to back per repetition")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--filters", type=int, default=8, help="conv group channels (Conv2D gets 4x as many)")
    parser.add_argument("--dense-filters", type=int, default=25, help="P4Dense filters (25 = the sheet's 100 units)")
    args = parser.parse_args()
    for name in ("reps", "inner", "batch", "filters", "dense_filters"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')}: expected a positive int, got {getattr(args, name)}")

    keras.utils.set_random_seed(0)
    rows = []
    for label, p4_layer, plain_layer, x in cases(args.batch, args.filters, args.dense_filters):
        p4_step, plain_step = train_step(p4_layer, x), train_step(plain_layer, x)
        p4_times, plain_times = [], []
        for rep in range(args.reps):
            pair = [(p4_step, p4_times), (plain_step, plain_times)]
            for step, times in (pair if rep % 2 == 0 else pair[::-1]):  # alternate who goes first
                times.append(seconds_per_step(step, args.inner))
        ratio = statistics.median(a / b for a, b in zip(p4_times, plain_times))
        rows.append((label, 1e3 * statistics.median(p4_times), 1e3 * statistics.median(plain_times), ratio))

    print(f"forward + backward per batch of {args.batch}, median of {args.reps} alternating repetitions "
          f"x {args.inner} steps (target ratio <= {TARGET})")
    print(f"{'layer':<32} {'P4 ms':>8} {'plain ms':>9} {'ratio':>7}")
    for label, p4_ms, plain_ms, ratio in rows:
        verdict = "ok" if ratio <= TARGET else "above target"
        print(f"{label:<32} {p4_ms:8.2f} {plain_ms:9.2f} {ratio:7.3f}  {verdict}")


if __name__ == "__main__":
    main()
