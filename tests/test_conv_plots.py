"""conv_plots: titles and labels say what is drawn, one dot per output pixel, feature maps in
layer order with their shapes, and errors on bad input."""

import matplotlib.pyplot as plt
import pytest
import torch

from mnistlib import conv_plots, models
from mnistlib.plots import RIGHT, WRONG


def test_show_matrices_writes_every_number():
    fig = conv_plots.show_matrices(
        {"input": torch.arange(4).reshape(2, 2), "out": torch.ones(1, 1)}
    )
    assert [ax.get_title() for ax in fig.axes] == ["input (2 × 2)", "out (1 × 1)"]
    assert [t.get_text() for t in fig.axes[0].texts] == ["0", "1", "2", "3"]
    with pytest.raises(ValueError, match="small 2-D matrices"):
        conv_plots.show_matrices({"too big": torch.zeros(28, 28)})
    plt.close("all")


@pytest.mark.parametrize(("padding", "stride", "side"), [(0, 1, 3), (1, 1, 5), (1, 2, 3)])
def test_show_padding_draws_one_dot_per_output_pixel(padding, stride, side):
    fig = conv_plots.show_padding(5, 3, [(padding, stride)])
    ax = fig.axes[0]
    assert len(ax.lines[0].get_xdata()) == side * side
    assert f"5 × 5 → {side} × {side}" in ax.get_title()
    assert ax.get_xlabel() == "column (pixels, padding included)"
    plt.close("all")


def test_show_maps_and_accuracy_plot_are_labelled():
    fig = conv_plots.show_maps({"digit": torch.rand(5, 5), "edges": torch.randn(5, 5)}, "Two")
    assert fig._suptitle.get_text() == "Two" and fig.axes[0].get_title() == "digit"
    fig = conv_plots.plot_accuracy_against({"MLP": {0: 90.0, 2: 50.0}}, "shift (pixels)", "T")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "shift (pixels)",
        "test accuracy (%)",
        "T",
    )
    assert ax.get_legend().get_texts()[0].get_text() == "MLP"
    plt.close("all")


def test_filters_and_feature_maps_of_a_small_cnn():
    model = models.SmallCNN((4, 8))
    fig = conv_plots.show_filters(model.layers[0].weight, ncols=4)
    assert [ax.get_title() for ax in fig.axes[:4]] == [f"filter {i}" for i in range(4)]
    maps = conv_plots.feature_maps(model, torch.rand(1, 28, 28))
    assert list(maps) == ["conv 1", "relu 1", "pool 1", "conv 2", "relu 2", "pool 2"]
    assert maps["pool 1"].shape == (4, 14, 14) and maps["pool 2"].shape == (8, 7, 7)
    assert not model._forward_hooks and not model.layers[0]._forward_hooks
    fig = conv_plots.show_feature_maps(maps, channels=4)
    assert fig.axes[0].get_ylabel() == "conv 1\n28×28"
    with pytest.raises(ValueError, match=r"first-layer weight \(K, 1, k, k\)"):
        conv_plots.show_filters(model.layers[3].weight)
    plt.close("all")


def test_show_canvases_colours_the_titles():
    images = torch.zeros(2, 42, 28, dtype=torch.uint8)
    labels = torch.tensor([[1, 2], [3, 4]])
    fig = conv_plots.show_canvases(images, labels, preds=torch.tensor([[1, 2], [3, 5]]))
    titles = [ax.title for ax in fig.axes[:2]]
    assert [t.get_text() for t in titles] == ["1 2 (1 2)", "3 5 (3 4)"]
    assert titles[0].get_color() == RIGHT and titles[1].get_color() == WRONG
    plt.close("all")
