"""Pictures: digit grids, the failure gallery, confusion matrices, weights and filters as images,
small matrices with their numbers, feature maps, where a kernel lands with padding and stride,
two-digit canvases, what a recurrent network has read, and the unrolled recurrent network."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import seaborn as sns
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle
from torch import nn

from mnistlib import measure
from mnistlib.models import output_size
from mnistlib.plots.alt_text import listing, set_alt_text
from mnistlib.plots.curves import one_or_many
from mnistlib.plots.style import BLUE, VERMILLION

RIGHT, WRONG = BLUE, VERMILLION  # told apart with every common kind of colour-blindness
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


def _as_cpu(values, dtype: torch.dtype | None = None) -> torch.Tensor:
    """`values` as a tensor on the CPU, cut from autograd, in `dtype` when one is given."""
    values = torch.as_tensor(values).detach().cpu()
    return values if dtype is None else values.to(dtype)


def show_digits(
    images: torch.Tensor,
    labels: Sequence[int] | torch.Tensor | None = None,
    preds: Sequence[int] | torch.Tensor | None = None,
    *,
    ncols: int = 8,
    title: str | None = None,
) -> Figure:
    """A grid of digits titled with their labels; with `preds`, titles say 'pred (true)' in green
    when right and red when wrong. `images` is (N, 28, 28) or (N, 1, 28, 28), any dtype."""
    images = _as_cpu(images)
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
    return set_alt_text(fig, _reading_of(len(images), "handwritten digits", labels, preds))


def _reading_of(n: int, what: str, labels, preds) -> str:
    """Alt text of a grid of `n` images of `what`: their labels, or which predictions are wrong."""
    if labels is None:
        return f"{n} {what} in a grid."
    true = [" ".join(map(str, torch.as_tensor(t).flatten().tolist())) for t in labels[:n]]
    if preds is None:
        return f"{n} {what} in a grid, labelled {listing(true, most=16)}."
    guess = [" ".join(map(str, torch.as_tensor(p).flatten().tolist())) for p in preds[:n]]
    wrong = [f"{t} read as {g}" for g, t in zip(guess, true, strict=True) if g != t]
    summary = f"{n - len(wrong)} read right, {len(wrong)} wrong" if len(wrong) < n else "all wrong"
    return (
        f"{n} {what} in a grid, each titled with the prediction and the true label in brackets: "
        + summary
        + (f" ({listing(wrong)})." if wrong else ".")
    )


def show_pixel_values(
    image: torch.Tensor, *, label: int | None = None, rows: int = 10, title: str | None = None
) -> Figure:
    """A digit (28 × 28, values 0-255) beside an enlarged view of the first `rows` rows of its ink,
    the value of every inked pixel written on it; a box on the digit marks the enlarged part."""
    image = _as_cpu(image).squeeze()
    if image.shape != (28, 28) or image.dtype != torch.uint8:
        raise ValueError(
            f"expected one raw image, uint8 of shape (28, 28), got {image.dtype} "
            f"{tuple(image.shape)}; take it from dataset.data, before any transform"
        )
    ink = image.nonzero()  # (row, column) of every non-zero pixel
    if len(ink) == 0:
        raise ValueError("the image is blank: there is no ink to enlarge")
    top, left, right = int(ink[:, 0].min()), int(ink[:, 1].min()), int(ink[:, 1].max())
    bottom = min(top + rows - 1, 27)
    fig, (ax_all, ax_box) = plt.subplots(
        1, 2, figsize=(11, 4.4), width_ratios=(1, 3.3), layout="constrained"
    )
    ax_all.imshow(image.numpy(), cmap="gray_r")
    box = (left - 0.5, top - 0.5), right - left + 1, bottom - top + 1
    ax_all.add_patch(Rectangle(*box, fill=False, ec=VERMILLION, lw=2))
    named = f", label {label}" if label is not None else ""
    ax_all.set(title=f"The digit{named}", xlabel="column", ylabel="row")
    extent = (left - 0.5, right + 0.5, bottom + 0.5, top - 0.5)
    ax_box.imshow(image[top : bottom + 1, left : right + 1].numpy(), cmap="gray_r", extent=extent)
    for row, col in ink[ink[:, 0] <= bottom].tolist():
        value = int(image[row, col])
        color = "white" if value > 128 else "black"
        ax_box.text(col, row, value, ha="center", va="center", fontsize=10, color=color)
    ax_box.set(
        title="Inside the box: the value of each pixel (0-255)",
        xlabel="column (pixel)",
        ylabel="row (pixel)",
        xticks=range(left, right + 1, 2),
        yticks=range(top, bottom + 1),
    )
    if title:
        fig.suptitle(title)
    kind = f"a handwritten {label}" if label is not None else "a handwritten digit"
    return set_alt_text(
        fig,
        f"A 28 × 28 image of {kind} with a box around rows {top} to {bottom} of its ink; beside "
        "it, that box enlarged with the value of each inked pixel written on it, from "
        f"{int(image[image > 0].min())} to {int(image.max())}; the background is 0.",
    )


def show_failures(
    model: nn.Module, loader: Iterable, *, n: int = 16, ncols: int = 8, title: str | None = None
) -> Figure:
    """A gallery of `n` images the model gets wrong (`measure.find_failures`), titled
    'predicted (true)'."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n (how many failures to show) must be at least 1, got {n!r}")
    images, preds, labels = measure.find_failures(model, loader, n)
    if len(images) == 0:
        raise ValueError("the model classified every image in the loader correctly")
    title = title or "Misclassified: predicted (true)"
    return show_digits(images, labels, preds, ncols=ncols, title=title)


