"""Experiment helpers for regularization and optimization: initialization, gradient norms per
layer, per-iteration and learning-rate plots, a label-sorted training set, a small grid search."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import torch
from torch import nn

from mnistlib import data, models, train
from mnistlib.plots import named_runs
from mnistlib.train import History

WEIGHTED = (nn.Linear, nn.Conv2d)  # the layers whose weight gradients we measure and initialize


def _weighted_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of every Linear and Conv2d layer, in the order they were defined."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected an nn.Module, got {type(model).__name__}")
    return [(name, m) for name, m in model.named_modules() if isinstance(m, WEIGHTED)]


@torch.no_grad()
def zero_init_(model: nn.Module) -> nn.Module:
    """Set every parameter of `model` to zero, in place; return the model."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected an nn.Module, got {type(model).__name__}")
    for p in model.parameters():
        p.zero_()
    return model


@torch.no_grad()
def kaiming_init_(model: nn.Module) -> nn.Module:
    """He initialization for ReLU networks, in place: weights of every Linear and Conv2d layer
    drawn from N(0, 2 / fan_in), biases zero; return the model."""
    for _, layer in _weighted_layers(model):
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        if layer.bias is not None:
            layer.bias.zero_()
    return model


def gradient_norms(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, loss_fn: nn.Module | None = None
) -> dict[str, float]:
    """L2 norm of the loss gradient with respect to each Linear/Conv2d weight, for one batch,
    keyed by layer name from input to output. Gradients are cleared again afterwards."""
    layers = _weighted_layers(model)
    if not layers:
        raise ValueError(
            f"expected a model with Linear or Conv2d layers, got {type(model).__name__}"
        )
    if len(X) != len(y):
        raise ValueError(f"got {len(X)} images but {len(y)} labels")
    where = train.model_device(model)
    model.zero_grad()
    loss = (loss_fn or nn.CrossEntropyLoss())(model(X.to(where)), y.to(where))
    loss.backward()
    norms = {name: layer.weight.grad.norm().item() for name, layer in layers}
    model.zero_grad()
    return norms


