"""What the homework's checks look for in a training setup: an evaluation function, loaders,
scaled learning rates and a schedule. Each function returns a list of `Finding`s; `checks`
prints them. Nothing here prints, and no message holds an answer."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

from mnistlib import data, train
from mnistlib.checks_findings import (
    Finding,
    attempt,
    close_enough,
    error_text,
    not_filled_in,
    ok,
    todo,
    wrong,
)


class CountingLoader:
    """Wraps a loader; counts passes and batches, so a check sees which loader was used."""

    def __init__(self, loader: Iterable):
        self.loader, self.passes, self.batches = loader, 0, 0
        self.batch_size = getattr(loader, "batch_size", None)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        self.passes += 1
        for batch in self.loader:
            self.batches += 1
            yield batch


def _synthetic(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8), torch.arange(n) % 10


# Task 1: an evaluation function ----------------------------------------------------------------


def examine_accuracy(accuracy: Callable) -> list[Finding]:
    """Run `accuracy(model, loader)` on a network with dropout and a loader whose batches differ."""
    from mnistlib.models import MLP

    train.set_seed(0)
    model = MLP(32, dropout=0.5)
    images, _ = _synthetic(70, seed=1)
    loader = data.InMemoryLoader((images, torch.zeros(70, dtype=torch.long)), batch_size=32)
    predicted, _ = train.predict(model, loader)
    labels = predicted.clone()
    labels[64:] = (labels[64:] + 1) % 10  # right on the first two batches, wrong on the last (6)
    counting = CountingLoader(data.InMemoryLoader((images, labels), batch_size=32))
    seen: list[tuple[bool, bool]] = []
    hook = model.register_forward_hook(
        lambda m, i, o: seen.append((m.training, torch.is_grad_enabled()))
    )
    model.train()
    try:
        result, exc = attempt(accuracy, model, counting)
    finally:
        hook.remove()
    if not_filled_in(result, exc):
        return [todo("accuracy() still returns `...`: fill in its body")]
    if exc is not None:
        return [wrong(error_text("accuracy(model, loader)", exc))]
    findings = []
    if any(training for training, _ in seen):
        findings.append(
            wrong(
                "the model was in training mode while you measured it, so dropout was still "
                "switching units off at random: two calls give two answers. Look at what "
                "notebook 02 does before evaluating."
            )
        )
    if any(grad for _, grad in seen):
        findings.append(
            wrong(
                "PyTorch recorded gradients during the evaluation (memory and time for "
                "nothing): evaluation needs no backward pass; switch the recording off while "
                "you measure."
            )
        )
    if counting.passes and counting.batches < len(counting.loader):
        findings.append(
            wrong(
                f"accuracy() looked at {counting.batches} of the {len(counting.loader)} batches: "
                "it must go through the whole loader, not only the first batch."
            )
        )
    try:
        value = float(result)
    except (TypeError, ValueError):
        return [*findings, wrong(f"accuracy() returned {type(result).__name__}, not a number")]
    truth = 100.0 * 64 / 70
    if not findings and math.isclose(value, truth / 100, abs_tol=1e-4):
        findings.append(wrong("the result is a fraction between 0 and 1; report it in percent."))
    elif not findings and math.isclose(value, 100 * (1 + 1 + 0) / 3, abs_tol=1e-3):
        findings.append(
            wrong(
                "you averaged the accuracies of the batches, but the last batch is smaller than "
                "the others: count the correct images and divide by the number of images."
            )
        )
    elif not findings and not math.isclose(value, truth, abs_tol=1e-3):
        findings.append(
            wrong(
                f"on a test loader the result should match train.evaluate, and it does not "
                f"({value:.4g}): compare the predicted class (argmax of the logits) with the "
                "labels, over every image."
            )
        )
    if not findings:
        findings.append(ok("the model is measured in evaluation mode, without gradients"))
        findings.append(ok("every batch counts, and the result is a percentage over all images"))
    return findings


# Task 2: batch sizes --------------------------------------------------------------------------


def _first_images(loader) -> torch.Tensor | None:
    images = getattr(loader, "images", None)
    if images is None and hasattr(loader, "dataset"):
        images, _ = data.to_tensors(loader.dataset)
    return images


def same_data(loader, dataset) -> bool:
    """Whether `loader` serves the images of `dataset` (an InMemoryLoader or a DataLoader)."""
    images = _first_images(loader)
    if images is None:
        return False
    expected, _ = data.to_tensors(dataset)
    return images.shape == expected.shape and torch.equal(images.cpu(), expected)


def shuffled(loader) -> bool:
    if hasattr(loader, "shuffle"):
        return bool(loader.shuffle)
    return isinstance(getattr(loader, "sampler", None), torch.utils.data.RandomSampler)


def _batch_mean(loader) -> float:
    X, _ = next(iter(loader))
    return float(X.float().mean())


def examine_loaders(make_loaders: Callable, train_set, val_set, sizes=(32, 512)) -> list[Finding]:
    """Check that `make_loaders(b)` gives (training loader in batches of b, validation loader)."""
    findings = []
    for size in sizes:
        result, exc = attempt(make_loaders, size)
        if not_filled_in(result, exc):
            return [todo("make_loaders still holds `...`: fill in the batch sizes")]
        if exc is not None:
            return [wrong(error_text(f"make_loaders({size})", exc))]
        if not (isinstance(result, tuple) and len(result) == 2):
            return [wrong("make_loaders should return two loaders: (training, validation)")]
        train_loader, val_loader = result
        if not same_data(train_loader, train_set):
            return [
                wrong(
                    "the first loader make_loaders returns does not serve the training set: "
                    "train on train_set, measure on val_set"
                )
            ]
        if not same_data(val_loader, val_set):
            return [
                wrong(
                    "the second loader does not serve the validation set (is it the test set?): "
                    "choices are made on val_set; the test set waits for the end"
                )
            ]
        if train_loader.batch_size != size:
            where = "validation" if val_loader.batch_size == size else "no"
            return [
                wrong(
                    f"make_loaders({size}) gives training batches of {train_loader.batch_size}; "
                    f"the batch size you asked for went to the {where} loader. The batch size "
                    "that changes training is the one of the loader you train on."
                )
            ]
        if not shuffled(train_loader):
            return [wrong("the training loader is not shuffled (notebook 04 shows why it must be)")]
        if abs(_batch_mean(train_loader) - _batch_mean(val_loader)) > 0.05:
            return [
                wrong(
                    "the training and validation batches are not scaled the same way: one "
                    "loader normalizes and the other does not"
                )
            ]
    findings.append(ok("the batch size goes to the training loader, which is shuffled"))
    findings.append(ok("validation batches come from val_set, scaled like the training ones"))
    return findings


def examine_scaled_lr(scaled_lr: Callable, base=(64, 0.05)) -> list[Finding]:
    """Check that `scaled_lr(b)` gives the base rate at the base batch and grows with b."""
    sizes = (32, 64, 128, 256, 512)
    rates = {}
    for size in sizes:
        rate, exc = attempt(scaled_lr, size)
        if not_filled_in(rate, exc):
            return [todo("scaled_lr still returns `...`: fill it in")]
        if exc is not None:
            return [wrong(error_text(f"scaled_lr({size})", exc))]
        try:
            rates[size] = float(rate)
        except (TypeError, ValueError):
            return [wrong(f"scaled_lr({size}) returned {type(rate).__name__}, not a number")]
    b0, lr0 = base
    if not math.isclose(rates[b0], lr0, rel_tol=1e-6):
        return [wrong(f"scaled_lr({b0}) should be the baseline's rate, {lr0}; it is {rates[b0]:g}")]
    if len(set(rates.values())) == 1:
        return [
            wrong(
                "the learning rate is the same for every batch size, so it is not scaled: a "
                "larger batch makes fewer updates per epoch, each from a less noisy gradient"
            )
        ]
    if rates[512] < rates[32]:
        return [
            wrong(
                "your rate shrinks as the batch grows: it goes the wrong way. Larger batches "
                "make fewer, less noisy steps, so each step can be larger."
            )
        ]
    linear = all(math.isclose(rates[b], lr0 * b / b0, rel_tol=1e-6) for b in sizes)
    root = all(math.isclose(rates[b], lr0 * math.sqrt(b / b0), rel_tol=1e-6) for b in sizes)
    if not (linear or root):
        return [
            wrong(
                "the rate grows with the batch, but not in proportion: when the batch doubles, "
                "what should happen to the rate? (Check scaled_lr(128) / scaled_lr(64).)"
            )
        ]
    rule = "in proportion to the batch size" if linear else "with the square root of the batch"
    return [ok(f"the learning rate is scaled {rule}, from {lr0} at batch {b0}")]


# Task 3: learning rates, and a choice made on validation ---------------------------------------


SCHEDULE_CASE = {"epochs": 5, "step_size": 2}


def examine_schedule(train_with_schedule: Callable) -> list[Finding]:
    """Run the student's schedule loop on tiny data; compare what it records with what was used."""
    from mnistlib.models import SoftmaxRegression

    train.set_seed(0)
    model = SoftmaxRegression()
    train_loader = data.InMemoryLoader(_synthetic(64, seed=2), batch_size=16, shuffle=True)
    val_loader = CountingLoader(data.InMemoryLoader(_synthetic(40, seed=3), batch_size=20))
    used: list[float] = []
    handle = register_optimizer_step_pre_hook(
        lambda opt, args, kwargs: used.append(opt.param_groups[0]["lr"])
    )
    epochs, step_size = SCHEDULE_CASE["epochs"], SCHEDULE_CASE["step_size"]
    try:
        result, exc = attempt(
            train_with_schedule, model, train_loader, val_loader, epochs, step_size
        )
    finally:
        handle.remove()
    if not_filled_in(result, exc) or exc is None and not any(result):
        return [todo("train_with_schedule still records nothing: fill in the loop body")]
    if exc is not None:
        return [wrong(error_text("train_with_schedule(...)", exc))]
    if not (isinstance(result, tuple) and len(result) == 2):
        return [wrong("train_with_schedule should return two lists: (rates, val_accs)")]
    rates, val_accs = result
    rates = [r[0] if isinstance(r, (list, tuple)) and len(r) == 1 else r for r in rates]
    per_epoch = len(train_loader)
    if len(used) != epochs * per_epoch:
        return [
            wrong(
                f"{epochs} epochs of {per_epoch} batches should make {epochs * per_epoch} "
                f"optimizer steps; yours made {len(used)}: train once per epoch"
            )
        ]
    epoch_rates = [used[e * per_epoch : (e + 1) * per_epoch] for e in range(epochs)]
    if any(len(set(r)) > 1 for r in epoch_rates):
        return [
            wrong(
                "the rate changes within an epoch: StepLR counts epochs, so step it once "
                "per epoch, after the epoch's training, not after every batch"
            )
        ]
    truth = [r[0] for r in epoch_rates]
    findings = []
    if len(set(truth)) == 1:
        return [wrong("the rate never changed during training: is scheduler.step() called?")]
    if len(rates) != epochs:
        findings.append(wrong(f"record one rate per epoch ({epochs} here), not {len(rates)}"))
    elif close_enough(rates[:-1], truth[1:]) and not close_enough(rates, truth):
        findings.append(
            wrong(
                "each rate you record is the one of the *next* epoch: you read it after "
                "scheduler.step(). Your first entry should be the rate the first epoch used."
            )
        )
    elif not close_enough(rates, truth):
        findings.append(wrong("the rates you record are not the ones the optimizer used"))
    else:
        findings.append(ok("you record the learning rate each epoch actually used"))
    if val_loader.passes == 0:
        findings.append(
            wrong(
                "val_loader was never used: measure the validation accuracy on the loader the "
                "function receives (a loader from outside, such as a test loader, is the wrong one)"
            )
        )
    elif len(val_accs) != epochs:
        findings.append(wrong(f"record one validation accuracy per epoch, not {len(val_accs)}"))
    elif max(float(a) for a in val_accs) <= 1.0:
        findings.append(wrong("the validation accuracies look like fractions; record percent"))
    else:
        findings.append(ok("one validation accuracy per epoch, on the validation loader"))
    return findings
