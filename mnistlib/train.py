"""The training loop of the series: seeding, device choice, one epoch with its options (clipping,
a hook after each step), evaluation, and `fit` with a history, a schedule and early stopping."""

from __future__ import annotations

import copy
import math
import numbers
import os
import random
import time
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass, field, fields

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

RAW_PIXELS = 10.0  # float images above this are unscaled 0–255 pixels (normalized MNIST stays < 3)


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


def check_device(where) -> torch.device:
    """The `torch.device` that `where` names; a ValueError when it names none, or one not here."""
    try:
        named = torch.device(where)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device must be 'cpu', 'cuda', 'mps' or a torch.device, got {where!r}; "
            "train.device() gives the fastest one here"
        ) from None
    counts = {"cuda": torch.cuda.device_count(), "mps": int(torch.backends.mps.is_available())}
    if counts.get(named.type, 1) <= (named.index or 0):
        which = f"{named.type.upper()} device" + ("" if named.index is None else f" {named.index}")
        raise ValueError(
            f"device={where!r}, but this machine has no {which}; pass device=train.device(), "
            "the fastest device here (CUDA, then MPS, then the CPU)"
        )
    return named


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


def check_epochs(epochs) -> int:
    """`epochs` as an int: a whole number of at least 1, NumPy integers too; a ValueError if not."""
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ValueError(f"epochs must be a whole number of at least 1, got {epochs!r}")
    return int(epochs)


def check_lr(lr) -> float:
    """`lr` as a float: a positive, finite number (NumPy numbers too); a clear error if not."""
    if isinstance(lr, str):
        raise TypeError(f"lr must be a number such as 0.1, got the string {lr!r}: drop the quotes")
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise TypeError(f"lr must be a number such as 0.1, got {type(lr).__name__}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number such as 0.1, got {lr!r}")
    return float(lr)


def _named(value) -> str:
    """How an error message names what came: 'the class X' for a class, else its type."""
    return f"the class {value.__name__}" if isinstance(value, type) else type(value).__name__


def _check_optimizer(optimizer, model: nn.Module) -> None:
    """Raise unless `optimizer` is an optimizer that holds some of `model`'s parameters."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"expected an optimizer built on the model, got {_named(optimizer)}; "
            "build one: torch.optim.SGD(model.parameters(), lr=0.1)"
        )
    own = {id(p) for p in model.parameters()}
    if not any(id(p) in own for group in optimizer.param_groups for p in group["params"]):
        raise ValueError(
            "the optimizer holds none of this model's parameters, so training would change "
            "nothing; build it from this model: torch.optim.SGD(model.parameters(), lr=...)"
        )


def _check_scheduler(scheduler, optimizer: torch.optim.Optimizer) -> None:
    """Raise unless `scheduler` is a learning-rate scheduler built on `optimizer`."""
    if not callable(getattr(scheduler, "step", None)) or isinstance(scheduler, type):
        raise TypeError(
            f"expected a learning-rate scheduler, got {_named(scheduler)}; "
            "build one on the optimizer: torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)"
        )
    if getattr(scheduler, "optimizer", optimizer) is not optimizer:
        raise ValueError(
            "the scheduler was built on another optimizer than the one that trains, so it would "
            "change a rate that no update uses; build it on the same one: "
            "StepLR(optimizer, ...) with optimizer=optimizer"
        )


def _check_loss_fn(loss_fn) -> None:
    """Raise for a loss class instead of a loss, or a loss that does not average over the batch."""
    if isinstance(loss_fn, type):
        raise TypeError(
            f"expected a loss function, got the class {loss_fn.__name__}; "
            f"build one: {loss_fn.__name__}()"
        )
    reduction = getattr(loss_fn, "reduction", "mean")
    if reduction != "mean":
        raise ValueError(
            f"the loss has reduction={reduction!r}, but the losses reported here are means per "
            "image, averaged over batches by their sizes; use the default reduction='mean', "
            "as nn.CrossEntropyLoss() has"
        )


def _sizes(loader) -> tuple[int | None, int | None]:
    """The number of images and the batch size of `loader`, where it says them (else None)."""
    size = getattr(loader, "batch_size", None)
    dataset = getattr(loader, "dataset", None)
    if hasattr(loader, "images"):
        return len(loader.images), size
    return (len(dataset) if isinstance(dataset, Sized) else None), size


def _check_sizes(loader, batch_norm: bool = False) -> None:
    """Raise before any work when `loader` would yield no batch, or (for `batch_norm` in training)
    a last batch of a single image."""
    count, size = _sizes(loader)
    if not (count and isinstance(size, int)):
        return
    drop_last = getattr(loader, "drop_last", False)
    if drop_last and size > count:
        raise ValueError(
            f"the batch size {size} is larger than the {count} images, and drop_last=True drops "
            f"that incomplete batch, so no batch is left; use a batch size of at most {count}, "
            "or drop_last=False"
        )
    if batch_norm and count % size == 1 and not drop_last:
        raise ValueError(
            f"{count} images in batches of {size} leave a last batch of 1 image, and batch norm "
            "cannot normalize a single image in training; use drop_last=True or another batch size"
        )


def _batch(batch, where: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(X, y) of one batch, on `where`; a clear error for anything else."""
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise TypeError(
            f"expected each batch to be a pair (images, labels), got {type(batch).__name__}"
        )
    X, y = batch
    if not (isinstance(X, torch.Tensor) and isinstance(y, torch.Tensor)):
        raise TypeError(
            "expected each batch to be a pair of tensors (images, labels), got "
            f"({type(X).__name__}, {type(y).__name__}); convert with torch.as_tensor, "
            "or use data.InMemoryLoader"
        )
    return X.to(where), y.to(where)


