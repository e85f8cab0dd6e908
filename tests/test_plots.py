"""plots: what each figure shows and its labels, colours for right and wrong, weights as
diverging, centred images with a labelled colour bar, one dot per output pixel, learning curves,
smoothed batch losses, rates, perplexity and gradient norms, and the figures of recurrent
networks; errors on bad input."""

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from mnistlib import experiments, measure, models, plots
from mnistlib.plots.curves import moving_average
from mnistlib.plots.images import MAX_WIDTH, RIGHT, WRONG
from mnistlib.train import History


class AlwaysZero(nn.Module):
    """Predicts digit 0 for every image."""

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(10))

    def forward(self, X):
        logits = torch.zeros(len(X), 10)
        logits[:, 0] = 1.0
        return logits + self.bias


def batch(labels):
    y = torch.tensor(labels)
    return torch.arange(len(y)).float().reshape(-1, 1, 1, 1).expand(-1, 1, 28, 28), y


def test_show_digits_titles_and_colours():
    images = torch.rand(5, 1, 28, 28)
    fig = plots.show_digits(images, labels=[1, 2, 3, 4, 5], preds=[1, 0, 3, 4, 0], ncols=3)
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in titled] == ["1 (1)", "0 (2)", "3 (3)", "4 (4)", "0 (5)"]
    assert titled[1].title.get_color() == WRONG and titled[0].title.get_color() == RIGHT
    assert len(fig.axes) == 6  # a 2 × 3 grid, the last cell left blank


def test_show_digits_with_labels_only_and_bad_shape():
    fig = plots.show_digits(torch.zeros(2, 28, 28, dtype=torch.uint8), labels=[7, 3])
    assert [ax.get_title() for ax in fig.axes] == ["7", "3"]
    with pytest.raises(ValueError, match="expected images of shape \\(N, 28, 28\\)"):
        plots.show_digits(torch.zeros(4, 784))


def test_show_failures_titles_and_all_correct_case():
    fig = plots.show_failures(AlwaysZero(), [batch([1, 0, 2])], n=2)
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["0 (1)", "0 (2)"]
    with pytest.raises(ValueError, match="classified every image"):
        plots.show_failures(AlwaysZero(), [batch([0, 0])])


def test_plot_confusion_matrix_axes():
    ax = plots.plot_confusion_matrix(AlwaysZero(), [batch([0, 1, 1, 2])]).axes[0]
    assert ax.get_xlabel() == "predicted digit" and ax.get_ylabel() == "true digit"
    assert "accuracy 25.00%" in ax.get_title()


def test_two_confusion_matrices_share_one_colour_scale():
    loader = [batch([0, 1, 1, 2])]
    fig = plots.plot_confusion_matrix({"a": AlwaysZero(), "b": AlwaysZero()}, loader)
    left, right = fig.axes[0], fig.axes[1]
    assert left.get_title() == "a: accuracy 25.00%" and right.get_title().startswith("b:")
    assert left.collections[0].get_clim() == right.collections[0].get_clim() == (0, 2)


def image_axes(fig):
    return [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]


def test_linear_layer_weights_give_one_titled_image_per_class():
    layer = nn.Linear(784, 10)
    fig = plots.show_weights(layer.weight)
    assert isinstance(fig, plt.Figure)
    axes = image_axes(fig)
    assert [ax.get_title() for ax in axes] == [f"digit {i}" for i in range(10)]
    assert fig.get_suptitle()


def test_colormap_is_diverging_and_centred_at_zero():
    weights = torch.zeros(3, 28, 28)
    weights[0, 0, 0], weights[1, 5, 5] = 2.0, -0.5
    fig = plots.show_weights(weights, titles=["a", "b", "c"])
    for ax in image_axes(fig):
        image = ax.images[0]
        low, high = image.get_clim()
        assert low == -high == -2.0
        assert image.get_cmap().name == "RdBu_r"


