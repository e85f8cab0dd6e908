"""Pictures of images and predictions: digit grids, the failure gallery, confusion matrices and
weights as images. Every function returns the matplotlib `Figure` it drew."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import seaborn as sns
import torch
from torch import nn

from mnistlib.style import use_projector_style
from mnistlib.train import model_device, predict

use_projector_style()
RIGHT, WRONG = "tab:green", "tab:red"


MAX_WIDTH = 11  # inches: the widest figure that stays legible on a 1024 × 768 projector
MAX_IMAGES = 200  # one axes per image: more would take minutes to draw and be unreadable


def _image_grid(n: int, ncols: int, cell: tuple[float, float], margin: tuple[float, float]):
    """A figure with a grid of image axes, `ncols` wide, all axes hidden; returns the figure, the
    axes array and the first `n` axes, in reading order."""
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a whole number of at least 1, got {ncols!r}")
    if n > MAX_IMAGES:
        raise ValueError(
            f"got {n} images to draw, at most {MAX_IMAGES} fit on one figure; "
            "pass a slice, for example images[:32]"
        )
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    scale = min(1.0, (MAX_WIDTH - margin[0]) / (cell[0] * ncols))  # wide grids shrink to fit
    size = (cell[0] * ncols * scale + margin[0], cell[1] * nrows * scale + margin[1])
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes, list(axes.flat)[:n]


def show_digits(
    images: torch.Tensor,
    labels: Sequence[int] | torch.Tensor | None = None,
    preds: Sequence[int] | torch.Tensor | None = None,
    ncols: int = 8,
    title: str | None = None,
) -> plt.Figure:
    """A grid of digits titled with their labels; with `preds`, titles say 'pred (true)' in green
    when right and red when wrong. `images` is (N, 28, 28) or (N, 1, 28, 28), any dtype."""
    images = torch.as_tensor(images).detach().cpu()
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(
            f"expected images of shape (N, 28, 28) or (N, 1, 28, 28), got {tuple(images.shape)}"
        )
    fig, _, cells = _image_grid(len(images), ncols, cell=(1.3, 1.5), margin=(0, 0.4))
    for i, ax in enumerate(cells):
        ax.imshow(images[i].numpy(), cmap="gray_r")
        if preds is not None and labels is not None:
            right = int(preds[i]) == int(labels[i])
            ax.set_title(f"{int(preds[i])} ({int(labels[i])})", color=RIGHT if right else WRONG)
        elif labels is not None:
            ax.set_title(str(int(labels[i])))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


@torch.no_grad()
def find_failures(
    model: nn.Module, loader: Iterable, n: int = 16
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The first `n` misclassified images in `loader`, scanning batch after batch, with their
    predicted and true labels (all on the CPU). Fewer come back if the loader runs out."""
    model.eval()
    where = model_device(model)
    images, preds, labels = [], [], []
    found = 0
    for X, y in loader:
        pred = model(X.to(where)).argmax(dim=1).cpu()
        wrong = pred != y.cpu()
        images.append(X.cpu()[wrong])
        preds.append(pred[wrong])
        labels.append(y.cpu()[wrong])
        found += int(wrong.sum())
        if found >= n:
            break
    if not images:
        raise ValueError("the loader yielded no batches; is the dataset empty?")
    return torch.cat(images)[:n], torch.cat(preds)[:n], torch.cat(labels)[:n]