def _check_first_batch(X: torch.Tensor, y: torch.Tensor, logits, loss_fn) -> None:
    """Raise when the first batch shows a mistake that would make every number measured wrong:
    unscaled images, scores that are not one row per image, labels that are not class indices,
    or probabilities given to cross entropy."""
    if X.is_floating_point() and X.max().item() > RAW_PIXELS:
        raise ValueError(
            f"the images go up to {X.max().item():g}: they look like raw pixel values 0–255, on "
            "which a network stays near 10% accuracy; scale them to [0, 1]: divide by 255, use "
            "transforms.ToTensor(), or data.InMemoryLoader, which does it"
        )
    if not isinstance(logits, torch.Tensor):
        raise TypeError(
            f"expected the model to return one tensor of scores (N, classes), got "
            f"{type(logits).__name__}; nn.RNN and nn.LSTM return (output, hidden): return the "
            "scores only"
        )
    if logits.ndim != 2:
        raise ValueError(
            "expected the model to return scores of shape (N, classes), one row per image, got "
            f"shape {tuple(logits.shape)}"
        )
    rows, classes = logits.shape
    if classes < 2:
        raise ValueError(
            "the model returns 1 score per image, but accuracy picks the class with the highest "
            "of one score per class: end it with one output per class (nn.Linear(..., 10) for "
            "digits) and use nn.CrossEntropyLoss; for two classes, 2 outputs, not 1"
        )
    if y.ndim == 2 and y.shape == logits.shape:
        raise ValueError(
            f"labels should be class indices ({rows},) of dtype long, got one-hot "
            f"{tuple(y.shape)}: use y.argmax(1)"
        )
    if y.shape != (rows,):
        raise ValueError(
            f"labels should be class indices of shape ({rows},), one per row of the model's "
            f"scores {tuple(logits.shape)}, got shape {tuple(y.shape)}; the loader should yield "
            "(images, labels) with one label per image"
        )
    if y.dtype != torch.long:
        raise ValueError(
            f"labels should be class indices of dtype long (torch.int64), got {y.dtype}: "
            "convert them with y.long()"
        )
    low, high = y.min().item(), y.max().item()
    if low < 0 or high >= classes:
        if low >= 1 and high == classes:
            fix = "they look counted from 1: subtract 1 (y - 1)"
        elif low < 0:
            fix = "a class index cannot be negative"
        else:
            fix = f"the model needs one output per class, {high + 1} or more"
        raise ValueError(
            f"labels should be class indices 0 to {classes - 1} for a model with {classes} "
            f"outputs, got labels from {low} to {high}; {fix}"
        )
    if (
        isinstance(loss_fn, nn.CrossEntropyLoss)
        and logits.min() >= 0
        and (logits.sum(dim=1) - 1).abs().max() < 1e-3
    ):
        raise ValueError(
            "the model returns probabilities (each row in [0, 1], summing to 1): it ends in a "
            "softmax, but nn.CrossEntropyLoss applies log-softmax itself; remove the final "
            "nn.Softmax and return the raw scores (logits)"
        )


