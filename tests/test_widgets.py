"""The digit browser: a slider over the images, and a clear error on the wrong shape."""

import matplotlib.pyplot as plt
import pytest
import torch

from mnistlib import widgets


def test_digit_browser_slider_spans_every_image(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda: None)
    images = torch.zeros(5, 28, 28, dtype=torch.uint8)
    browser = widgets.digit_browser(images, torch.arange(5))
    slider = browser.children[0]
    assert (slider.min, slider.max, slider.value) == (0, 4, 0)
    slider.value = 3
    titles = [ax.get_title() for ax in plt.gcf().axes]
    assert titles[0] == "image 3: label 3"
    plt.close("all")


@pytest.mark.parametrize(
    ("images", "labels"),
    [
        (torch.zeros(5, 784), torch.arange(5)),
        (torch.zeros(5, 28, 28), torch.arange(4)),
    ],
)
def test_digit_browser_rejects_bad_shapes(images, labels):
    with pytest.raises(ValueError, match="expected images of shape \\(N, 28, 28\\) and N labels"):
        widgets.digit_browser(images, labels)
