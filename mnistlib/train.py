"""Training loops: seeding, device choice, one epoch, evaluation, and `fit` with a history."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) so that reruns give the same numbers."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def device() -> torch.device:
    """The fastest device here: CUDA, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def model_device(model: nn.Module) -> torch.device:
    """The device a model's parameters live on (the CPU for a model without parameters)."""
    return next(model.parameters(), torch.empty(0)).device


def check_model(model) -> None:
    """Raise a TypeError unless `model` is an `nn.Module` instance (not its class)."""
    if isinstance(model, type) and issubclass(model, nn.Module):
        raise TypeError(
            f"expected a model, got the class {model.__name__}; build one: {model.__name__}()"
        )
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected an nn.Module, got {type(model).__name__}")


def check_loader(loader, role: str = "a training") -> None:
    """Raise a TypeError unless `loader` yields batches: a Dataset or a tensor is not a loader."""
    pair = isinstance(loader, tuple) and all(isinstance(t, torch.Tensor) for t in loader)
    if pair or isinstance(loader, (Dataset, torch.Tensor)) or not isinstance(loader, Iterable):
        raise TypeError(
            f"expected {role} loader that yields (X, y) batches, got {type(loader).__name__}; "
            "wrap a dataset in data.InMemoryLoader(dataset, batch_size=64) or a DataLoader"
        )