class Diverged(FloatingPointError):
    """A training loss of NaN or inf on finite images; `history`: the epochs fit finished before."""

    history: History | None = None


def _check_pixels(X: torch.Tensor, loss: float, number: int, role: str) -> None:
    """Raise when the loss of NaN or inf on batch `number` comes from NaN or inf pixels."""
    if not torch.isfinite(X).all():
        raise ValueError(
            f"batch {number} of the {role} loader holds NaN or inf pixels, so its loss is {loss}; "
            "find them with torch.isfinite(X) and fix or drop those images"
        )


@dataclass(frozen=True)
class Step:
    """One update of `train_one_epoch`, as its `on_batch` hook receives it."""

    number: int  # the batch's number in the epoch, from 1
    loss: float  # the batch's mean loss, before the update
    grad_norm: float  # the norm of the whole gradient, all parameters together, before clipping


def train_one_epoch(
    model: nn.Module,
    loader: Iterable,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch_losses: list[float] | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    *,
    max_norm: float | None = None,
    on_batch: Callable[[Step], bool | None] | None = None,
    count_batch: Callable[[int], None] | None = None,
) -> tuple[float, float]:
    """Train for one pass over `loader`; return accuracy (%) and mean loss over the pass.

    Both are running figures, measured on each batch just before its update. The loss of every
    batch is appended to `batch_losses` when a list is given; `scheduler` steps after every batch.
    With `max_norm`, a gradient whose norm is larger is scaled down to that norm before the update.
    After each update `on_batch` gets the `Step`; when it returns False the epoch ends there, and
    the figures returned cover the batches trained. The model is put back in training mode after
    the hook, so that the hook may evaluate it. `count_batch` gets the number of each batch once it
    is trained, and nothing else costs extra (a progress bar).

    Gradients must be switched on (a RuntimeError says so otherwise); a loss of NaN or inf raises
    `Diverged`, or a ValueError naming the batch when its images hold NaN or inf.
    """
    check_model(model)
    check_loader(loader)
    _check_loss_fn(loss_fn)
    _check_optimizer(optimizer, model)
    if scheduler is not None:
        _check_scheduler(scheduler, optimizer)
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            raise ValueError(
                "ReduceLROnPlateau steps on the validation loss once an epoch, not after every "
                "batch; give it to train.fit with a validation loader, which steps it so"
            )
    if max_norm is not None and not (
        isinstance(max_norm, numbers.Real) and not isinstance(max_norm, bool) and max_norm > 0
    ):
        raise ValueError(f"max_norm must be a positive number such as 1.0, got {max_norm!r}")
    if not torch.is_grad_enabled():
        raise RuntimeError(
            "gradients are switched off: torch.set_grad_enabled(False) (or a torch.no_grad() "
            "block) is in effect; call torch.set_grad_enabled(True), or train outside that block"
        )
    _check_sizes(
        loader, any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    )
    model.train()
    where = model_device(model)
    total, correct, loss_sum = 0, 0, 0.0
    for number, batch in enumerate(loader, start=1):
        X, y = _batch(batch, where)
        logits = model(X)
        if number == 1:
            _check_first_batch(X, y, logits, loss_fn)
        loss = loss_fn(logits, y)
        value = loss.item()
        if not math.isfinite(value):
            _check_pixels(X, value, number, "training")
            raise Diverged(
                f"the training loss became {value} at batch {number} of this epoch; "
                "the learning rate is probably too large"
            )
        optimizer.zero_grad()
        loss.backward()
        grad_norm = math.nan
        if max_norm is not None or on_batch is not None:
            limit = math.inf if max_norm is None else max_norm
            grad_norm = nn.utils.clip_grad_norm_(model.parameters(), limit).item()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        loss_sum += value * len(y)
        if batch_losses is not None:
            batch_losses.append(value)
        if count_batch is not None:
            count_batch(number)
        if on_batch is not None:
            if on_batch(Step(number, value, grad_norm)) is False:
                break
            model.train()
    if total == 0:
        raise ValueError("the training loader yielded no batches; is the dataset empty?")
    return 100.0 * correct / total, loss_sum / total


