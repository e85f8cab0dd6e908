"""Pictures for convolutional networks: small matrices with their numbers, where a kernel lands
with padding and stride, first-layer filters, feature maps layer by layer, accuracy against a
change of the input, and two-digit canvases. Every function returns the `Figure` it drew."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import Rectangle
from torch import nn

from mnistlib.convolution import output_size
from mnistlib.plots import RIGHT, WRONG, _image_grid
from mnistlib.style import legend_outside, use_projector_style

use_projector_style()


def show_matrices(matrices: Mapping[str, torch.Tensor], title: str | None = None) -> plt.Figure:
    """Small 2-D tensors side by side as grids of their numbers, one panel per {name: matrix}."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(3.2 * len(matrices), 3.4), squeeze=False)
    for ax, (name, m) in zip(axes.flat, matrices.items(), strict=True):
        m = torch.as_tensor(m).detach().float().cpu()
        if m.ndim != 2 or m.numel() > 100:
            raise ValueError(f"expected small 2-D matrices (at most 10 × 10), got {tuple(m.shape)}")
        ax.imshow(m.numpy(), cmap="Blues", vmin=min(0.0, float(m.min())))
        for i, row in enumerate(m.tolist()):
            for j, v in enumerate(row):
                ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=12)
        ax.set(title=f"{name} ({m.shape[0]} × {m.shape[1]})", xticks=[], yticks=[])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_maps(maps: Mapping[str, torch.Tensor], title: str) -> plt.Figure:
    """Images side by side, one per {name: 2-D tensor}; each on its own scale, diverging around 0
    when it has negative values (red +, blue −), dark for ink otherwise."""
    fig, axes = plt.subplots(1, len(maps), figsize=(3.4 * len(maps), 3.9), squeeze=False)
    for ax, (name, m) in zip(axes.flat, maps.items(), strict=True):
        m = torch.as_tensor(m).detach().float().cpu()
        limit = float(m.abs().max()) or 1.0
        signed = bool((m < 0).any())
        cmap, low = ("RdBu_r", -limit) if signed else ("gray_r", 0.0)
        image = ax.imshow(m.numpy(), cmap=cmap, vmin=low, vmax=limit)
        ax.set(title=name, xticks=[], yticks=[])
        fig.colorbar(image, ax=ax, shrink=0.75)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_padding(n: int = 5, kernel: int = 3, settings: Sequence[tuple[int, int]] = ((0, 1),)):
    """One panel per (padding, stride): the n × n input (blue) inside its padding (white), the
    first kernel window (red) and a dot at the centre of every window, one per output pixel."""
    fig, axes = plt.subplots(1, len(settings), figsize=(3.6 * len(settings), 4.2), squeeze=False)
    for ax, (padding, stride) in zip(axes.flat, settings, strict=True):
        side, out = n + 2 * padding, output_size(n, kernel, padding, stride)
        ax.add_patch(Rectangle((-0.5, -0.5), side, side, fc="white", ec="gray", hatch="//"))
        ax.add_patch(Rectangle((padding - 0.5, padding - 0.5), n, n, fc="#b3cde3", ec="gray"))
        ax.add_patch(Rectangle((-0.5, -0.5), kernel, kernel, fill=False, ec="tab:red", lw=3))
        centres = [kernel // 2 + stride * i for i in range(out)]
        xs, ys = zip(*[(x, y) for x in centres for y in centres], strict=True)
        ax.plot(xs, ys, "o", color="black", ms=7)
        ax.set(xlim=(-0.6, side - 0.4), ylim=(side - 0.4, -0.6), aspect="equal")
        ax.set_xticks(range(side))
        ax.set_yticks(range(side))
        ax.set(xlabel="column (pixels, padding included)", ylabel="row (pixels)")
        ax.set_title(f"padding {padding}, stride {stride}:\n{n} × {n} → {out} × {out}")
    fig.suptitle(f"A {kernel} × {kernel} kernel on a {n} × {n} input: one dot per output pixel")
    fig.tight_layout()
    return fig


def show_filters(weight: torch.Tensor, ncols: int = 8, title: str | None = None) -> plt.Figure:
    """The kernels of a first convolution layer (weight of shape (K, 1, k, k)), one image each, on
    one diverging scale centred at 0: red weights respond to ink, blue ones to background."""
    weight = torch.as_tensor(weight).detach().float().cpu()
    if weight.ndim != 4 or weight.shape[1] != 1:
        raise ValueError(f"expected a first-layer weight (K, 1, k, k), got {tuple(weight.shape)}")
    fig, axes, cells = _image_grid(len(weight), ncols, cell=(1.3, 1.4), margin=(1.2, 0.6))
    limit = float(weight.abs().max()) or 1.0
    for i, ax in enumerate(cells):
        image = ax.imshow(weight[i, 0].numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"filter {i}", fontsize=10)
    fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
    fig.suptitle(title or f"The {len(weight)} filters of the first layer")
    return fig


@torch.no_grad()
def feature_maps(model: nn.Module, image: torch.Tensor) -> dict[str, torch.Tensor]:
    """The output (C, H, W) of every convolution, ReLU and pooling layer of `model` for one image
    (1, H, W), in the order they run, named like 'conv 1', 'relu 1', 'pool 1'."""
    kinds = {nn.Conv2d: "conv", nn.ReLU: "relu", nn.MaxPool2d: "pool", nn.BatchNorm2d: "norm"}
    maps, counts, hooks = {}, {}, []
    for layer in model.modules():
        kind = kinds.get(type(layer))
        if kind is not None:

            def keep(_, __, out, kind=kind):
                if out.ndim == 4:
                    counts[kind] = counts.get(kind, 0) + 1
                    maps[f"{kind} {counts[kind]}"] = out[0].cpu()

            hooks.append(layer.register_forward_hook(keep))
    try:
        model.eval()(image.unsqueeze(0))
    finally:
        for hook in hooks:
            hook.remove()
    return maps


def show_feature_maps(maps: Mapping[str, torch.Tensor], channels: int = 8) -> plt.Figure:
    """One row per layer of `feature_maps`, its first `channels` channels as images (each on its
    own scale: dark = strong response)."""
    fig, axes = plt.subplots(len(maps), channels, figsize=(1.4 * channels + 1, 1.5 * len(maps)))
    for row, (name, m) in zip(axes, maps.items(), strict=True):
        for c, ax in enumerate(row):
            ax.set(xticks=[], yticks=[])
            if c < len(m):
                ax.imshow(m[c].numpy(), cmap="gray_r")
        row[0].set_ylabel(f"{name}\n{m.shape[1]}×{m.shape[2]}", rotation=0, ha="right", va="center")
    for c, ax in enumerate(axes[0]):
        ax.set_title(f"channel {c}", fontsize=10)
    fig.suptitle("Feature maps of one digit, layer by layer (dark = strong response)")
    fig.tight_layout()
    return fig


def plot_accuracy_against(
    results: Mapping[str, Mapping[float, float]], xlabel: str, title: str
) -> plt.Figure:
    """Accuracy (%) against a change of the input (a shift, an angle), one line per model given as
    {model name: {amount: accuracy}}."""
    fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    for name, points in results.items():
        ax.plot(list(points), list(points.values()), "o-", label=name)
    ax.set(xlabel=xlabel, ylabel="test accuracy (%)", title=title, ylim=(0, 100))
    legend_outside(ax)
    ax.grid(alpha=0.3)
    return fig


def show_canvases(images, labels, preds=None, ncols: int = 8, title: str | None = None):
    """Two-digit canvases (N, H, W) or (N, 1, H, W), titled 'top bottom'; with `preds` (N, 2),
    titled 'predicted (true)', green when both digits are right, red otherwise."""
    images = torch.as_tensor(images).detach().cpu().reshape(len(labels), -1, 28)
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
    return fig
