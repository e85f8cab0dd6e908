"""plots.show_weights: one diverging, centred image per class, titled, with a labelled colorbar."""

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from mnistlib import plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


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