@torch.no_grad()
def evaluate(
    model: nn.Module, loader: Iterable, loss_fn: nn.Module | None = None
) -> tuple[float, float]:
    """Accuracy (%) and mean loss (cross entropy by default) of `model` over `loader`; a ValueError
    naming the batch whose images hold NaN or inf (a model with NaN weights gives a NaN loss)."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    check_model(model)
    check_loader(loader, "an evaluation")
    _check_loss_fn(loss_fn)
    _check_sizes(loader)
    model.eval()
    where = model_device(model)
    total, correct, loss_sum = 0, 0, 0.0
    for number, batch in enumerate(loader, start=1):
        X, y = _batch(batch, where)
        logits = model(X)
        if number == 1:
            _check_first_batch(X, y, logits, loss_fn)
        value = loss_fn(logits, y).item()
        if not math.isfinite(value):
            _check_pixels(X, value, number, "evaluation")
        total += len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        loss_sum += value * len(y)
    if total == 0:
        raise ValueError("the evaluation loader yielded no batches; is the dataset empty?")
    return 100.0 * correct / total, loss_sum / total


@torch.no_grad()
def predict(model: nn.Module, loader: Iterable) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted and true labels (both int64 on the CPU) for every image in `loader`."""
    check_model(model)
    check_loader(loader, "a prediction")
    _check_sizes(loader)
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
    """What `fit` measured: one entry per epoch, except `batch_loss` (one per training batch). It
    is the record of every run of the series; an `experiments.Run` holds one beside its model."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    batch_loss: list[float] = field(default_factory=list, repr=False)
    # How training ended: "finished", or "interrupted" (Ctrl-C) or "diverged" as fit sets it; a
    # class attribute rather than a field, so that vars() of a finished History holds lists only.
    status = "finished"

    @property
    def epochs(self) -> int:
        """How many epochs were run."""
        return len(self.train_loss)

    @property
    def best_epoch(self) -> int:
        """The epoch (from 1) with the lowest validation loss, the first of equals."""
        if not self.val_loss:
            raise ValueError("no validation loss was recorded: fit with a validation loader")
        return 1 + min(range(len(self.val_loss)), key=self.val_loss.__getitem__)

    def extend(self, other: History) -> None:
        """Append the epochs and batch losses of `other`; take its status if it did not finish."""
        for name in (f.name for f in fields(self)):
            getattr(self, name).extend(getattr(other, name))
        if other.status != "finished":
            self.status = other.status


def as_history(value) -> History:
    """`value` when it is a History, or the `.history` of an experiments.Run; a TypeError if not."""
    history = value if isinstance(value, History) else getattr(value, "history", None)
    if not isinstance(history, History):
        raise TypeError(
            f"expected a History (what train.fit returns) or an experiments.Run, "
            f"got {type(value).__name__}"
        )
    return history


def fit(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable | None = None,
    epochs: int = 5,
    optimizer: torch.optim.Optimizer | None = None,
    lr: float | None = None,
    loss_fn: nn.Module | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    step_every: str = "epoch",
    progress: bool = True,
    name: str | None = None,
    *,
    keep_best: bool = False,
    patience: int | None = None,
    on_batch: Callable[[Step], bool | None] | None = None,
) -> History:
    """Train `model` for `epochs` epochs and return its `History`.

    The optimizer defaults to SGD with learning rate `lr` (0.1 when not given); give `lr` or
    `optimizer`, not both. The loss defaults to cross entropy. A scheduler must be built on
    `optimizer`; it steps after each epoch, or after each batch with `step_every="batch"`
    (one-cycle schedules); `ReduceLROnPlateau` steps on the validation loss after each epoch.
    `History.lr` records the rate used at the start of each epoch. With `progress`, a bar runs
    while it trains (unless `TQDM_DISABLE` is set, as `make book` does) and one summary line is
    printed at the end.

    With `keep_best`, the weights of the epoch with the lowest validation loss
    (`History.best_epoch`) are put back at the end, and the summary says which; while the bar runs,
    a line per epoch gives its validation loss and accuracy, marking each new best. `patience`
    stops training once that many epochs have passed without a new best. `on_batch` is the hook of
    `train_one_epoch`: when it returns False, training stops as at Ctrl-C.

    Training needs gradients: with `torch.set_grad_enabled(False)` in effect it raises a
    RuntimeError that says so, rather than switching them on behind your back. Ctrl-C stops
    training and returns the History of the epochs finished, with `status` "interrupted" (the
    model keeps the updates of the unfinished epoch too, unless `keep_best` puts the best epoch
    back). A loss of NaN or inf raises `Diverged`, whose `history` holds the epochs finished
    before it.
    """
    if step_every not in ("epoch", "batch"):
        raise ValueError(f"step_every must be 'epoch' or 'batch', got {step_every!r}")
    epochs = check_epochs(epochs)
    check_model(model)
    check_loader(train_loader)
    if val_loader is not None:
        check_loader(val_loader, "a validation")
    if optimizer is None and scheduler is not None:
        raise ValueError(
            "a scheduler was given without its optimizer, so fit would train with an SGD of its "
            "own while the scheduler changes the rate of another; pass the optimizer the "
            "scheduler was built on too: fit(..., optimizer=opt, scheduler=scheduler)"
        )
    if optimizer is None:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1 if lr is None else check_lr(lr))
    elif lr is not None:
        raise ValueError(
            f"lr={lr!r} is the rate of the SGD that fit builds when no optimizer is given, but "
            "optimizer= was given too, and it keeps its own rate; set the rate where the "
            f"optimizer is built, torch.optim.SGD(model.parameters(), lr={lr!r}), and drop lr= here"
        )
    _check_optimizer(optimizer, model)
    plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    if scheduler is not None:
        _check_scheduler(scheduler, optimizer)
    if plateau and (val_loader is None or step_every == "batch"):
        raise ValueError(
            "ReduceLROnPlateau steps on the validation loss after each epoch: give fit a "
            "validation loader and keep step_every='epoch'"
        )
    if keep_best and val_loader is None:
        raise ValueError(
            "keep_best keeps the epoch with the lowest validation loss: give fit a validation "
            "loader"
        )
    if patience is not None and not keep_best:
        raise ValueError(
            "patience stops on the validation loss that keep_best watches: pass keep_best=True too"
        )
    if patience is not None and (
        isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 1
    ):
        raise ValueError(f"patience must be a whole number of epochs, at least 1, got {patience!r}")
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    history, finished, best_state, stopped = History(), 0, None, ""
    name = name or type(model).__name__
    batch_scheduler = scheduler if step_every == "batch" else None
    hook = None
    if on_batch is not None:

        def hook(step: Step) -> None:
            if on_batch(step) is False:
                raise KeyboardInterrupt  # the hook said stop: end as at Ctrl-C

    # The bar counts batches, so that a long epoch shows it is moving.
    per_epoch = len(train_loader) if hasattr(train_loader, "__len__") else None
    bar = progress_bar(None, name, "batch", progress, total=per_epoch and epochs * per_epoch)
    try:
        for epoch in range(1, epochs + 1):
            bar.set_description(f"{name}, epoch {epoch}/{epochs}")
            finished, rate = len(history.batch_loss), optimizer.param_groups[0]["lr"]
            start = time.perf_counter()
            acc, loss = train_one_epoch(
                model,
                train_loader,
                loss_fn,
                optimizer,
                history.batch_loss,
                batch_scheduler,
                on_batch=hook,
                count_batch=lambda _: bar.update(),
            )
            measured = {"lr": rate, "seconds": time.perf_counter() - start}
            measured.update(train_acc=acc, train_loss=loss)
            if val_loader is not None:
                val_acc, val_loss = evaluate(model, val_loader, loss_fn)
                measured.update(val_acc=val_acc, val_loss=val_loss)
                bar.set_postfix(train_acc=f"{acc:.1f}%", val_acc=f"{val_acc:.1f}%")
            else:
                bar.set_postfix(train_acc=f"{acc:.1f}%", train_loss=f"{loss:.3f}")
            if plateau:
                scheduler.step(val_loss)
            elif scheduler is not None and step_every == "epoch":
                scheduler.step()
            for key, value in measured.items():
                getattr(history, key).append(value)
            if keep_best:
                best = history.best_epoch == history.epochs
                if best:
                    best_state = copy.deepcopy(model.state_dict())
                if not bar.disable:  # live only: a saved output keeps the summary line
                    bar.write(_epoch_line(history, best))
                if patience is not None and history.epochs - history.best_epoch >= patience:
                    stopped = f"; stopped early, no improvement for {patience} epochs"
                    break
    except KeyboardInterrupt:
        history.status = "interrupted"
        del history.batch_loss[finished:]
    except Diverged as exc:
        history.status = "diverged"
        del history.batch_loss[finished:]
        exc.history = history
        raise
    finally:
        bar.close()
        if best_state is not None:
            model.load_state_dict(best_state)
    if progress:
        best = history.best_epoch
        kept = (
            f"; the weights of epoch {best} kept (validation accuracy "
            f"{history.val_acc[best - 1]:.2f}%)"
            if best_state is not None
            else ""
        )
        print(summary(history, name) + stopped + kept)
    return history


def _epoch_line(history: History, best: bool = False) -> str:
    """One line on the last epoch of `history`: its number, seconds, validation loss and accuracy,
    and '(best so far)' when `best`."""
    line = (
        f"epoch {history.epochs:2}: {history.seconds[-1]:5.1f} s, "
        f"validation loss {history.val_loss[-1]:.4f}, accuracy {history.val_acc[-1]:.2f}%"
    )
    return line + ("  (best so far)" if best else "")


def train_steps(
    model: nn.Module,
    loader: Iterable,
    optimizer: torch.optim.Optimizer,
    steps: int,
    max_norm: float | None = None,
    progress: bool = True,
) -> tuple[list[float], list[float]]:
    """Train with cross entropy for `steps` batches, over as many epochs of `loader` as that
    takes; return the loss and the gradient norm (before any clipping) of each batch. With
    `max_norm`, larger gradients are scaled down to that norm. With `progress`, a bar counts the
    batches while it trains (unless `TQDM_DISABLE` is set)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a whole number of at least 1, got {steps!r}")
    losses, norms = [], []
    bar = progress_bar(None, "training", "batch", progress, total=steps)

    def keep(step: Step) -> bool:
        losses.append(step.loss)
        norms.append(step.grad_norm)
        bar.update()
        return len(losses) < steps

    try:
        while len(losses) < steps:
            train_one_epoch(
                model, loader, nn.CrossEntropyLoss(), optimizer, max_norm=max_norm, on_batch=keep
            )
    finally:
        bar.close()
    return losses, norms


def progress_bar(
    steps: Iterable | None, desc: str, unit: str, show: bool = True, total: int | None = None
) -> tqdm:
    """A tqdm bar over `steps` (or one to update by hand up to `total`), hidden when `show` is
    False or `TQDM_DISABLE` is set (make book)."""
    hidden = os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false")
    return tqdm(steps, desc=desc, unit=unit, total=total, disable=hidden or not show)


def summary(history, name: str = "") -> str:
    """One line on a run (a History or an experiments.Run): epochs, seconds, last training and
    validation accuracy, and how it ended when it did not finish."""
    history = as_history(history)
    epochs = f"{history.epochs} epoch{'s' if history.epochs != 1 else ''}"
    line = f"{name}: {epochs} in {sum(history.seconds):.1f} s"
    if history.epochs:
        line += f", training accuracy {history.train_acc[-1]:.2f}%"
    if history.val_acc:
        line += f", validation accuracy {history.val_acc[-1]:.2f}%"
    if history.status != "finished":
        line += f"; {history.status} during epoch {history.epochs + 1}"
    return line