def test_colorbar_is_labelled():
    fig = plots.show_weights(torch.randn(4, 784), titles=[f"unit {i}" for i in range(4)])
    colorbars = [ax for ax in fig.axes if not ax.images]
    assert colorbars and colorbars[0].get_ylabel().startswith("weight")


def test_custom_titles_and_figure_title():
    fig = plots.show_weights(torch.randn(2, 784), titles=["x", "y"], title="Hidden units")
    assert [ax.get_title() for ax in image_axes(fig)] == ["x", "y"]
    assert fig.get_suptitle() == "Hidden units"


@pytest.mark.parametrize("shape", [(10, 783), (784,), (2, 1, 28, 28), (0, 784)])
def test_wrong_shapes_raise_naming_the_expected_shape(shape):
    with pytest.raises(ValueError, match=r"\(K, 784\) or \(K, 28, 28\)"):
        plots.show_weights(torch.zeros(shape))


def test_title_count_must_match():
    with pytest.raises(ValueError, match="3 titles for 2"):
        plots.show_weights(torch.zeros(2, 784), titles=["a", "b", "c"])


def test_a_few_extreme_pixels_do_not_set_the_scale():
    weights = torch.linspace(-1, 1, 10 * 784).reshape(10, 784)
    weights[0, 0] = 100.0
    fig = plots.show_weights(weights)
    low, high = image_axes(fig)[0].images[0].get_clim()
    assert low == -high and 0.9 < high < 1.0


def test_explicit_limit():
    fig = plots.show_weights(torch.randn(2, 784), titles=["a", "b"], limit=0.5)
    assert image_axes(fig)[1].images[0].get_clim() == (-0.5, 0.5)


def test_wide_grids_shrink_to_fit_a_projector():
    fig = plots.show_digits(torch.zeros(24, 28, 28), ncols=24)
    assert fig.get_figwidth() <= MAX_WIDTH


def test_moving_average_by_hand():
    assert moving_average([1, 2, 3, 4], 2) == [1.5, 2.5, 3.5]
    assert moving_average([1, 2, 3, 4], 4) == [2.5]
    assert moving_average([5.0, 7.0], 1) == [5.0, 7.0]


@pytest.mark.parametrize("window", [0, 5])
def test_moving_average_rejects_a_window_that_does_not_fit(window):
    with pytest.raises(ValueError, match=f"between 1 and len\\(values\\)=4, got {window}"):
        moving_average([1, 2, 3, 4], window)


def history(batch_loss, epochs, lr=0.1):
    h = History(batch_loss=list(batch_loss), lr=[lr] * epochs)
    h.train_loss = [1.0] * epochs
    return h


def test_plot_batch_losses_smooths_each_run_and_labels_the_axes():
    runs = {"a": history(range(10), 2), "b": history([1.0] * 10, 2)}
    ax = plots.plot_batch_losses(runs, window=4).axes[0]
    a_line, b_line = ax.get_lines()[:2]
    assert list(a_line.get_xdata()) == list(range(4, 11))
    assert list(a_line.get_ydata()) == [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5]
    assert ax.get_xlabel() == "iteration (mini-batch)"
    assert ax.get_ylabel().startswith("training loss")
    assert [t.get_text() for t in ax.figure.legends[0].get_texts()] == ["a", "b"]


def test_plot_batch_losses_shrinks_the_window_for_a_short_run():
    ax = plots.plot_batch_losses(history([2.0, 4.0], 1), window=50).axes[0]
    assert list(ax.get_lines()[0].get_ydata()) == [3.0]


def test_plot_batch_losses_rejects_what_is_not_a_history():
    with pytest.raises(TypeError, match="expected a History"):
        plots.plot_batch_losses({"a": [0.5, 0.4]})
    with pytest.raises(ValueError, match="no batch losses"):
        plots.plot_batch_losses(History())


def test_plot_lr_shows_the_rate_of_each_epoch_on_a_log_scale():
    h = history([1.0] * 4, 4)
    h.lr = [0.5, 0.5, 0.05, 0.05]
    ax = plots.plot_lr({"StepLR": h}).axes[0]
    assert list(ax.get_lines()[0].get_ydata()) == [0.5, 0.5, 0.05, 0.05]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0.05", "0.5"]


