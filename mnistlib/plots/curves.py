"""Line plots of training: learning curves per epoch, losses per batch, learning rates and
gradient sizes. Every function returns the matplotlib `Figure` it drew."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import torch

from mnistlib.style import MARKERS_UP_TO, legend_outside, use_projector_style
from mnistlib.train import History, as_history

if TYPE_CHECKING:
    from mnistlib.experiments import Run

use_projector_style()
LINESTYLES = ("-", "--", ":", "-.")


def named_runs(histories: History | Run | Mapping[str, History | Run]) -> dict[str, History]:
    """{name: History} from one History or experiments.Run (named ''), or a {name: either} dict."""
    if not isinstance(histories, Mapping):
        return {"": as_history(histories)}
    if not histories:
        raise TypeError("expected a History or a non-empty {name: History} dict, got an empty dict")
    return {name: as_history(h) for name, h in histories.items()}


def plot_history(histories: History | Run | Mapping[str, History | Run], title: str | None = None):
    """Loss and accuracy per epoch, training (solid) and validation (dashed), for one run or several
    runs given as {name: history} (a History or an experiments.Run); one legend below the panels."""
    runs = named_runs(histories)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (name, h) in enumerate(runs.items()):
        style = {"color": colors[i % len(colors)]}
        epochs = range(1, h.epochs + 1)
        marker = "o" if h.epochs <= MARKERS_UP_TO else None
        prefix = f"{name}, " if name else ""
        curves = ((ax_loss, h.train_loss, h.val_loss), (ax_acc, h.train_acc, h.val_acc))
        for ax, train, val in curves:
            ax.plot(epochs, train, "-", marker=marker, ms=3, label=f"{prefix}training", **style)
            if val:
                ax.plot(
                    epochs, val, "--", marker=marker, ms=3, label=f"{prefix}validation", **style
                )
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss (mean per image)", title="Loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.legend(*ax_loss.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    if title:
        fig.suptitle(title)
    return fig


def moving_average(values: Sequence[float], window: int) -> list[float]:
    """Mean of each run of `window` consecutive values (len(values) - window + 1 of them)."""
    if not 1 <= window <= len(values):
        raise ValueError(f"window must be between 1 and len(values)={len(values)}, got {window}")
    sums = torch.as_tensor(values, dtype=torch.float64).cumsum(0)
    sums = torch.cat([torch.zeros(1, dtype=torch.float64), sums])
    return ((sums[window:] - sums[:-window]) / window).tolist()


def plot_batch_losses(
    histories: History | Run | Mapping[str, History | Run],
    window: int = 50,
    title: str | None = None,
    log: bool = False,
):
    """Training loss per iteration (mini-batch) for one run or several, smoothed by a moving
    average of `window` batches (fewer when a run is shorter); epoch ends as faint lines."""
    runs = named_runs(histories)
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    for i, (name, h) in enumerate(runs.items()):
        if not h.batch_loss:
            raise ValueError(f"run {name!r} recorded no batch losses; was it trained with fit?")
        w = min(window, len(h.batch_loss))
        smooth = moving_average(h.batch_loss, w)
        style = LINESTYLES[i // 10 % len(LINESTYLES)]
        ax.plot(range(w, len(h.batch_loss) + 1), smooth, style, label=name or None)
    first = next(iter(runs.values()))
    for epoch in range(1, first.epochs):
        ax.axvline(epoch * len(first.batch_loss) // first.epochs, color="gray", lw=0.8, alpha=0.4)
    ax.set(xlabel="iteration (mini-batch)", ylabel="training loss (cross entropy)")
    ax.set_title(title or f"Training loss per iteration (moving average of {window} batches)")
    if log:
        ax.set_yscale("log")
    if any(runs):
        legend_outside(ax)
    ax.grid(alpha=0.3)
    return fig


def plot_lr(histories: History | Run | Mapping[str, History | Run], title: str | None = None):
    """The learning rate used during each epoch (log scale), for one run or several."""
    runs = named_runs(histories)
    fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
    for name, h in runs.items():
        ax.step(range(1, h.epochs + 1), h.lr, "-o", where="mid", ms=4, label=name or None)
    ax.set(xlabel="epoch", ylabel="learning rate (log scale)", yscale="log")
    rates = sorted({lr for h in runs.values() for lr in h.lr})
    ax.set_yticks(rates, [f"{lr:g}" for lr in rates], minor=False)
    ax.yaxis.set_minor_locator(plt.NullLocator())
    ax.set_title(title or "Learning rate used during each epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    if any(runs):
        legend_outside(ax)
    ax.grid(alpha=0.3)
    return fig


def plot_gradient_norms(norms: Mapping[str, Mapping[str, float]], title: str | None = None):
    """Gradient norm per layer (log scale) for several models given as {name: gradient_norms}."""
    if not norms:
        raise ValueError("expected {model name: {layer name: gradient norm}}, got nothing")
    fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
    for i, (name, per_layer) in enumerate(norms.items()):
        style = LINESTYLES[i // 10 % len(LINESTYLES)]
        ax.plot(
            range(1, len(per_layer) + 1), list(per_layer.values()), style, marker="o", label=name
        )
    ax.set(xlabel="layer (1 = next to the input)", ylabel="gradient norm ‖∂loss/∂W‖ (log scale)")
    ax.set(yscale="log", title=title or "Size of the weight gradients, layer by layer")
    ax.xaxis.get_major_locator().set_params(integer=True)
    legend_outside(ax)
    ax.grid(alpha=0.3, which="both")
    return fig