def sorted_by_label(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """The images and labels of an MNIST dataset, a Subset or an (images, labels) pair, sorted by
    digit with all 0s first: a training set in the worst order, ready for `data.InMemoryLoader`."""
    images, labels = dataset if isinstance(dataset, tuple) else data.to_tensors(dataset)
    order = torch.argsort(labels, stable=True)
    return images[order], labels[order]


def moving_average(values: Sequence[float], window: int) -> list[float]:
    """Mean of each run of `window` consecutive values (len(values) - window + 1 of them)."""
    if not 1 <= window <= len(values):
        raise ValueError(f"window must be between 1 and len(values)={len(values)}, got {window}")
    sums = torch.as_tensor(values, dtype=torch.float64).cumsum(0)
    sums = torch.cat([torch.zeros(1, dtype=torch.float64), sums])
    return ((sums[window:] - sums[:-window]) / window).tolist()


def plot_batch_losses(
    histories: History | Mapping[str, History],
    window: int = 50,
    title: str | None = None,
    log: bool = False,
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """Training loss per iteration (mini-batch) for one run or several, smoothed by a moving
    average of `window` batches (fewer when a run is shorter); epoch ends as faint lines."""
    runs = named_runs(histories)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    for name, h in runs.items():
        if not h.batch_loss:
            raise ValueError(f"run {name!r} recorded no batch losses; was it trained with fit?")
        w = min(window, len(h.batch_loss))
        smooth = moving_average(h.batch_loss, w)
        ax.plot(range(w, len(h.batch_loss) + 1), smooth, label=name or None)
    first = next(iter(runs.values()))
    for epoch in range(1, first.epochs):
        ax.axvline(epoch * len(first.batch_loss) // first.epochs, color="gray", lw=0.8, alpha=0.4)
    ax.set(xlabel="iteration (mini-batch)", ylabel="training loss (cross entropy)")
    ax.set_title(title or f"Training loss per iteration (moving average of {window} batches)")
    if log:
        ax.set_yscale("log")
    if any(runs):
        ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def plot_lr(histories: History | Mapping[str, History], title: str | None = None) -> plt.Axes:
    """The learning rate used during each epoch (log scale), for one run or several."""
    runs = named_runs(histories)
    _, ax = plt.subplots(figsize=(6, 3.5))
    for name, h in runs.items():
        ax.step(range(1, h.epochs + 1), h.lr, "-o", where="mid", ms=4, label=name or None)
    ax.set(xlabel="epoch", ylabel="learning rate (log scale)", yscale="log")
    rates = sorted({lr for h in runs.values() for lr in h.lr})
    ax.set_yticks(rates, [f"{lr:g}" for lr in rates], minor=False)
    ax.yaxis.set_minor_locator(plt.NullLocator())
    ax.set_title(title or "Learning rate used during each epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    if any(runs):
        ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def plot_gradient_norms(
    norms: Mapping[str, Mapping[str, float]], title: str | None = None
) -> plt.Axes:
    """Gradient norm per layer (log scale) for several models given as {name: gradient_norms}."""
    if not norms:
        raise ValueError("expected {model name: {layer name: gradient norm}}, got nothing")
    _, ax = plt.subplots(figsize=(8, 4))
    for name, per_layer in norms.items():
        ax.plot(range(1, len(per_layer) + 1), list(per_layer.values()), "-o", label=name)
    ax.set(xlabel="layer (1 = next to the input)", ylabel="gradient norm ‖∂loss/∂W‖ (log scale)")
    ax.set(yscale="log", title=title or "Size of the weight gradients, layer by layer")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3, which="both")
    return ax


GRID_KEYS = ("batch_size", "hidden", "lr", "momentum", "activation")


def one_at_a_time(base: Mapping[str, Any], changes: Mapping[str, Mapping[str, Any]]) -> list[dict]:
    """The configurations of a one-change-at-a-time search: `base` named 'baseline', then `base`
    with each change applied, named by its key in `changes`."""
    configs = [{"name": "baseline", **base}]
    for name, change in changes.items():
        unknown = set(change) - set(base)
        if unknown:
            raise ValueError(f"change {name!r} sets {sorted(unknown)}, not in base {sorted(base)}")
        configs.append({**base, **change, "name": name})
    return configs


def grid_search(
    configs: Sequence[Mapping[str, Any]], train_data, val_data, epochs: int = 3, device=None
) -> list[dict]:
    """Train `MLP(hidden, activation=...)` with SGD(lr, momentum) and mini-batches of batch_size for
    each config; return one row per config with its parameter count, the training and validation
    accuracy (%) after the last epoch, the seconds it took, and the trained `model`."""
    rows = []
    val_loader = data.InMemoryLoader(val_data, batch_size=1000, device=device)
    for config in configs:
        missing = [k for k in GRID_KEYS if k not in config]
        if missing:
            raise ValueError(
                f"expected a config with keys {GRID_KEYS}, {dict(config)} lacks {missing}"
            )
        loader = data.InMemoryLoader(train_data, config["batch_size"], shuffle=True, device=device)
        train.set_seed(0)
        model = models.MLP(config["hidden"], activation=config["activation"]).to(device)
        sgd = torch.optim.SGD(model.parameters(), lr=config["lr"], momentum=config["momentum"])
        start = time.perf_counter()
        history = train.fit(model, loader, epochs=epochs, optimizer=sgd, progress=False)
        val_acc, _ = train.evaluate(model, val_loader)
        rows.append(
            {
                **config,
                "params": models.count_parameters(model),
                "train_acc": history.train_acc[-1],
                "val_acc": val_acc,
                "seconds": time.perf_counter() - start,
                "model": model,
            }
        )
    return rows


def _cell(value: Any, fmt: str) -> str:
    if isinstance(value, type):
        return value.__name__
    if isinstance(value, float):
        return format(value, fmt)
    return str(value)


def format_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    formats: Mapping[str, str] | None = None,
) -> str:
    """A plain-text table of `rows` with the given columns: floats formatted by `formats`
    ({column: format spec}, 'g' otherwise), classes by name, a value a row lacks as '-'."""
    if isinstance(columns, str) or not columns:
        raise ValueError(f"expected a list of column names, got {columns!r}")
    formats = formats or {}
    cells = [
        [_cell(row[c], formats.get(c, "g")) if c in row else "-" for c in columns] for row in rows
    ]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)