def test_plot_gradient_norms_draws_one_line_per_model():
    ax = plots.plot_gradient_norms(
        {"a": {"l1": 1e-6, "l2": 1e-2}, "b": {"l1": 1.0, "l2": 0.5}}
    ).axes[0]
    assert [list(line.get_xdata()) for line in ax.get_lines()] == [[1, 2], [1, 2]]
    assert ax.get_yscale() == "log" and ax.get_title()
    with pytest.raises(ValueError, match="got nothing"):
        plots.plot_gradient_norms({})


def test_plot_history_labels_every_axis_and_draws_each_run():
    h = History(train_loss=[1.0, 0.5], train_acc=[60, 80], val_loss=[1.1, 0.7], val_acc=[55, 75])
    fig = plots.plot_history({"SGD": h, "Adam": h}, title="Two runs")
    loss_ax, acc_ax = fig.axes
    assert "loss" in loss_ax.get_ylabel() and acc_ax.get_ylabel() == "accuracy (%)"
    assert loss_ax.get_xlabel() == acc_ax.get_xlabel() == "epoch"
    assert len(loss_ax.lines) == 4  # training and validation for each run
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["SGD", "Adam", "training", "validation"]  # a colour per run, a style per set


def test_long_curves_have_no_markers():
    h = History(train_loss=[1.0] * 30, train_acc=[50.0] * 30)
    assert plots.plot_history(h).axes[0].lines[0].get_marker() == "None"
    assert (
        plots.plot_history(History(train_loss=[1.0], train_acc=[5.0])).axes[0].lines[0].get_marker()
        == "o"
    )


def test_plot_history_takes_runs_as_well_as_histories():
    run = experiments.Run(nn.Identity(), History(train_loss=[1.0, 0.5], train_acc=[60, 80]), 1.0)
    for given in (run, {"SGD": run}, run.history):
        assert list(plots.plot_history(given).axes[0].lines[0].get_ydata()) == [1.0, 0.5]
    with pytest.raises(TypeError, match="non-empty {name: History} dict, got an empty dict"):
        plots.plot_history({})


def test_show_matrices_writes_every_number():
    fig = plots.show_matrices({"input": torch.arange(4).reshape(2, 2), "out": torch.ones(1, 1)})
    assert [ax.get_title() for ax in fig.axes] == ["input (2 × 2)", "out (1 × 1)"]
    assert [t.get_text() for t in fig.axes[0].texts] == ["0", "1", "2", "3"]
    with pytest.raises(ValueError, match="small 2-D matrices"):
        plots.show_matrices({"too big": torch.zeros(28, 28)})
    plt.close("all")


@pytest.mark.parametrize(("padding", "stride", "side"), [(0, 1, 3), (1, 1, 5), (1, 2, 3)])
def test_show_padding_draws_one_dot_per_output_pixel(padding, stride, side):
    fig = plots.show_padding(n=5, kernel=3, settings=[(padding, stride)])
    ax = fig.axes[0]
    assert len(ax.lines[0].get_xdata()) == side * side
    assert f"5 × 5 → {side} × {side}" in ax.get_title()
    assert ax.get_xlabel() == "column (pixels, padding included)"
    plt.close("all")


def test_show_maps_and_accuracy_plot_are_labelled():
    fig = plots.show_maps({"digit": torch.rand(5, 5), "edges": torch.randn(5, 5)}, title="Two")
    assert fig._suptitle.get_text() == "Two" and fig.axes[0].get_title() == "digit"
    fig = plots.plot_accuracy_against(
        {"MLP": {0: 90.0, 2: 50.0}}, xlabel="shift (pixels)", title="T"
    )
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "shift (pixels)",
        "test accuracy (%)",
        "T",
    )
    assert ax.figure.legends[0].get_texts()[0].get_text() == "MLP"
    plt.close("all")