def show_failures(model: nn.Module, loader: Iterable, n: int = 16, ncols: int = 8) -> plt.Figure:
    """A gallery of `n` images the model gets wrong, titled 'predicted (true)'."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n (how many failures to show) must be at least 1, got {n!r}")
    images, preds, labels = find_failures(model, loader, n)
    if len(images) == 0:
        raise ValueError("the model classified every image in the loader correctly")
    return show_digits(images, labels, preds, ncols=ncols, title="Misclassified: predicted (true)")


def confusion_matrix(model: nn.Module, loader: Iterable) -> torch.Tensor:
    """10 × 10 counts: row = true digit, column = predicted digit."""
    preds, labels = predict(model, loader)
    for name, values in (("predicted", preds), ("true", labels)):
        if values.min() < 0 or values.max() > 9:
            raise ValueError(
                f"expected {name} digits 0 to 9, got {int(values.max())}; "
                "does the model return exactly 10 scores per image?"
            )
    return torch.bincount(labels * 10 + preds, minlength=100).reshape(10, 10)


def plot_confusion_matrix(
    models: nn.Module | Mapping[str, nn.Module], loader: Iterable, title: str | None = None
) -> plt.Figure:
    """The confusion matrix as a heatmap, diagonal (correct answers) masked so that the mistakes
    stand out; each cell counts images. Several models given as {name: model} are drawn side by
    side on one colour scale, so that equal counts get equal colours."""
    runs = {"": models} if isinstance(models, nn.Module) else dict(models)
    if not runs or not all(isinstance(m, nn.Module) for m in runs.values()):
        raise TypeError("expected an nn.Module or a non-empty {name: nn.Module} dict")
    counts = {name: confusion_matrix(model, loader) for name, model in runs.items()}
    off_diagonal = ~torch.eye(10, dtype=torch.bool)
    vmax = max(int(c[off_diagonal].max()) for c in counts.values()) or 1
    fig, axes = plt.subplots(
        1,
        len(runs),
        figsize=(min(MAX_WIDTH, 5.5 * len(runs) + 1), 5),
        squeeze=False,
        layout="constrained",
    )
    for ax, (name, c) in zip(axes.flat, counts.items(), strict=True):
        sns.heatmap(
            c.numpy(),
            mask=~off_diagonal.numpy(),
            annot=True,
            fmt="d",
            cmap="Reds",
            vmin=0,
            vmax=vmax,
            cbar=ax is axes.flat[-1],
            ax=ax,
            cbar_kws={"label": "number of images (diagonal hidden)"},
        )
        accuracy = 100 * c.diag().sum() / c.sum()
        prefix = f"{name}: " if name else "Confusion matrix "
        ax.set(
            xlabel="predicted digit", ylabel="true digit", title=f"{prefix}accuracy {accuracy:.2f}%"
        )
    if title:
        fig.suptitle(title)
    return fig


def show_weights(
    weights: torch.Tensor,
    titles: Sequence[str] | None = None,
    ncols: int = 5,
    title: str | None = None,
    limit: float | None = None,
) -> plt.Figure:
    """One 28 × 28 image per row of `weights` ((K, 784) or (K, 28, 28), e.g. a linear layer's
    weight), in a diverging colormap centred at 0: red where ink raises that row's output, blue
    where ink lowers it. The scale runs from -limit to +limit (default: the 99th percentile of
    |weight|, so that a few extreme pixels do not wash out the rest). Titles default to
    'digit 0', 'digit 1', ..."""
    weights = torch.as_tensor(weights).detach().float().cpu()
    if weights.ndim == 2 and weights.shape[1] == 28 * 28:
        weights = weights.reshape(-1, 28, 28)
    if weights.ndim != 3 or weights.shape[1:] != (28, 28) or len(weights) == 0:
        raise ValueError(
            f"expected weights of shape (K, 784) or (K, 28, 28), got {tuple(weights.shape)}"
        )
    n = len(weights)
    titles = list(titles) if titles is not None else [f"digit {i}" for i in range(n)]
    if len(titles) != n:
        raise ValueError(f"got {len(titles)} titles for {n} weight images")
    fig, axes, cells = _image_grid(n, ncols, cell=(1.9, 2), margin=(1, 0.5))
    if limit is None:
        limit = float(torch.quantile(weights.abs().flatten(), 0.99))
        limit = limit or float(weights.abs().max()) or 1.0
    for i, ax in enumerate(cells):
        image = ax.imshow(weights[i].numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(titles[i])
    fig.colorbar(
        image, ax=axes, shrink=0.8, extend="both", label="weight per pixel (red +, blue −)"
    )
    fig.suptitle(title or "Weights as images: red pixels push the output up, blue pull it down")
    return fig
