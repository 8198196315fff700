"""Imported by every cnnlab module that uses Keras, before Keras: imports TensorFlow with its start-up
lines muted. ``import cnnlab`` itself does not import TensorFlow."""

import os
import sys


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with the C++ start-up lines ("oneDNN custom operations are on"...) muted.

    TensorFlow 2.21 prints them before its logging is configured, ignoring TF_CPP_MIN_LOG_LEVEL, and
    in a notebook they land in the first cell's output. Only the process-level stderr is muted, and
    only while the import runs; Python exceptions are unaffected.
    """
    if "tensorflow" not in sys.modules:  # imported first by the user: too late to mute its start-up lines
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
    import absl.logging
    import tensorflow as tf

    # Keras re-traces its predict function for each new model, and warns through absl about the legacy
    # .h5 format (which sheet C requires) and about metrics of freshly loaded models: noise here.
    tf.get_logger().setLevel("ERROR")
    absl.logging.set_verbosity(absl.logging.ERROR)


_import_tensorflow_quietly()
