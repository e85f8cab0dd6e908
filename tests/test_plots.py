"""Plots: what they show, their labels, and the failure scan that goes past the first batch."""

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from mnistlib import plots
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


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_show_digits_titles_and_colours():
    images = torch.rand(5, 1, 28, 28)
    fig = plots.show_digits(images, labels=[1, 2, 3, 4, 5], preds=[1, 0, 3, 4, 0], ncols=3)
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in titled] == ["1 (1)", "0 (2)", "3 (3)", "4 (4)", "0 (5)"]
    assert titled[1].title.get_color() == plots.WRONG and titled[0].title.get_color() == plots.RIGHT
    assert len(fig.axes) == 6  # a 2 × 3 grid, the last cell left blank


def test_show_digits_with_labels_only_and_bad_shape():
    fig = plots.show_digits(torch.zeros(2, 28, 28, dtype=torch.uint8), labels=[7, 3])
    assert [ax.get_title() for ax in fig.axes] == ["7", "3"]
    with pytest.raises(ValueError, match="expected images of shape \\(N, 28, 28\\)"):
        plots.show_digits(torch.zeros(4, 784))


def test_plot_history_labels_every_axis_and_draws_each_run():
    h = History(train_loss=[1.0, 0.5], train_acc=[60, 80], val_loss=[1.1, 0.7], val_acc=[55, 75])
    fig = plots.plot_history({"SGD": h, "Adam": h}, title="Two runs")
    loss_ax, acc_ax = fig.axes
    assert "loss" in loss_ax.get_ylabel() and acc_ax.get_ylabel() == "accuracy (%)"
    assert loss_ax.get_xlabel() == acc_ax.get_xlabel() == "epoch"
    assert len(loss_ax.lines) == 4  # training and validation for each run
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()][:2] == [
        "SGD, training",
        "SGD, validation",
    ]


def test_find_failures_scans_past_the_first_batch():
    loader = [batch([0, 0, 0]), batch([0, 5, 0]), batch([7, 8, 9])]
    images, preds, labels = plots.find_failures(AlwaysZero(), loader, n=3)
    assert labels.tolist() == [5, 7, 8] and preds.tolist() == [0, 0, 0]
    assert images.shape == (3, 1, 28, 28)
    assert images[0, 0, 0, 0] == 1.0  # the second image of the second batch


def test_find_failures_returns_fewer_when_the_loader_runs_out():
    _, _, labels = plots.find_failures(AlwaysZero(), [batch([0, 3]), batch([4, 0])], n=10)
    assert labels.tolist() == [3, 4]


def test_show_failures_titles_and_all_correct_case():
    fig = plots.show_failures(AlwaysZero(), [batch([1, 0, 2])], n=2)
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["0 (1)", "0 (2)"]
    with pytest.raises(ValueError, match="classified every image"):
        plots.show_failures(AlwaysZero(), [batch([0, 0])])


def test_confusion_matrix_by_hand():
    counts = plots.confusion_matrix(AlwaysZero(), [batch([0, 1, 1]), batch([2, 0])])
    expected = torch.zeros(10, 10, dtype=torch.long)
    expected[0, 0], expected[1, 0], expected[2, 0] = 2, 2, 1
    assert torch.equal(counts, expected)


def test_plot_confusion_matrix_axes():
    ax = plots.plot_confusion_matrix(AlwaysZero(), [batch([0, 1, 1, 2])])
    assert ax.get_xlabel() == "predicted digit" and ax.get_ylabel() == "true digit"
    assert "accuracy 25.00%" in ax.get_title()