def plot_confusion_matrix(
    models: nn.Module | Mapping[str, nn.Module], loader: Iterable, *, title: str | None = None
) -> Figure:
    """The confusion matrix (`measure.confusion_matrix`) as a heatmap, diagonal (correct answers)
    masked so that the mistakes stand out; each cell counts images. Several models given as
    {name: model} are drawn side by side on one colour scale, so that equal counts get equal
    colours."""
    runs = one_or_many(models, nn.Module, "an nn.Module")
    counts = {name: measure.confusion_matrix(model, loader) for name, model in runs.items()}
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
    summaries = []
    for name, c in counts.items():
        mistakes = c.masked_fill(~off_diagonal, 0).flatten()
        top = [(int(v), int(i)) for v, i in zip(*mistakes.topk(3), strict=True) if v > 0]
        common = listing([f"a {i // 10} read as {i % 10} ({v} images)" for v, i in top])
        accuracy = 100 * c.diag().sum() / c.sum()
        summaries.append(
            f"{name or 'the model'}: accuracy {accuracy:.2f}%"
            + (f", most frequent mistakes {common}" if top else ", no mistakes")
        )
    return set_alt_text(
        fig,
        "Confusion matrix as a heat map, true digit by row and predicted digit by column, the "
        f"diagonal hidden so that the mistakes stand out; {'; '.join(summaries)}.",
    )


def show_weights(
    weights: torch.Tensor,
    *,
    titles: Sequence[str] | None = None,
    ncols: int = 5,
    limit: float | None = None,
    title: str | None = None,
) -> Figure:
    """One 28 × 28 image per row of `weights` ((K, 784) or (K, 28, 28), e.g. a linear layer's
    weight), in a diverging colormap centred at 0: red where ink raises that row's output, blue
    where ink lowers it. The scale runs from -limit to +limit (default: the 99th percentile of
    |weight|, so that a few extreme pixels do not wash out the rest). Titles default to
    'digit 0', 'digit 1', ..."""
    weights = _as_cpu(weights, torch.float32)
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
    return set_alt_text(
        fig,
        f"{n} images of 28 × 28 weights, one for each of {listing(titles)}: red where the weight "
        f"is positive, blue where it is negative, on a scale from -{limit:.2g} to {limit:.2g}.",
    )


def show_filters(weight: torch.Tensor, *, ncols: int = 8, title: str | None = None) -> Figure:
    """The kernels of a first convolution layer (weight of shape (K, 1, k, k)), one image each, on
    one diverging scale centred at 0: red weights respond to ink, blue ones to background."""
    weight = _as_cpu(weight, torch.float32)
    if weight.ndim != 4 or weight.shape[1] != 1:
        raise ValueError(f"expected a first-layer weight (K, 1, k, k), got {tuple(weight.shape)}")
    fig, axes, cells = _image_grid(len(weight), ncols, cell=(1.3, 1.4), margin=(1.2, 0.6))
    limit = float(weight.abs().max()) or 1.0
    for i, ax in enumerate(cells):
        image = ax.imshow(weight[i, 0].numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"filter {i}", fontsize=10)
    fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
    fig.suptitle(title or f"The {len(weight)} filters of the first layer")
    k = f"{weight.shape[2]} × {weight.shape[3]}"
    return set_alt_text(
        fig,
        f"The {len(weight)} filters of the first convolution layer as {k} images: red for "
        f"positive weights and blue for negative ones, up to {limit:.2g} either way.",
    )


