"""Charts: learning curves per epoch, losses per batch, learning rates, perplexity along training,
gradient sizes per layer and per time step, and accuracy against a change of the input."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from mnistlib.plots.alt_text import listing, set_alt_text
from mnistlib.plots.style import MARKERS_UP_TO, legend_outside
from mnistlib.train import History, as_history

LINESTYLES = ("-", "--", ":", "-.")


def one_or_many(value, kind: type | tuple[type, ...], what: str) -> dict:
    """{name: thing} from one thing of `kind` (named '') or a non-empty {name: thing} dict; a
    TypeError that says what `what` is expected otherwise."""
    if isinstance(value, kind):
        return {"": value}
    if isinstance(value, Mapping) and value and all(isinstance(v, kind) for v in value.values()):
        return dict(value)
    got = "an empty dict" if isinstance(value, Mapping) and not value else type(value).__name__
    raise TypeError(f"expected {what} or a non-empty {{name: {what}}} dict, got {got}")


def _named_runs(histories) -> dict[str, History]:
    """{name: History} from one History or experiments.Run (named ''), or a {name: either} dict."""
    if not isinstance(histories, Mapping):
        return {"": as_history(histories)}
    if not histories:
        raise TypeError("expected a History or a non-empty {name: History} dict, got an empty dict")
    return {name: as_history(h) for name, h in histories.items()}


def plot_history(histories, *, figure: Figure | None = None, title: str | None = None) -> Figure:
    """Loss and accuracy per epoch, training (solid) and validation (dashed), for one run or several
    runs given as {name: history} (a History or an experiments.Run); one legend below the panels,
    a colour per run and a line style for training and for validation.
    It draws on `figure` when one is given (a plain matplotlib Figure, which a widget can draw
    outside pyplot), else on a new pyplot figure."""
    runs = _named_runs(histories)
    fig = figure if figure is not None else plt.figure()
    fig.set_size_inches(11, 4.2)
    fig.set_layout_engine("constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
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
    # One entry per run (its colour) and one per line style, not one per line: a legend of twelve
    # entries would take more room than the curves.
    handles = [Line2D([], [], color=colors[i % len(colors)]) for i, name in enumerate(runs) if name]
    labels = [name for name in runs if name]
    styles = [("-", "training")] + [("--", "validation")] * any(h.val_loss for h in runs.values())
    handles += [Line2D([], [], color="gray", ls=ls) for ls, _ in styles]
    labels += [label for _, label in styles]
    ncols = min(len(labels), 5 if max(map(len, labels)) <= 20 else 2)  # long names: two columns
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols)
    if title:
        fig.suptitle(title)
    ends = [
        f"{name or 'the model'} {h.train_acc[-1]:.1f}% on training"
        + (f" and {h.val_acc[-1]:.1f}% on validation" if h.val_acc else "")
        for name, h in runs.items()
        if h.train_acc
    ]
    set_alt_text(
        fig,
        f"Two line charts against the epoch (1 to {max(h.epochs for h in runs.values())}): the "
        "loss on the left, the accuracy on the right, training as solid lines and validation as "
        f"dashed ones. Accuracy at the last epoch: {listing(ends) if ends else 'none recorded'}.",
    )
    return fig


def moving_average(values: Sequence[float], window: int) -> list[float]:
    """Mean of each run of `window` consecutive values (len(values) - window + 1 of them)."""
    if not 1 <= window <= len(values):
        raise ValueError(f"window must be between 1 and len(values)={len(values)}, got {window}")
    sums = torch.as_tensor(values, dtype=torch.float64).cumsum(0)
    sums = torch.cat([torch.zeros(1, dtype=torch.float64), sums])
    return ((sums[window:] - sums[:-window]) / window).tolist()


def plot_batch_losses(
    histories, *, window: int = 50, log: bool = False, title: str | None = None
) -> Figure:
    """Training loss per iteration (mini-batch) for one run or several, smoothed by a moving
    average of `window` batches (fewer when a run is shorter); epoch ends as faint lines."""
    runs = _named_runs(histories)
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    ends = []  # the smoothed loss at the start and at the end of each run
    for i, (name, h) in enumerate(runs.items()):
        if not h.batch_loss:
            raise ValueError(f"run {name!r} recorded no batch losses; was it trained with fit?")
        w = min(window, len(h.batch_loss))
        smooth = moving_average(h.batch_loss, w)
        ends.append(f"{name or 'the run'} from {smooth[0]:.3g} to {smooth[-1]:.3g}")
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
    set_alt_text(
        fig,
        f"A line chart of the training loss per mini-batch{' on a log scale' if log else ''}, "
        f"smoothed over {window} batches, against the iteration; faint vertical lines mark the "
        f"epochs. The loss goes {listing(ends)}.",
    )
    return fig


def plot_lr(histories, *, title: str | None = None) -> Figure:
    """The learning rate used during each epoch (log scale), for one run or several."""
    runs = _named_runs(histories)
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
    schedules = [
        f"{name or 'the run'} from {h.lr[0]:g} to {h.lr[-1]:g}" for name, h in runs.items()
    ]
    set_alt_text(
        fig,
        f"A step chart of the learning rate per epoch, on a log scale: {listing(schedules)}.",
    )
    return fig


def plot_perplexity(
    histories, *, baselines: Mapping[str, float] | None = None, title: str | None = None
) -> Figure:
    """Validation perplexity (exp of `val_loss`, log scale) against the training step at which it
    was measured, the end of each epoch, for one run or several; `baselines` ({name: perplexity})
    as dashed horizontal lines."""
    runs = _named_runs(histories)
    fig, ax = plt.subplots(figsize=(9.5, 4.2), layout="constrained")
    for name, h in runs.items():
        if not h.val_loss:
            raise ValueError(f"run {name!r} has no validation loss to take the perplexity of")
        steps = [len(h.batch_loss) * epoch // h.epochs for epoch in range(1, h.epochs + 1)]
        perplexity = torch.tensor(h.val_loss, dtype=torch.float64).exp().tolist()
        ax.plot(steps, perplexity, "o-", label=name or None)
    for i, (name, value) in enumerate((baselines or {}).items()):
        color = f"C{i % 10}" if i else "gray"  # C0 is the first run's colour
        ax.axhline(value, ls="--", color=color, label=f"{name} ({value:.1f})")
    ax.set(xlabel="training step (mini-batch)", ylabel="validation perplexity (log scale)")
    ax.set(yscale="log", title=title or "Validation perplexity along training")
    ax.grid(alpha=0.3, which="both")
    if ax.get_legend_handles_labels()[0]:
        legend_outside(ax)
    ends = [
        f"{name or 'the model'} ends at {math.exp(h.val_loss[-1]):.3g}" for name, h in runs.items()
    ]
    lines = [f"{name} at {value:.3g}" for name, value in (baselines or {}).items()]
    set_alt_text(
        fig,
        "A line chart of the validation perplexity, on a log scale, against the training step: "
        f"{listing(ends)}." + (f" Dashed lines mark {listing(lines)}." if lines else ""),
    )
    return fig


def plot_gradient_norms(norms: Mapping, *, title: str | None = None) -> Figure:
    """Gradient norm per layer (log scale), as `measure.gradient_norms` gives it ({layer name:
    norm}), for one model or several given as {model name: gradient norms}."""
    if not norms:
        raise ValueError("expected {model name: {layer name: gradient norm}}, got nothing")
    models = norms if all(isinstance(v, Mapping) for v in norms.values()) else {"": norms}
    fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
    for i, (name, per_layer) in enumerate(models.items()):
        style = LINESTYLES[i // 10 % len(LINESTYLES)]
        layers = range(1, len(per_layer) + 1)
        ax.plot(layers, list(per_layer.values()), style, marker="o", label=name or None)
    ax.set(xlabel="layer (1 = next to the input)", ylabel="gradient norm ‖∂loss/∂W‖ (log scale)")
    ax.set(yscale="log", title=title or "Size of the weight gradients, layer by layer")
    ax.xaxis.get_major_locator().set_params(integer=True)
    if any(models):
        legend_outside(ax)
    ax.grid(alpha=0.3, which="both")
    ends = [
        f"{name or 'the model'} from {values[0]:.2g} at layer 1 to {values[-1]:.2g} at layer "
        f"{len(values)}"
        for name, values in ((n, list(v.values())) for n, v in models.items())
    ]
    set_alt_text(
        fig, f"A line chart of the gradient norm per layer, on a log scale: {listing(ends)}."
    )
    return fig


def plot_per_step(
    curves,
    *,
    ylabel: str,
    log: bool = True,
    xlabel: str = "time step t (row read)",
    title: str | None = None,
) -> Figure:
    """One value per time step: one curve (a sequence or a 1-D tensor), or several as {name:
    values}, on one figure."""
    runs = one_or_many(curves, (Sequence, torch.Tensor), "one value per time step")
    fig, ax = plt.subplots(figsize=(9.5, 4.2), layout="constrained")
    for name, values in runs.items():
        values = torch.as_tensor(values).tolist()
        marker = "o" if len(values) <= 2 * MARKERS_UP_TO else None
        ax.plot(range(1, len(values) + 1), values, marker=marker, ms=4, label=name or None)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    if any(runs):
        legend_outside(ax)
    ends = [
        f"{name or 'the curve'} from {values[0]:.3g} to {values[-1]:.3g}"
        for name, values in ((n, torch.as_tensor(v).tolist()) for n, v in runs.items())
    ]
    scale = " on a log scale" if log else ""
    set_alt_text(fig, f"A line chart of {ylabel}{scale} against {xlabel}: {listing(ends)}.")
    return fig


def plot_clipping(runs, *, title: str | None = None) -> Figure:
    """Loss and gradient norm per batch, as `train.train_steps` returns them: one run given as
    (losses, gradient norms), or several as {name: (losses, gradient norms)}."""
    runs = one_or_many(runs, tuple, "a pair (losses, gradient norms)")
    fig, (ax_loss, ax_norm) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    for name, (losses, norms) in runs.items():
        ax_loss.plot(range(1, len(losses) + 1), losses, label=name or None, lw=1.2)
        ax_norm.plot(range(1, len(norms) + 1), norms, label=name or None, lw=1.2)
    ax_loss.set(xlabel="iteration (mini-batch)", ylabel="training loss (log scale)", yscale="log")
    ax_loss.set_title("Loss per batch")
    ax_norm.set(xlabel="iteration (mini-batch)", ylabel="‖gradient‖ before clipping (log)")
    ax_norm.set(yscale="log", title="Gradient norm per batch")
    for ax in (ax_loss, ax_norm):
        ax.grid(alpha=0.3, which="both")
    if any(runs):
        fig.legend(*ax_loss.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    if title:
        fig.suptitle(title)
    ends = [
        f"{name or 'the run'} ends at a loss of {float(losses[-1]):.3g}, its largest gradient norm "
        f"{max(map(float, norms)):.3g}"
        for name, (losses, norms) in runs.items()
    ]
    set_alt_text(
        fig,
        "Two line charts against the iteration, on log scales: the training loss per batch on the "
        f"left, the gradient norm before clipping on the right. {listing(ends)}.",
    )
    return fig


def plot_accuracy_against(results: Mapping, *, xlabel: str, title: str | None = None) -> Figure:
    """Accuracy (%) against a change of the input (a shift, an angle): one model's {amount:
    accuracy}, or one line per model given as {model name: {amount: accuracy}}."""
    if not results:
        raise ValueError("expected {model name: {amount: accuracy}}, got nothing")
    models = results if all(isinstance(v, Mapping) for v in results.values()) else {"": results}
    fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    for name, points in models.items():
        ax.plot(list(points), list(points.values()), "o-", label=name or None)
    ax.set(xlabel=xlabel, ylabel="test accuracy (%)", title=title, ylim=(0, 100))
    if any(models):
        legend_outside(ax)
    ax.grid(alpha=0.3)
    ends = [
        f"{name or 'the model'} {points[low]:.1f}% at {low:g} and {points[high]:.1f}% at {high:g}"
        for name, points in models.items()
        for low, high in [(min(points), max(points))]
    ]
    set_alt_text(fig, f"A line chart of the test accuracy against {xlabel}: {listing(ends)}.")
    return fig


def plot_activations(z: torch.Tensor, curves: Mapping, *, title: str | None = None) -> Figure:
    """Activation functions (left) and their derivatives (right) against the pre-activation `z`,
    given as {name: (values, derivatives)}, each a tensor of the length of `z`."""
    z = torch.as_tensor(z).detach().cpu()
    runs = one_or_many(curves, tuple, "a pair (values, derivatives)")
    fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    ends = []
    for name, (values, slopes) in runs.items():
        values, slopes = (torch.as_tensor(v).detach().cpu() for v in (values, slopes))
        if values.shape != z.shape or slopes.shape != z.shape:
            raise ValueError(
                f"{name}: expected values and derivatives of shape {tuple(z.shape)} like z, got "
                f"{tuple(values.shape)} and {tuple(slopes.shape)}"
            )
        ax_f.plot(z, values, label=name or None)
        ax_d.plot(z, slopes, label=name or None)
        ends.append(
            f"{name or 'the function'} from {slopes[0]:.2g} at z = {z[0]:g} to "
            f"{slopes[-1]:.2g} at z = {z[-1]:g}, at most {slopes.max():.2g}"
        )
    ax_f.set(title="Activation functions", xlabel="pre-activation z", ylabel="σ(z)", ylim=(-1.5, 3))
    ax_d.set(
        title="Their derivatives", xlabel="pre-activation z", ylabel="dσ/dz", ylim=(-0.05, 1.5)
    )
    for ax in (ax_f, ax_d):
        ax.grid(alpha=0.3)
    if any(runs):
        ax_f.legend(loc="upper left")
    if title:
        fig.suptitle(title)
    return set_alt_text(
        fig,
        f"Two line charts against z: the activation functions {listing(list(runs))} on the "
        f"left, their derivatives on the right. The derivatives: {'; '.join(ends)}.",
    )