def _batch(batch, where: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(X, y) of one batch, on `where`; a clear error for anything else."""
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise TypeError(
            f"expected each batch to be a pair (images, labels), got {type(batch).__name__}"
        )
    X, y = batch
    return X.to(where), y.to(where)


def _check_batch_norm_fits(model: nn.Module, loader) -> None:
    """Raise before training when batch norm would meet a last batch of a single image."""
    has_batch_norm = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    size = getattr(loader, "batch_size", None)
    count = len(loader.images) if hasattr(loader, "images") else None
    if count is None and isinstance(getattr(loader, "dataset", None), Dataset):
        count = len(loader.dataset)
    if has_batch_norm and size and count and count % size == 1 and not loader.drop_last:
        raise ValueError(
            f"{count} images in batches of {size} leave a last batch of 1 image, and batch norm "
            "cannot normalize a single image in training; use drop_last=True or another batch size"
        )


def train_one_epoch(
    model: nn.Module,
    loader: Iterable,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch_losses: list[float] | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
) -> tuple[float, float]:
    """Train for one pass over `loader`; return accuracy (%) and mean loss over the pass.

    Both are running figures, measured on each batch just before its update. The loss of every
    batch is appended to `batch_losses` when a list is given; `scheduler` steps after every batch.
    """
    check_model(model)
    check_loader(loader)
    _check_batch_norm_fits(model, loader)
    model.train()
    where = model_device(model)
    total, correct, loss_sum = 0, 0, 0.0
    for number, batch in enumerate(loader, start=1):
        X, y = _batch(batch, where)
        logits = model(X)
        loss = loss_fn(logits, y)
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"the training loss became {loss.item()} at batch {number} of this epoch; "
                "the learning rate is probably too large (or the images hold NaN or inf)"
            )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        loss_sum += loss.item() * len(y)
        if batch_losses is not None:
            batch_losses.append(loss.item())
    if total == 0:
        raise ValueError("the training loader yielded no batches; is the dataset empty?")
    return 100.0 * correct / total, loss_sum / total


@torch.no_grad()
def evaluate(
    model: nn.Module, loader: Iterable, loss_fn: nn.Module | None = None
) -> tuple[float, float]:
    """Accuracy (%) and mean loss (cross entropy by default) of `model` over `loader`."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    check_model(model)
    check_loader(loader, "an evaluation")
    model.eval()
    where = model_device(model)
    total, correct, loss_sum = 0, 0, 0.0
    for batch in loader:
        X, y = _batch(batch, where)
        logits = model(X)
        total += len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        loss_sum += loss_fn(logits, y).item() * len(y)
    if total == 0:
        raise ValueError("the evaluation loader yielded no batches; is the dataset empty?")
    return 100.0 * correct / total, loss_sum / total


@torch.no_grad()
def predict(model: nn.Module, loader: Iterable) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted and true labels (both int64 on the CPU) for every image in `loader`."""
    check_model(model)
    check_loader(loader, "a prediction")
    model.eval()
    where = model_device(model)
    preds, labels = [], []
    for batch in loader:
        X, y = _batch(batch, where)
        preds.append(model(X).argmax(dim=1).cpu())
        labels.append(y.cpu())
    if not preds:
        raise ValueError("the loader yielded no batches; is the dataset empty?")
    return torch.cat(preds), torch.cat(labels)


@dataclass
class History:
    """What `fit` measured: one entry per epoch, except `batch_loss` (one per training batch)."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    batch_loss: list[float] = field(default_factory=list, repr=False)

    @property
    def epochs(self) -> int:
        """How many epochs were run."""
        return len(self.train_loss)


def fit(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable | None = None,
    epochs: int = 5,
    optimizer: torch.optim.Optimizer | None = None,
    lr: float = 0.1,
    loss_fn: nn.Module | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    step_every: str = "epoch",
    progress: bool = True,
    name: str | None = None,
) -> History:
    """Train `model` for `epochs` epochs and return its `History`.

    The optimizer defaults to SGD with learning rate `lr`; the loss to cross entropy. A scheduler
    steps after each epoch, or after each batch with `step_every="batch"` (one-cycle schedules);
    `History.lr` records the rate used at the start of each epoch. With `progress`, a bar runs
    while it trains (unless `TQDM_DISABLE` is set, as `make book` does) and one summary line is
    printed at the end.
    """
    if step_every not in ("epoch", "batch"):
        raise ValueError(f"step_every must be 'epoch' or 'batch', got {step_every!r}")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a whole number of at least 1, got {epochs!r}")
    check_model(model)
    check_loader(train_loader)
    if val_loader is not None:
        check_loader(val_loader, "a validation")
    optimizer = optimizer or torch.optim.SGD(model.parameters(), lr=lr)
    own = {id(p) for p in model.parameters()}
    if not any(id(p) in own for group in optimizer.param_groups for p in group["params"]):
        raise ValueError(
            "the optimizer holds none of this model's parameters, so training would change "
            "nothing; build it from this model: torch.optim.SGD(model.parameters(), lr=...)"
        )
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    history = History()
    name = name or type(model).__name__
    batch_scheduler = scheduler if step_every == "batch" else None
    bar = progress_bar(range(epochs), name, "epoch", progress)
    for _ in bar:
        history.lr.append(optimizer.param_groups[0]["lr"])
        start = time.perf_counter()
        acc, loss = train_one_epoch(
            model, train_loader, loss_fn, optimizer, history.batch_loss, batch_scheduler
        )
        history.seconds.append(time.perf_counter() - start)
        history.train_acc.append(acc)
        history.train_loss.append(loss)
        if val_loader is not None:
            val_acc, val_loss = evaluate(model, val_loader, loss_fn)
            history.val_acc.append(val_acc)
            history.val_loss.append(val_loss)
            bar.set_postfix(train_acc=f"{acc:.1f}%", val_acc=f"{val_acc:.1f}%")
        else:
            bar.set_postfix(train_acc=f"{acc:.1f}%", train_loss=f"{loss:.3f}")
        if scheduler is not None and step_every == "epoch":
            scheduler.step()
    bar.close()
    if progress:
        print(summary(history, name))
    return history


def progress_bar(steps: Iterable, desc: str, unit: str, show: bool = True) -> tqdm:
    """A tqdm bar over `steps`, hidden when `show` is False or `TQDM_DISABLE` is set (make book)."""
    hidden = os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false")
    return tqdm(steps, desc=desc, unit=unit, disable=hidden or not show)


def summary(history: History, name: str = "") -> str:
    """One line on a finished run: epochs, seconds, last training and validation accuracy."""
    epochs = f"{history.epochs} epoch{'s' if history.epochs != 1 else ''}"
    line = f"{name}: {epochs} in {sum(history.seconds):.1f} s"
    line += f", training accuracy {history.train_acc[-1]:.2f}%"
    if history.val_acc:
        line += f", validation accuracy {history.val_acc[-1]:.2f}%"
    return line