def show_feature_maps(
    maps: Mapping[str, torch.Tensor], *, ncols: int = 8, title: str | None = None
) -> Figure:
    """One row per layer of `measure.feature_maps`, its first `ncols` channels as images (each on
    its own scale: dark = strong response)."""
    if not maps:
        raise ValueError("expected {layer name: feature maps (C, H, W)}, got nothing")
    fig, axes = plt.subplots(
        len(maps), ncols, figsize=(1.4 * ncols + 1, 1.5 * len(maps)), squeeze=False
    )
    for row, (name, m) in zip(axes, maps.items(), strict=True):
        for c, ax in enumerate(row):
            ax.set(xticks=[], yticks=[])
            if c < len(m):
                ax.imshow(m[c].numpy(), cmap="gray_r")
        row[0].set_ylabel(f"{name}\n{m.shape[1]}×{m.shape[2]}", rotation=0, ha="right", va="center")
    for c, ax in enumerate(axes[0]):
        ax.set_title(f"channel {c}", fontsize=10)
    fig.suptitle(title or "Feature maps of one digit, layer by layer (dark = strong response)")
    fig.tight_layout()
    layers = [
        f"{name}, {len(m)} channels of {m.shape[1]} × {m.shape[2]}" for name, m in maps.items()
    ]
    return set_alt_text(
        fig,
        f"Feature maps of one digit, one row per layer ({listing(layers)}), the first {ncols} "
        "channels of each as images, dark where the response is strong.",
    )


def show_matrices(
    matrices: torch.Tensor | Mapping[str, torch.Tensor], *, title: str | None = None
) -> Figure:
    """Small 2-D tensors side by side as grids of their numbers: one matrix, or one panel per
    {name: matrix}."""
    panels = one_or_many(matrices, torch.Tensor, "a 2-D tensor")
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.4), squeeze=False)
    texts = []  # each matrix in words, for the alt text
    for ax, (name, m) in zip(axes.flat, panels.items(), strict=True):
        m = _as_cpu(m, torch.float32)
        if m.ndim != 2 or m.numel() > 100:
            raise ValueError(f"expected small 2-D matrices (at most 10 × 10), got {tuple(m.shape)}")
        ax.imshow(m.numpy(), cmap="Blues", vmin=min(0.0, float(m.min())))
        for i, row in enumerate(m.tolist()):
            for j, v in enumerate(row):
                ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=12)
        size = f"{m.shape[0]} × {m.shape[1]}"
        ax.set(title=f"{name} ({size})" if name else size, xticks=[], yticks=[])
        rows = "; ".join(" ".join(f"{v:g}" for v in row) for row in m.tolist())
        texts.append(f"{name or 'a matrix'}, {size}, rows {rows}")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return set_alt_text(fig, f"Small matrices with their numbers written in: {listing(texts)}.")


def show_maps(
    maps: torch.Tensor | Mapping[str, torch.Tensor], *, title: str | None = None
) -> Figure:
    """Images side by side: one 2-D tensor, or one per {name: 2-D tensor}; each on its own scale,
    diverging around 0 when it has negative values (red +, blue −), dark for ink otherwise."""
    panels = one_or_many(maps, torch.Tensor, "a 2-D tensor")
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.9), squeeze=False)
    texts = []  # each image in words, for the alt text
    for ax, (name, m) in zip(axes.flat, panels.items(), strict=True):
        m = _as_cpu(m, torch.float32)
        limit = float(m.abs().max()) or 1.0
        signed = bool((m < 0).any())
        cmap, low = ("RdBu_r", -limit) if signed else ("gray_r", 0.0)
        image = ax.imshow(m.numpy(), cmap=cmap, vmin=low, vmax=limit)
        ax.set(title=name, xticks=[], yticks=[])
        fig.colorbar(image, ax=ax, shrink=0.75)
        scale = "red above 0, blue below" if signed else "dark where the value is high"
        texts.append(f"{name or 'an image'} ({m.shape[0]} × {m.shape[1]}, {scale})")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    lead = f"{len(panels)} images side by side: " if len(texts) > 1 else "An image: "
    return set_alt_text(fig, lead + listing(texts) + ".")


