import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from cnnlab import plots


def teardown_function():
    plt.close("all")


def test_training_curves_draw_train_and_validation():
    ax = plots.training_curves({"a": {"accuracy": [0.5, 0.7], "val_accuracy": [0.4, 0.6]}, "b": {"accuracy": [0.1]}})
    assert len(ax.lines) == 3 and ax.get_xlabel() == "epoch"


def test_training_curves_label_train_and_validation_curves_as_such():
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}
    ax = plots.training_curves({"a": history}, "loss")
    assert [line.get_label() for line in ax.lines] == ["a (train)", "a (validation)"]
    ax = plots.training_curves({"a": history}, "val_loss")
    assert [line.get_label() for line in ax.lines] == ["a (validation)"] and ax.lines[0].get_linestyle() == "--"


def test_training_curves_name_the_missing_metric():
    with pytest.raises(ValueError, match="no 'loss'"):
        plots.training_curves({"a": {"accuracy": [0.5]}}, "loss")


def test_training_curves_labels_the_axis_in_words():
    ax = plots.training_curves({"a": {"val_accuracy": [0.5, 0.6]}}, "val_accuracy")
    assert ax.get_ylabel() == "validation accuracy" and ax.get_title() == "validation accuracy during training"
    assert plots.training_curves({"a": {"loss": [1.0]}}, "loss").get_ylabel() == "loss"


def test_image_grid_takes_images_of_different_sizes():
    fig = plots.image_grid([np.zeros((5, 5)), np.zeros((3, 3, 1))], ["a", "b"], ncols=2)
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]


def test_image_grid_lays_out_titles():
    fig = plots.image_grid(np.zeros((7, 5, 5, 1)), [str(i) for i in range(7)], ncols=3)
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert len(fig.axes) == 9 and len(titled) == 7


def test_image_grid_shares_one_colour_scale_when_given_limits():
    images = np.stack([np.full((4, 4), 0.1), np.linspace(-2, 2, 16).reshape(4, 4)])
    shared = plots.image_grid(images, limits=(-3, 3))
    own = plots.image_grid(images)
    assert [ax.images[0].get_clim() for ax in shared.axes[:2]] == [(-3, 3), (-3, 3)]
    assert own.axes[1].images[0].get_clim() == (-2, 2)


@pytest.mark.parametrize("limits", [(1, 1), (0, float("nan")), (2,), 3])
def test_image_grid_rejects_bad_limits(limits):
    with pytest.raises(ValueError, match="limits: expected"):
        plots.image_grid(np.zeros((1, 3, 3)), limits=limits)


@pytest.mark.parametrize("images, titles, match", [
    (np.zeros((5,)), None, "images: expected a non-empty"),
    ([], None, "images: expected a non-empty"),
    (np.zeros((2, 5, 5)), ["a"], "titles: expected 2 titles"),
])
def test_image_grid_rejects_bad_input(images, titles, match):
    with pytest.raises(ValueError, match=match):
        plots.image_grid(images, titles)


def test_confusion_matrix_counts():
    ax = plots.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("1") == 4 and ax.get_title() == "confusion matrix"
    shares = [t.get_text() for t in plots.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], per_true_class=True).texts]
    assert shares.count("100%") == 2 and shares.count("50%") == 2   # class 1: one of its two images each way


def test_activation_grid_tiles_each_input_and_filter_on_its_own_scale():
    maps = np.random.default_rng(0).random((3, 8, 8, 5)) * 7 - 2
    fig = plots.activation_grid(maps, ["a", "b", "c"], title="layer")
    (ax,) = fig.axes
    canvas = ax.images[0].get_array()
    assert canvas.shape == (3 * 9 - 1, 5 * 9 - 1)                      # 8x8 tiles, gaps of 1
    tile = np.asarray(canvas[9:17, 18:26])                               # row 1 ("b"), filter 2
    m = maps[1, ..., 2]
    np.testing.assert_allclose(tile, (m - m.min()) / (m.max() - m.min()), atol=1e-6)
    assert canvas.mask[8].all() and canvas.mask[:, 8].all()             # the gaps are blank
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3", "4"]
    with pytest.raises(ValueError, match="one label per row"):
        plots.activation_grid(np.zeros((3, 4, 4, 5)), ["a"], title="x")


def test_iteration_curves_draw_train_and_test_per_model():
    from cnnlab.plots import iteration_curves

    history = {"iterations": [0, 5], "train_accuracy": [0.1, 0.8], "test_accuracy": [0.1, 0.7]}
    ax = iteration_curves({"a": history, "b": history})
    assert len(ax.lines) == 4 and ax.get_xlabel().startswith("iteration")
    with pytest.raises(ValueError, match="no 'iterations'"):
        iteration_curves({"a": {"loss": [1.0]}})


def test_iteration_curves_name_the_points_a_ylim_hides():
    from cnnlab.plots import iteration_curves

    history = {"iterations": [0, 500], "train_accuracy": [0.098, 0.95], "test_accuracy": [0.12, 0.94]}
    ax = iteration_curves({"a": history}, ylim=(0.9, 1.0))
    assert [t.get_text() for t in ax.texts] == ["below the axis: a at 0: train 9.8%, test 12.0%"]
    assert not iteration_curves({"a": history}).texts


def test_layer_gradients_marks_exact_zeros_instead_of_dropping_them():
    from cnnlab.plots import layer_gradients

    ax = layer_gradients({"relu": [1e-3, 0.0, 0.0], "tanh": [1e-2, 2e-2, 3e-2]}, title="t")
    labels = [line.get_label() for line in ax.get_lines()]
    assert "relu: exactly 0 (2 layers)" in labels and "tanh" in labels
    zeros = next(line for line in ax.get_lines() if line.get_label().startswith("relu: exactly 0"))
    assert list(zeros.get_xdata()) == [2, 3] and zeros.get_ydata()[0] == pytest.approx(1e-4)
    with pytest.raises(ValueError, match="finite values >= 0"):
        layer_gradients({"bad": [1.0, -1.0]})


def test_layer_gradients_gives_an_all_zero_line_no_empty_legend_entry():
    from cnnlab.plots import layer_gradients

    ax = layer_gradients({"relu": [0.0, 0.0], "tanh": [1e-2, 2e-2]})
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["relu: exactly 0 (2 layers)", "tanh"]
