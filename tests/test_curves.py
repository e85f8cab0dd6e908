"""curves: learning curves, smoothed batch losses, learning rates and gradient norms."""

import pytest
from torch import nn

from mnistlib import curves, experiments
from mnistlib.train import History


def test_moving_average_by_hand():
    assert curves.moving_average([1, 2, 3, 4], 2) == [1.5, 2.5, 3.5]
    assert curves.moving_average([1, 2, 3, 4], 4) == [2.5]
    assert curves.moving_average([5.0, 7.0], 1) == [5.0, 7.0]


@pytest.mark.parametrize("window", [0, 5])
def test_moving_average_rejects_a_window_that_does_not_fit(window):
    with pytest.raises(ValueError, match=f"between 1 and len\\(values\\)=4, got {window}"):
        curves.moving_average([1, 2, 3, 4], window)


def history(batch_loss, epochs, lr=0.1):
    h = History(batch_loss=list(batch_loss), lr=[lr] * epochs)
    h.train_loss = [1.0] * epochs
    return h


def test_plot_batch_losses_smooths_each_run_and_labels_the_axes():
    runs = {"a": history(range(10), 2), "b": history([1.0] * 10, 2)}
    ax = curves.plot_batch_losses(runs, window=4).axes[0]
    a_line, b_line = ax.get_lines()[:2]
    assert list(a_line.get_xdata()) == list(range(4, 11))
    assert list(a_line.get_ydata()) == [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5]
    assert ax.get_xlabel() == "iteration (mini-batch)"
    assert ax.get_ylabel().startswith("training loss")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]


def test_plot_batch_losses_shrinks_the_window_for_a_short_run():
    ax = curves.plot_batch_losses(history([2.0, 4.0], 1), window=50).axes[0]
    assert list(ax.get_lines()[0].get_ydata()) == [3.0]


def test_plot_batch_losses_rejects_what_is_not_a_history():
    with pytest.raises(TypeError, match="expected a History"):
        curves.plot_batch_losses({"a": [0.5, 0.4]})
    with pytest.raises(ValueError, match="no batch losses"):
        curves.plot_batch_losses(History())


def test_plot_lr_shows_the_rate_of_each_epoch_on_a_log_scale():
    h = history([1.0] * 4, 4)
    h.lr = [0.5, 0.5, 0.05, 0.05]
    ax = curves.plot_lr({"StepLR": h}).axes[0]
    assert list(ax.get_lines()[0].get_ydata()) == [0.5, 0.5, 0.05, 0.05]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0.05", "0.5"]


def test_plot_gradient_norms_draws_one_line_per_model():
    ax = curves.plot_gradient_norms(
        {"a": {"l1": 1e-6, "l2": 1e-2}, "b": {"l1": 1.0, "l2": 0.5}}
    ).axes[0]
    assert [list(line.get_xdata()) for line in ax.get_lines()] == [[1, 2], [1, 2]]
    assert ax.get_yscale() == "log" and ax.get_title()
    with pytest.raises(ValueError, match="got nothing"):
        curves.plot_gradient_norms({})


def test_plot_history_labels_every_axis_and_draws_each_run():
    h = History(train_loss=[1.0, 0.5], train_acc=[60, 80], val_loss=[1.1, 0.7], val_acc=[55, 75])
    fig = curves.plot_history({"SGD": h, "Adam": h}, title="Two runs")
    loss_ax, acc_ax = fig.axes
    assert "loss" in loss_ax.get_ylabel() and acc_ax.get_ylabel() == "accuracy (%)"
    assert loss_ax.get_xlabel() == acc_ax.get_xlabel() == "epoch"
    assert len(loss_ax.lines) == 4  # training and validation for each run
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[:2] == ["SGD, training", "SGD, validation"]


def test_long_curves_have_no_markers():
    h = History(train_loss=[1.0] * 30, train_acc=[50.0] * 30)
    assert curves.plot_history(h).axes[0].lines[0].get_marker() == "None"
    assert (
        curves.plot_history(History(train_loss=[1.0], train_acc=[5.0]))
        .axes[0]
        .lines[0]
        .get_marker()
        == "o"
    )


def test_plot_history_takes_runs_as_well_as_histories():
    run = experiments.Run(nn.Identity(), History(train_loss=[1.0, 0.5], train_acc=[60, 80]), 1.0)
    for given in (run, {"SGD": run}, run.history):
        assert list(curves.plot_history(given).axes[0].lines[0].get_ydata()) == [1.0, 0.5]
    with pytest.raises(TypeError, match="non-empty {name: History} dict, got an empty dict"):
        curves.plot_history({})
