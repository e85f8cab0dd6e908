"""plots: what they show, their labels, the failure scan past the first batch, and weights as
diverging, centred images with a labelled colour bar."""

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from mnistlib import plots


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
    assert titled[1].title.get_color() == plots.WRONG and titled[0].title.get_color() == plots.RIGHT
    assert len(fig.axes) == 6  # a 2 × 3 grid, the last cell left blank


def test_show_digits_with_labels_only_and_bad_shape():
    fig = plots.show_digits(torch.zeros(2, 28, 28, dtype=torch.uint8), labels=[7, 3])
    assert [ax.get_title() for ax in fig.axes] == ["7", "3"]
    with pytest.raises(ValueError, match="expected images of shape \\(N, 28, 28\\)"):
        plots.show_digits(torch.zeros(4, 784))


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
    assert fig.get_figwidth() <= plots.MAX_WIDTH