def test_filters_and_feature_maps_of_a_small_cnn_are_titled():
    model = models.SmallCNN((4, 8))
    fig = plots.show_filters(model.layers[0].weight, ncols=4)
    assert [ax.get_title() for ax in fig.axes[:4]] == [f"filter {i}" for i in range(4)]
    maps = measure.feature_maps(model, torch.rand(1, 28, 28))
    fig = plots.show_feature_maps(maps, ncols=4)
    assert fig.axes[0].get_ylabel() == "conv 1\n28×28"
    with pytest.raises(ValueError, match=r"first-layer weight \(K, 1, k, k\)"):
        plots.show_filters(model.layers[3].weight)
    plt.close("all")


def test_show_canvases_colours_the_titles():
    images = torch.zeros(2, 42, 28, dtype=torch.uint8)
    labels = torch.tensor([[1, 2], [3, 4]])
    fig = plots.show_canvases(images, labels, preds=torch.tensor([[1, 2], [3, 5]]))
    titles = [ax.title for ax in fig.axes[:2]]
    assert [t.get_text() for t in titles] == ["1 2 (1 2)", "3 5 (3 4)"]
    assert titles[0].get_color() == RIGHT and titles[1].get_color() == WRONG
    plt.close("all")


def test_plot_history_draws_on_a_figure_of_its_own_when_given_one():
    h = History(train_loss=[1.0, 0.5], train_acc=[60, 80], val_loss=[1.1, 0.7], val_acc=[55, 75])
    own = Figure()
    assert plots.plot_history({"a": h}, figure=own, title="Off pyplot") is own
    assert len(own.axes) == 2 and own.get_suptitle() == "Off pyplot"
    assert own not in [plt.figure(n) for n in plt.get_fignums()]


def test_plot_perplexity_puts_each_measure_at_the_end_of_its_epoch():
    h = History(train_loss=[2.0, 1.0], batch_loss=[2.0] * 6, val_loss=[1.0, 0.5])
    ax = plots.plot_perplexity({"GRU": h}, baselines={"uniform": 10.0, "bigram": 4.0}).axes[0]
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == [3, 6]
    assert list(line.get_ydata()) == pytest.approx([2.718281828, 1.648721271])
    assert [t.get_text() for t in ax.figure.legends[0].get_texts()] == [
        "GRU",
        "uniform (10.0)",
        "bigram (4.0)",
    ]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "training step (mini-batch)"
    with pytest.raises(ValueError, match="no validation loss"):
        plots.plot_perplexity(History(train_loss=[1.0], batch_loss=[1.0]))


def test_show_reading_frames_the_row_of_each_step():
    fig = plots.show_reading(torch.rand(1, 28, 28), after=(1, 14, 28))
    assert [ax.get_title() for ax in fig.axes] == ["step t = 1", "step t = 14", "step t = 28"]
    frame = fig.axes[1].patches[0]
    assert frame.get_y() == 14 - 1.5 and frame.get_width() == 28
    with pytest.raises(ValueError, match="one image of shape \\(28, 28\\)"):
        plots.show_reading(torch.rand(2, 28, 28))
    with pytest.raises(ValueError, match="time steps from 1 to 28"):
        plots.show_reading(torch.rand(28, 28), after=(0, 29))


def test_show_unrolled_draws_one_input_and_state_per_step():
    fig = plots.show_unrolled(steps=3)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert {"$x_1$", "$x_2$", "$x_T$", "$h_1$", "$h_2$", "$h_T$", "$o$", "loss"} <= set(texts)
    assert fig.axes[0].get_title() == "A recurrent network unrolled over T = 3 time steps"
    with pytest.raises(ValueError, match="steps must be between 2 and 6"):
        plots.show_unrolled(steps=7)