def show_padding(
    *,
    n: int = 5,
    kernel: int = 3,
    settings: Sequence[tuple[int, int]] = ((0, 1),),
    title: str | None = None,
) -> Figure:
    """One panel per (padding, stride): the n × n input (blue) inside its padding (white), the
    first kernel window (red) and a dot at the centre of every window, one per output pixel."""
    fig, axes = plt.subplots(1, len(settings), figsize=(3.6 * len(settings), 4.2), squeeze=False)
    for ax, (padding, stride) in zip(axes.flat, settings, strict=True):
        side, out = n + 2 * padding, output_size(n, kernel, padding, stride)
        ax.add_patch(Rectangle((-0.5, -0.5), side, side, fc="white", ec="gray", hatch="//"))
        ax.add_patch(Rectangle((padding - 0.5, padding - 0.5), n, n, fc="#b3cde3", ec="gray"))
        ax.add_patch(Rectangle((-0.5, -0.5), kernel, kernel, fill=False, ec=VERMILLION, lw=3))
        centres = [kernel // 2 + stride * i for i in range(out)]
        xs, ys = zip(*[(x, y) for x in centres for y in centres], strict=True)
        ax.plot(xs, ys, "o", color="black", ms=7)
        ax.set(xlim=(-0.6, side - 0.4), ylim=(side - 0.4, -0.6), aspect="equal")
        ax.set_xticks(range(side))
        ax.set_yticks(range(side))
        ax.set(xlabel="column (pixels, padding included)", ylabel="row (pixels)")
        ax.set_title(f"padding {padding}, stride {stride}:\n{n} × {n} → {out} × {out}")
    default = f"A {kernel} × {kernel} kernel on a {n} × {n} input: one dot per output pixel"
    fig.suptitle(title or default)
    fig.tight_layout()
    panels = [
        f"padding {p} and stride {st} give {output_size(n, kernel, p, st)} × "
        f"{output_size(n, kernel, p, st)}"
        for p, st in settings
    ]
    return set_alt_text(
        fig,
        f"Where a {kernel} × {kernel} kernel lands on a {n} × {n} input, one panel per setting: "
        f"{listing(panels)}. Each panel shows the input in blue inside its hatched padding, the "
        "first window framed in red and a dot at the centre of every window.",
    )


def show_canvases(
    images: torch.Tensor,
    labels: torch.Tensor,
    preds: torch.Tensor | None = None,
    *,
    ncols: int = 8,
    title: str | None = None,
) -> Figure:
    """Two-digit canvases (N, H, 28) or (N, 1, H, 28), titled 'top bottom' from `labels` (N, 2);
    with `preds` (N, 2), titled 'predicted (true)', green when both digits are right, red
    otherwise."""
    images, labels = _as_cpu(images), _as_cpu(labels)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3 or images.shape[2] != 28 or labels.shape != (len(images), 2):
        raise ValueError(
            "expected canvases (N, H, 28) or (N, 1, H, 28) and labels (N, 2), got "
            f"{tuple(images.shape)} and {tuple(labels.shape)}"
        )
    fig, _, cells = _image_grid(len(images), ncols, cell=(1.3, 2.1), margin=(0, 0.5))
    for i, ax in enumerate(cells):
        ax.imshow(images[i].numpy(), cmap="gray_r")
        true = "{} {}".format(*map(int, labels[i]))
        if preds is None:
            ax.set_title(true)
        else:
            guess = "{} {}".format(*map(int, preds[i]))
            ax.set_title(f"{guess} ({true})", color=RIGHT if guess == true else WRONG)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    what = "canvases of two overlapping digits (top, bottom)"
    return set_alt_text(fig, _reading_of(len(images), what, labels, preds))


def show_reading(
    image: torch.Tensor, *, after: Sequence[int] = (1, 7, 14, 21, 28), title: str | None = None
) -> Figure:
    """One digit as a network that reads it row by row has seen it, after each of the time steps
    in `after`: rows read so far in full, the row of that step framed in red, the rest faded."""
    image = _as_cpu(image, torch.float32).squeeze()
    if image.shape != (28, 28):
        raise ValueError(f"expected one image of shape (28, 28) or (1, 28, 28), got {image.shape}")
    if not after or not all(isinstance(t, int) and 1 <= t <= 28 for t in after):
        raise ValueError(f"expected time steps from 1 to 28 in `after`, got {after!r}")
    image = (image - image.min()) / (image.max() - image.min() + 1e-12)
    fig, axes = plt.subplots(1, len(after), figsize=(2.1 * len(after), 2.8), squeeze=False)
    for ax, t in zip(axes[0], after, strict=True):
        shown = image.clone()
        shown[t:] *= 0.15
        ax.imshow(shown.numpy(), cmap="gray", vmin=0, vmax=1)
        ax.add_patch(plt.Rectangle((-0.5, t - 1.5), 28, 1, fill=False, ec=VERMILLION, lw=2))
        ax.set_title(f"step t = {t}")
        ax.axis("off")
    fig.suptitle(title or "What the network has read after step t (row t framed, later rows faded)")
    fig.tight_layout()
    return set_alt_text(
        fig,
        f"One digit drawn {len(after)} times, after steps {listing(after)} of reading it row by "
        "row: the rows read so far in full, the row of that step framed in red, later rows faded.",
    )


def _box(ax, xy, text, color):
    ax.add_patch(
        FancyBboxPatch(
            (xy[0] - 0.32, xy[1] - 0.22), 0.64, 0.44, boxstyle="round,pad=0.03", fc=color, ec="k"
        )
    )
    ax.text(*xy, text, ha="center", va="center", fontsize=13)


def _arrow(ax, start, end, color="k", style="-|>", ls="-", rad=0.0):
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle=style,
            mutation_scale=14,
            color=color,
            ls=ls,
            lw=1.6,
            connectionstyle=f"arc3,rad={rad}",
        )
    )


