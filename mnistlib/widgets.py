"""ipywidgets explorers used in the notebooks (interactive in Jupyter and Colab)."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch


def digit_browser(images: torch.Tensor, labels: torch.Tensor) -> widgets.interactive:
    """A slider over `images` (N, 28, 28) showing each digit, its label and its pixel values."""
    if images.ndim != 3 or tuple(images.shape[1:]) != (28, 28) or len(images) != len(labels):
        raise ValueError(
            f"expected images of shape (N, 28, 28) and N labels, "
            f"got {tuple(images.shape)} and {len(labels)} labels"
        )

    def show(index: int) -> None:
        image = images[index].cpu().numpy()
        fig, (ax_img, ax_hist) = plt.subplots(1, 2, figsize=(9, 3.5))
        ax_img.imshow(image, cmap="gray_r")
        ax_img.set(
            title=f"image {index}: label {int(labels[index])}",
            xlabel="column (pixel)",
            ylabel="row (pixel)",
        )
        ax_hist.hist(image.ravel(), bins=32, color="tab:blue")
        ax_hist.set(
            title="its pixel values", xlabel="pixel value", ylabel="number of pixels", yscale="log"
        )
        fig.tight_layout()
        plt.show()

    slider = widgets.IntSlider(value=0, min=0, max=len(images) - 1, description="image")
    return widgets.interactive(show, index=slider)
