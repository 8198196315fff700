"""cnnlab: helpers shared by the coursework notebooks (data, models, training cache, plots).

``import cnnlab`` is light: only the modules that use Keras import TensorFlow, with its start-up
lines muted (:mod:`cnnlab.quiet_tensorflow`); import them before importing Keras yourself.
"""

__version__ = "0.1.0"