def show_unrolled(*, steps: int = 4, title: str | None = None) -> Figure:
    """The recurrent network unrolled over `steps` time steps: inputs x_t, hidden states h_t
    sharing W_xh and W_hh, the output and loss after the last step; the gradient's way back
    drawn as red dashed arrows."""
    if not isinstance(steps, int) or not 2 <= steps <= 6:
        raise ValueError(f"steps must be between 2 and 6 (the figure stays readable), got {steps}")
    fig, ax = plt.subplots(figsize=(10, 5))
    labels = [str(t) for t in range(1, steps)] + ["T"]
    for i, t in enumerate(labels):
        x = i + 1
        _box(ax, (x, 0), f"$x_{t}$", "#dce9f5")
        _box(ax, (x, 1.2), f"$h_{t}$", "#fde8c8")
        _arrow(ax, (x, 0.24), (x, 0.96))
        ax.text(x + 0.05, 0.6, "$W_{xh}$", fontsize=11)
        _arrow(ax, (x - 0.66, 1.2), (x - 0.34, 1.2))
        ax.text(x - 0.5, 1.02, "$W_{hh}$" if i else "$h_0$", fontsize=11, ha="center")
    for x in range(2, steps + 2):  # the gradient flows back: o -> h_T -> ... -> h_1
        _arrow(ax, (x, 1.46), (x - 1, 1.46), color=VERMILLION, ls="--", rad=0.45)
    _box(ax, (steps + 1, 1.2), "$o$", "#e3f1dc")
    _box(ax, (steps + 1, 2.6), "loss", "#f6d5d5")
    _arrow(ax, (steps + 0.34, 1.2), (steps + 0.66, 1.2))
    ax.text(steps + 0.5, 1.02, "$W_{hq}$", fontsize=11, ha="center")
    _arrow(ax, (steps + 0.95, 1.44), (steps + 0.95, 2.36))
    _arrow(ax, (steps + 1.1, 2.36), (steps + 1.1, 1.44), color=VERMILLION, ls="--")
    ax.text(
        0.6,
        2.6,
        "black: the forward pass, the same weights at every step\n"
        "red, dashed: the gradient of the loss on its way back\n"
        "through every hidden state, $h_T$ first and $h_1$ last",
        fontsize=11,
        va="center",
    )
    ax.set(xlim=(0.3, steps + 1.6), ylim=(-0.35, 3.0), aspect="equal")
    ax.axis("off")
    ax.set_title(title or f"A recurrent network unrolled over T = {steps} time steps")
    fig.tight_layout()
    return set_alt_text(
        fig,
        f"Diagram of a recurrent network unrolled over {steps} time steps: each input x_t feeds a "
        "hidden state h_t through the weights W_xh, each hidden state feeds the next through "
        "W_hh, the last one gives the output o and the loss. Red dashed arrows run back from the "
        "loss through every hidden state: the way the gradient travels.",
    )
