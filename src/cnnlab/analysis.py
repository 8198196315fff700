"""Measuring trained models: parameter counts and predictions."""

from __future__ import annotations

import keras
import numpy as np


def param_counts(model: keras.Model) -> dict[str, int]:
    """``{"total", "trainable", "non_trainable"}`` parameter counts of a built model."""
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return {"total": trainable + non_trainable, "trainable": trainable, "non_trainable": non_trainable}


def predict_classes(model: keras.Model, x: np.ndarray, batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Predicted labels (n,) int and probabilities (n, classes) float32 for inputs ``x``."""
    probs = model.predict(x, batch_size=batch_size, verbose=0)
    return probs.argmax(axis=1), probs


def accuracy(y_true, y_pred) -> float:
    """Fraction of equal labels; both (n,) ints of the same length."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or len(y_true) == 0:
        raise ValueError(f"y_true, y_pred: expected equal non-empty (n,) shapes, got {y_true.shape} and {y_pred.shape}")
    return float(np.mean(y_true == y_pred))
