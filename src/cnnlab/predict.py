"""Classify photos of handwritten digits with the saved classifier.

    python -m cnnlab.predict IMAGE... [--model weights/digit_classifier.h5]

Prints ``<file>: <digit> (p=<probability>)`` per image, or ``<file>: could not isolate one digit:
<reason>`` when :func:`cnnlab.digits.prepare` refuses the picture (no paper, nothing ink-like,
several marks, ink touching the edge) instead of guessing. A file that cannot be used at all (not an
image, missing) gets a one-line error on stderr. The other files are still classified.
Exit code: 0 all classified, 1 some files refused or failed, 2 the model is missing or unloadable.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from cnnlab import config
from cnnlab.digits import NotOneDigit, prepare_file

DEFAULT_MODEL = config.ROOT / "weights" / "digit_classifier.h5"
NOTEBOOK = "notebooks/C3_handwritten_digit_classifier.ipynb"


def _probabilities(outputs: np.ndarray) -> np.ndarray:
    """Model outputs (n, 10) -> probabilities: kept if they already are, else softmax (logits)."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if np.all(outputs >= 0) and np.allclose(outputs.sum(axis=1), 1, atol=1e-3):
        return outputs
    e = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main(argv=None) -> int:
    """Command-line entry point; returns the exit code (0 ok, 1 some files failed, 2 no model)."""
    parser = argparse.ArgumentParser(prog="python -m cnnlab.predict", description=__doc__.split("\n")[0])
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="photo or scan of one handwritten digit")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help=f"Keras .h5 model (default: {DEFAULT_MODEL})")
    args = parser.parse_args(argv)

    if not args.model.is_file():
        print(f"error: model file {args.model} not found; create it by running {NOTEBOOK}", file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from cnnlab import quiet_tensorflow  # noqa: F401
    import keras

    try:
        model = keras.models.load_model(args.model)
    except Exception as err:  # h5py / Keras raise many types for a corrupt or foreign file
        print(f"error: cannot load model {args.model} ({type(err).__name__}: {err}); "
              f"recreate it by running {NOTEBOOK}", file=sys.stderr)
        return 2

    lines, batch, failed = {}, {}, 0
    for name in args.images:
        try:
            batch[name] = prepare_file(name)
        except NotOneDigit as err:
            lines[name] = f"{name}: could not isolate one digit: {err.reason}"
            failed += 1
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            failed += 1
    if batch:
        x = np.stack(list(batch.values()))
        shape = tuple(model.input_shape[1:])
        if None not in shape and int(np.prod(shape)) == x[0].size:  # e.g. (28, 28, 1), (28, 28) or (784,)
            x = x.reshape((len(x), *shape))
        probs = _probabilities(model.predict(x, verbose=0))
        for name, p in zip(batch, probs):
            lines[name] = f"{name}: {int(p.argmax())} (p={p.max():.3f})"
    for name in args.images:  # in the order given
        if name in lines:
            print(lines[name])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