def test_plot_per_step_takes_one_curve_or_several():
    ax = plots.plot_per_step(torch.tensor([1.0, 0.1, 0.01]), ylabel="norm").axes[0]
    assert list(ax.get_lines()[0].get_xdata()) == [1, 2, 3] and ax.get_legend() is None
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "time step t (row read)"
    fig = plots.plot_per_step(
        {"RNN": [50.0, 60.0], "LSTM": [55.0, 70.0]},
        ylabel="accuracy (%)",
        log=False,
        xlabel="rows read, k",
        title="T",
    )
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.figure.legends[0].get_texts()] == ["RNN", "LSTM"]
    assert (ax.get_ylabel(), ax.get_xlabel(), ax.get_title(), ax.get_yscale()) == (
        "accuracy (%)",
        "rows read, k",
        "T",
        "linear",
    )
    with pytest.raises(TypeError, match="non-empty {name: one value per time step} dict"):
        plots.plot_per_step({}, ylabel="norm")


def test_plot_clipping_draws_the_loss_and_the_norm_of_each_run():
    runs = {"no clipping": ([2.0, 3.0, 9.0], [30.0, 40.0, 50.0]), "clipped": ([2.0, 1.5], [30, 2])}
    fig = plots.plot_clipping(runs)
    ax_loss, ax_norm = fig.axes
    assert [list(line.get_ydata()) for line in ax_loss.get_lines()] == [[2.0, 3.0, 9.0], [2.0, 1.5]]
    assert list(ax_norm.get_lines()[0].get_ydata()) == [30.0, 40.0, 50.0]
    assert ax_norm.get_ylabel() == "‖gradient‖ before clipping (log)"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["no clipping", "clipped"]
    assert not plots.plot_clipping(([1.0], [2.0])).legends  # one run: no legend


def test_show_canvases_refuses_what_is_no_canvas():
    with pytest.raises(ValueError, match="expected canvases \\(N, H, 28\\)"):
        plots.show_canvases(torch.zeros(2, 42, 27), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="labels \\(N, 2\\), got \\(2, 42, 28\\) and \\(2,\\)"):
        plots.show_canvases(torch.zeros(2, 42, 28), torch.zeros(2))


def test_show_pixel_values_writes_the_value_of_every_inked_pixel_of_the_first_rows():
    image = torch.zeros(28, 28, dtype=torch.uint8)
    image[4, 10:13] = torch.tensor([7, 200, 255])  # the first row of ink
    image[20, 11] = 99  # far below the first 3 rows: not enlarged
    fig = plots.show_pixel_values(image, label=7, rows=3)
    whole, box = fig.axes
    assert whole.get_title() == "The digit, label 7"
    assert sorted(t.get_text() for t in box.texts) == ["200", "255", "7"]
    assert [t.get_color() for t in box.texts if t.get_text() == "255"] == ["white"]
    assert "rows 4 to 6" in plots.alt_text(fig) and "from 7 to 255" in plots.alt_text(fig)


@pytest.mark.parametrize(
    "bad, message",
    [
        (torch.rand(28, 28), "uint8 of shape \\(28, 28\\), got torch.float32"),
        (torch.zeros(2, 28, 28, dtype=torch.uint8), "got torch.uint8 \\(2, 28, 28\\)"),
        (torch.zeros(28, 28, dtype=torch.uint8), "blank"),
    ],
)
def test_show_pixel_values_refuses_what_is_no_raw_digit(bad, message):
    with pytest.raises(ValueError, match=message):
        plots.show_pixel_values(bad)


def test_plot_activations_draws_each_function_and_its_derivative():
    z = torch.linspace(-2, 2, 5)
    fig = plots.plot_activations(z, {"ReLU": (z.clamp(min=0), (z > 0).float())})
    left, right = fig.axes
    assert list(left.lines[0].get_ydata()) == [0, 0, 0, 1, 2]
    assert list(right.lines[0].get_ydata()) == [0, 0, 0, 1, 1]
    with pytest.raises(ValueError, match="ReLU: expected values and derivatives of shape \\(5,\\)"):
        plots.plot_activations(z, {"ReLU": (z, z[:3])})
