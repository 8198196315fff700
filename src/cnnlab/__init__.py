"""cnnlab: helpers shared by the coursework notebooks (data, models, training cache, plots)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep notebooks free of TensorFlow start-up chatter

__version__ = "0.1.0"
