"""Figures of notebook 06: what a recurrent network sees at each step, the unrolled graph of
backpropagation through time, and curves per time step. Every function returns its `Figure`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from mnistlib.style import MARKERS_UP_TO, legend_outside, use_projector_style

use_projector_style()


def show_reading(image: torch.Tensor, steps: Sequence[int] = (1, 7, 14, 21, 28)) -> plt.Figure:
    """One digit as the network has read it after each of `steps`: rows read so far in full,
    the row of that step framed in red, the rows still to come faded."""
    image = torch.as_tensor(image).detach().cpu().float().squeeze()
    if image.shape != (28, 28):
        raise ValueError(f"expected one image of shape (28, 28) or (1, 28, 28), got {image.shape}")
    image = (image - image.min()) / (image.max() - image.min() + 1e-12)
    fig, axes = plt.subplots(1, len(steps), figsize=(2.1 * len(steps), 2.8), squeeze=False)
    for ax, t in zip(axes[0], steps, strict=True):
        shown = image.clone()
        shown[t:] *= 0.15
        ax.imshow(shown, cmap="gray", vmin=0, vmax=1)
        ax.add_patch(plt.Rectangle((-0.5, t - 1.5), 28, 1, fill=False, ec="tab:red", lw=2))
        ax.set_title(f"step t = {t}")
        ax.axis("off")
    fig.suptitle("What the network has read after step t (row t framed, later rows faded)")
    fig.tight_layout()
    return fig


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


def draw_unrolled(steps: int = 4) -> plt.Figure:
    """The recurrent network unrolled over `steps` time steps: inputs x_t, hidden states h_t
    sharing W_xh and W_hh, the output and loss after the last step; the gradient's way back
    drawn as red dashed arrows."""
    if not 2 <= steps <= 6:
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
        _arrow(ax, (x, 1.46), (x - 1, 1.46), color="tab:red", ls="--", rad=0.45)
    _box(ax, (steps + 1, 1.2), "$o$", "#e3f1dc")
    _box(ax, (steps + 1, 2.6), "loss", "#f6d5d5")
    _arrow(ax, (steps + 0.34, 1.2), (steps + 0.66, 1.2))
    ax.text(steps + 0.5, 1.02, "$W_{hq}$", fontsize=11, ha="center")
    _arrow(ax, (steps + 0.95, 1.44), (steps + 0.95, 2.36))
    _arrow(ax, (steps + 1.1, 2.36), (steps + 1.1, 1.44), color="tab:red", ls="--")
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
    ax.set_title(f"A recurrent network unrolled over T = {steps} time steps")
    fig.tight_layout()
    return fig


def plot_per_step(
    curves: Mapping[str, Sequence[float]],
    ylabel: str,
    title: str,
    log: bool = True,
    xlabel: str = "time step t (row read)",
) -> plt.Figure:
    """One value per time step for several models, as {name: values}, on one figure."""
    if not curves:
        raise ValueError("expected {name: one value per time step}, got nothing")
    fig, ax = plt.subplots(figsize=(9.5, 4.2), layout="constrained")
    for name, values in curves.items():
        values = torch.as_tensor(values).tolist()
        marker = "o" if len(values) <= 2 * MARKERS_UP_TO else None
        ax.plot(range(1, len(values) + 1), values, marker=marker, ms=4, label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    legend_outside(ax)
    return fig


def plot_clipping(runs: Mapping[str, tuple[Sequence[float], Sequence[float]]]) -> plt.Figure:
    """Loss and gradient norm per batch, for runs given as {name: (losses, gradient norms)}."""
    fig, (ax_loss, ax_norm) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    for name, (losses, norms) in runs.items():
        ax_loss.plot(range(1, len(losses) + 1), losses, label=name, lw=1.2)
        ax_norm.plot(range(1, len(norms) + 1), norms, label=name, lw=1.2)
    ax_loss.set(xlabel="iteration (mini-batch)", ylabel="training loss (log scale)", yscale="log")
    ax_loss.set_title("Loss per batch")
    ax_norm.set(xlabel="iteration (mini-batch)", ylabel="‖gradient‖ before clipping (log)")
    ax_norm.set(yscale="log", title="Gradient norm per batch")
    for ax in (ax_loss, ax_norm):
        ax.grid(alpha=0.3, which="both")
    fig.legend(*ax_loss.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    return fig
