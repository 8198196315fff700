"""Plots used across notebooks: training curves, image grids, confusion matrices."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import ConfusionMatrixDisplay


MARKERS = "os^vDP*X"


def training_curves(histories: dict[str, dict], metric: str = "accuracy", *, ax=None, xlabel: str = "epoch",
                    title: str | None = None):
    """One line per model for ``metric`` (solid: training, dashed: validation ``val_<metric>``).

    A ``metric`` that is itself a validation one (``val_loss``) is drawn dashed and labelled
    "(validation)". histories: ``{label: history}``, e.g. ``run.history`` of
    :meth:`cnnlab.experiment.Experiment.fit`. Returns the axes.
    """
    if not histories:
        raise ValueError(f"histories: expected at least one {{label: history}}, got {histories!r}")
    ax = ax or plt.subplots(figsize=(6, 4))[1]
    for i, (label, history) in enumerate(histories.items()):
        if metric not in history:
            raise ValueError(f"histories[{label!r}]: expected the metric {metric!r}, got no {metric!r} among {sorted(history)}")
        style = {"color": f"C{i % 10}", "marker": MARKERS[i % len(MARKERS)], "markersize": 3}   # markers: lines that coincide stay visible
        epochs = np.arange(1, len(history[metric]) + 1)
        if metric.startswith("val_"):
            ax.plot(epochs, history[metric], ls="--", label=f"{label} (validation)", **style)
            continue
        ax.plot(epochs, history[metric], label=f"{label} (train)", **style)
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], ls="--", label=f"{label} (validation)", **style)
    ylabel = ("validation " + metric.removeprefix("val_") if metric.startswith("val_") else metric).replace("_", " ")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title or f"{ylabel} during training")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def iteration_curves(histories: dict[str, dict], *, ax=None, title: str = "accuracy during training",
                     ylim: tuple[float, float] | None = None):
    """Train (solid) and test or validation (dashed) accuracy against the optimiser step, one colour per model.

    histories: ``{label: history}`` whose ``iterations``, ``train_accuracy`` and ``test_accuracy``
    (or ``val_accuracy``) come from :class:`cnnlab.train.IterationLog`. Returns the axes.
    """
    if not histories:
        raise ValueError("histories: expected at least one {label: history}")
    ax = ax or plt.subplots(figsize=(6.5, 4))[1]
    for i, (label, history) in enumerate(histories.items()):
        if "iterations" not in history:
            raise ValueError(f"histories[{label!r}]: no 'iterations' (train it with an IterationLog callback)")
        split, name = ("val", "validation") if "val_accuracy" in history else ("test", "test")
        ax.plot(history["iterations"], history["train_accuracy"], color=f"C{i % 10}", label=f"{label} (train)")
        ax.plot(history["iterations"], history[f"{split}_accuracy"], color=f"C{i % 10}", ls="--", label=f"{label} ({name})")
    ax.set(xlabel="iteration (optimiser step)", ylabel="accuracy", title=title, ylim=ylim)
    ax.xaxis.set_major_locator(MaxNLocator(5))   # iteration counts like 17,500 need the room
    if ylim is not None and (hidden := _points_below(histories, ylim[0])):
        ax.text(0, -0.16, "below the axis: " + "; ".join(hidden), transform=ax.transAxes, fontsize="x-small", va="top")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def _points_below(histories: dict[str, dict], bottom: float) -> list[str]:
    """The logged accuracies under ``bottom`` (what a ylim would hide), e.g. ``"a at 0: train 9.8%, test 12.0%"``."""
    hidden = []
    for label, history in histories.items():
        for i, it in enumerate(history["iterations"]):
            low = [f"{key.split('_')[0]} {history[key][i]:.1%}" for key in ("train_accuracy", "val_accuracy", "test_accuracy")
                   if key in history and i < len(history[key]) and history[key][i] < bottom]
            hidden += [f"{label} at {it:,}: " + ", ".join(low)] if low else []
    return hidden


def image_grid(images, titles=None, *, ncols: int = 10, size: float = 1.3, cmap: str = "gray", suptitle=None,
               limits: tuple[float, float] | None = None):
    """Show images on a grid, each with an optional title. Returns the figure.

    images: an array (n, h, w) or (n, h, w, c), or a list of (h, w[, c]) images of different sizes.
    limits: ``(vmin, vmax)``, one colour scale for every image (None: each single-channel image on its own).
    """
    images = [np.asarray(im) for im in images]
    if not images or any(im.ndim not in (2, 3) for im in images):
        raise ValueError(f"images: expected a non-empty (n, h, w[, c]) batch, got shapes {[im.shape for im in images][:3]}")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles: expected {len(images)} titles, got {len(titles)}")
    if not isinstance(ncols, (int, np.integer)) or isinstance(ncols, bool) or ncols < 1:
        raise ValueError(f"ncols: expected a positive int, got {ncols!r}")
    if limits is not None and not (isinstance(limits, (tuple, list)) and len(limits) == 2
                                   and np.all(np.isfinite(limits)) and limits[0] < limits[1]):
        raise ValueError(f"limits: expected (vmin, vmax) with finite vmin < vmax, got {limits!r}")
    vmin, vmax = limits if limits is not None else (None, None)
    images = [im[..., 0] if im.ndim == 3 and im.shape[-1] == 1 else im for im in images]
    nrows = -(-len(images) // ncols)
    title_lines = max((str(t).count("\n") + 1 for t in titles), default=0) if titles is not None else 0
    row_height = size + 0.2 + 0.18 * title_lines   # room for the titles above each image
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * row_height + (0.4 if suptitle else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap=cmap, vmin=vmin, vmax=vmax)
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true, y_pred, *, labels=None, ax=None, title: str = "confusion matrix", per_true_class: bool = False):
    """scikit-learn's confusion matrix display (rows: true class, columns: predicted). Returns the axes.

    y_true, y_pred: (n,) labels of the same length. per_true_class: each row as shares of that class's
    images (in %), so that frequent classes do not dominate the colours; otherwise image counts.
    """
    shapes = np.shape(y_true), np.shape(y_pred)
    if shapes[0] != shapes[1] or len(shapes[0]) != 1 or shapes[0][0] == 0:
        raise ValueError(f"y_true, y_pred: expected equal non-empty (n,) shapes, got {shapes[0]} and {shapes[1]}")
    ax = ax or plt.subplots(figsize=(5.5, 5))[1]
    shares = dict(normalize="true", values_format=".0%") if per_true_class else {}
    ConfusionMatrixDisplay.from_predictions(y_true, y_pred, labels=labels, ax=ax, colorbar=False, **shares)
    ax.set_title(title)
    return ax


def activation_grid(maps, row_labels, *, title: str, size: float = 0.5, cmap: str = "viridis"):
    """Feature maps of one layer for several inputs: one row per input, one column per filter.

    maps: (rows, h, w, filters); row_labels: one label per row. Each map has its own colour scale.
    The maps are tiled into one image (one ``imshow``, white gaps), so hundreds of maps draw in a
    fraction of a second rather than one axes each. Returns the figure.
    """
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 4 or len(row_labels) != len(maps):
        raise ValueError(f"maps, row_labels: expected (rows, h, w, filters) and one label per row, got shape "
                         f"{maps.shape} and {len(row_labels)} labels")
    rows, h, w, filters = maps.shape
    lo, hi = maps.min(axis=(1, 2), keepdims=True), maps.max(axis=(1, 2), keepdims=True)
    scaled = (maps - lo) / np.where(hi > lo, hi - lo, 1)                 # each map in [0, 1]
    gap = max(1, h // 8)
    canvas = np.full((rows, h + gap, filters, w + gap), np.nan, np.float32)
    canvas[:, :h, :, :w] = scaled.transpose(0, 1, 3, 2)                  # (rows, h, filters, w)
    canvas = canvas.reshape(rows * (h + gap), filters * (w + gap))[:-gap, :-gap]
    colours = plt.get_cmap(cmap).with_extremes(bad="white")
    fig, ax = plt.subplots(figsize=(filters * size + 0.8, rows * size + 0.6), layout="constrained")
    ax.imshow(canvas, cmap=colours, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks(np.arange(filters) * (w + gap) + (w - 1) / 2, [str(k) for k in range(filters)], fontsize=6)
    ax.set_yticks(np.arange(rows) * (h + gap) + (h - 1) / 2, [str(label) for label in row_labels], fontsize=8)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.suptitle(title)
    return fig


def layer_gradients(gradients: dict[str, list[float]], *, ax=None, title: str | None = None):
    """Largest gradient per layer on a log axis, one line per label; layers whose gradient is exactly 0
    are drawn as crosses on the bottom edge (labelled), not lost off the log axis.

    gradients: ``{label: [max |dC/dW| of layer 1, 2, ...]}`` (e.g. a ``GradientProbe`` record). Returns the axes.
    """
    if not gradients:
        raise ValueError("gradients: expected at least one {label: per-layer list}")
    ax = ax or plt.subplots(figsize=(6, 4))[1]
    values = {label: np.asarray(g, dtype=float) for label, g in gradients.items()}
    for label, g in values.items():
        if g.ndim != 1 or g.size == 0 or not np.all(np.isfinite(g)) or np.any(g < 0):
            raise ValueError(f"gradients[{label!r}]: expected a non-empty list of finite values >= 0, got {g}")
    positive = np.concatenate([g[g > 0] for g in values.values()])
    floor = positive.min() / 10 if positive.size else 1e-12
    for i, (label, g) in enumerate(values.items()):
        layers_ = np.arange(1, g.size + 1)
        shown = np.where(g > 0, g, np.nan)
        line, = ax.semilogy(layers_, shown, marker=".", color=f"C{i % 10}", label=label if np.any(g > 0) else None)
        if np.any(g == 0):
            ax.plot(layers_[g == 0], np.full(int((g == 0).sum()), floor), ls="none", marker="x", color=line.get_color(),
                    label=f"{label}: exactly 0 ({int((g == 0).sum())} layers)")
    ax.set(xlabel="layer (1 = first hidden layer; the last point: the softmax layer)", ylabel="max |dC/dW| in the layer", title=title)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    return ax
