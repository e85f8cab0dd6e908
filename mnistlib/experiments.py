"""Seeded runs: a fresh loader, a fresh model and `fit`, one call per run, and several runs side by
side for any model and optimizer."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from mnistlib import data, train
from mnistlib.models import count_parameters
from mnistlib.train import History

OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
}


@dataclass
class Run:
    """A trained model, what `fit` measured, and the wall-clock seconds of the whole run; how the
    training ended is `history.status` ('finished', 'interrupted' or 'diverged')."""

    model: nn.Module
    history: History
    seconds: float


def make_optimizer(
    name: str, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """An optimizer by name ('sgd', 'adam', 'adamw', 'rmsprop' or 'adagrad'); momentum: SGD only."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {name!r}")
    if momentum and name != "sgd":
        raise ValueError(f"momentum is a setting of 'sgd'; {name!r} keeps its own running averages")
    extra = {"momentum": momentum} if name == "sgd" else {}
    return OPTIMIZERS[name](params, lr=train.check_lr(lr), weight_decay=weight_decay, **extra)


def run(
    make_model: Callable[[], nn.Module],
    train_data,
    val_data=None,
    *,
    epochs: int = 3,
    batch_size: int = 64,
    optimizer: str = "sgd",
    lr: float = 0.1,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    normalize: bool = True,
    schedule: Callable[[torch.optim.Optimizer, int], Any] | None = None,
    label_smoothing: float = 0.0,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    seed: int = 0,
    device=None,
    progress: bool = True,
    name: str | None = None,
    keep_diverged: bool = False,
) -> Run:
    """Seed, build `make_model()` and an in-memory loader of `train_data`, fit; return the `Run`.

    `schedule(optimizer, total_batches)`, when given, returns a scheduler stepped after every batch.
    `label_smoothing` trains on targets that give that much of the probability to the other digits
    (`nn.CrossEntropyLoss(label_smoothing=...)`, which then also measures the validation loss).
    `augment` changes every training batch, as in `data.InMemoryLoader(augment=...)`.
    The same seed gives the same initial weights and the same batch order. A loss of NaN or inf
    raises `train.Diverged`; with `keep_diverged`, the Run is returned instead, its history (the
    epochs finished before) marked 'diverged'.
    """
    if not callable(make_model) or isinstance(make_model, nn.Module):
        raise TypeError(
            "expected a function that builds a fresh model, such as models.MLP or "
            f"lambda: models.MLP(30), got {type(make_model).__name__}; each run needs its own model"
        )
    epochs = train.check_epochs(epochs)
    if device is not None:
        device = train.check_device(device)
    start = time.perf_counter()
    train.set_seed(seed)
    net = make_model().to(device)
    loader = data.InMemoryLoader(
        train_data, batch_size, shuffle=True, normalize=normalize, device=device, augment=augment
    )
    val_loader = None
    if val_data is not None:
        val_loader = data.InMemoryLoader(val_data, 1000, normalize=normalize, device=device)
    opt = make_optimizer(optimizer, net.parameters(), lr, momentum, weight_decay)
    scheduler = schedule(opt, epochs * len(loader)) if schedule is not None else None
    try:
        history = train.fit(
            net,
            loader,
            val_loader,
            epochs=epochs,
            optimizer=opt,
            scheduler=scheduler,
            step_every="batch",
            progress=progress,
            name=name,
            loss_fn=nn.CrossEntropyLoss(label_smoothing=label_smoothing),
        )
    except train.Diverged as exc:
        if not keep_diverged:
            raise
        history = exc.history
    return Run(net, history, time.perf_counter() - start)


def compare(configs: Mapping[str, Mapping[str, Any]], **common) -> dict[str, Run]:
    """Run each named config (the keyword arguments of `run` that differ) with the `common` ones;
    each run shows its progress bar while it trains and one line when it finishes, so a long
    comparison is never silent.

    A run whose loss becomes NaN or inf is kept, marked 'diverged', and the others go on. Ctrl-C
    stops the comparison: it returns the runs so far (the one it stopped marked 'interrupted') and
    prints which were not run.
    """
    if not configs:
        raise ValueError("expected {run name: {setting: value}}, got no runs")
    settings = {}
    for name, config in configs.items():
        if not isinstance(config, Mapping):
            raise TypeError(
                f"run {name!r}: expected its settings as a dict such as {{'lr': 0.01}}, "
                f"got {type(config).__name__}"
            )
        settings[name] = {
            "progress": True,
            "name": str(name),
            **common,
            **config,
            "keep_diverged": True,
        }
        try:
            inspect.signature(run).bind(**settings[name])
        except TypeError as exc:
            raise TypeError(
                f"run {name!r} cannot start: {exc}; its settings are the keyword arguments of "
                "experiments.run (nothing has been run yet)"
            ) from None
    runs = {}
    try:
        for name, arguments in settings.items():
            runs[name] = run(**arguments)  # with progress, its bar runs and fit prints its line
            if not arguments["progress"] or runs[name].history.status == "diverged":
                print(train.summary(runs[name], name), flush=True)
            if runs[name].history.status == "interrupted":
                break
    except KeyboardInterrupt:
        pass
    left = [name for name in configs if name not in runs]
    if left:
        print(f"interrupted: {len(runs)} of {len(configs)} runs kept; not run: {', '.join(left)}")
    return runs


def one_at_a_time(
    base: Mapping[str, Any], changes: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict]:
    """The configs of a one-change-at-a-time search: `base` named 'baseline', then `base` with each
    change applied, named by its key in `changes`."""
    configs = {"baseline": dict(base)}
    for name, change in changes.items():
        unknown = set(change) - set(base)
        if unknown:
            raise ValueError(f"change {name!r} sets {sorted(unknown)}, not in base {sorted(base)}")
        configs[name] = {**base, **change}
    return configs


def results(runs: Mapping[str, Run], configs: Mapping[str, Mapping[str, Any]] | None = None):
    """One row per run: its name, its config, parameters, last training and validation accuracy
    (%), or 'diverged' or 'interrupted' in their place, and seconds, ready for `format_table`."""
    rows = []
    for name, r in runs.items():
        row = {"name": name, **((configs or {}).get(name, {}))}
        row["params"] = count_parameters(r.model)
        if r.history.status != "finished":
            row["train_acc"] = row["val_acc"] = r.history.status
        else:
            row["train_acc"] = r.history.train_acc[-1]
            if r.history.val_acc:
                row["val_acc"] = r.history.val_acc[-1]
        row["seconds"] = r.seconds
        rows.append(row)
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
