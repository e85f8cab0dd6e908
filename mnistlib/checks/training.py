"""Tasks 1, 2 and 5a: an evaluation function, the loaders and scaled rates of the batch-size
comparison, and a training loop with StepLR. Each examiner runs the student's code on data, models
and settings of its own, and compares what the code did with what it must do. Nothing here prints,
and no message holds an answer."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_pre_hook

from mnistlib import data, train
from mnistlib.checks.findings import (
    Finding,
    attempt,
    error_text,
    not_filled_in,
    number,
    ok,
    todo,
    wrong,
)

GRAD_LEFT_OFF = (
    "after {call} returned, PyTorch records no gradients anywhere in the notebook: it switched "
    "gradient recording off for the whole session, so every later training cell fails. Switch it "
    "off only for the lines that measure."
)


def _synthetic(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` random uint8 images and the labels 0, 1, ..., 9, 0, ..."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8), torch.arange(n) % 10


def _probe_model() -> nn.Module:
    """A small network with batch norm and dropout, so that its mode changes what it outputs."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 32),
        nn.BatchNorm1d(32),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(32, 10),
    ).to(train.device())


# Task 1: an evaluation function ----------------------------------------------------------------

# (images, batch size, share of them labelled as the model predicts): a short last batch, many
# small batches (a loop that stops early is seen), one batch.
EVALUATION_CASES = ((70, 32, 0.75), (518, 3, 0.4), (45, 45, 0.6))


def _evaluation_case(model: nn.Module, case: tuple, seed: int):
    """A loader whose labels make the model right on a known set of its images, and that set."""
    n, batch_size, share = case
    images, _ = _synthetic(n, seed)
    where = train.device()
    unlabelled = data.InMemoryLoader((images, torch.zeros(n, dtype=torch.long)), batch_size)
    predicted = torch.cat([model(X.to(where)).argmax(1).cpu() for X, _ in unlabelled])
    right = torch.rand(n, generator=torch.Generator().manual_seed(seed)) < share
    labels = torch.where(right, predicted, (predicted + 1) % 10)
    return data.InMemoryLoader((images, labels), batch_size, device=where), right


def _other_readings(right: torch.Tensor, batch_size: int) -> dict[str, float]:
    """What the usual slips give on a loader where `right` marks the correctly classified images."""
    batches = right.split(batch_size)
    per_batch = sum(100 * float(b.float().mean()) for b in batches) / len(batches)
    return {
        "fraction": float(right.float().mean()),
        "per batch": per_batch,
        "full batches": 100 * float(right.sum()) / (len(batches) * batch_size),
        "whole number": round(100 * float(right.float().mean())),
    }


SLIPS = {
    "fraction": "the result is a fraction between 0 and 1; report it in percent.",
    "per batch": (
        "you averaged the accuracies of the batches, but the last batch is smaller than the "
        "others: count the correct images and divide by the number of images."
    ),
    "full batches": (
        "you divide as if every batch were full, but the last batch is smaller: divide by the "
        "number of images the loader actually gave."
    ),
    "whole number": (
        "the result is rounded to a whole percent: differences between runs are often below one "
        "point, so keep at least two decimals."
    ),
}


def examine_accuracy(accuracy: Callable) -> list[Finding]:
    """Run accuracy(model, loader) on a net with dropout and batch norm, loaders of many sizes."""
    torch.manual_seed(0)
    model = _probe_model().eval()
    with torch.no_grad():
        cases = [_evaluation_case(model, case, seed) for seed, case in enumerate(EVALUATION_CASES)]
    seen: list[tuple[bool, bool, int]] = []
    hook = model.register_forward_hook(
        lambda m, i, o: seen.append((m.training, torch.is_grad_enabled(), len(i[0]) if i else 0))
    )
    results = []
    try:
        for loader, _ in cases:
            model.train()
            seen_before = len(seen)
            result, exc = attempt(accuracy, model, loader)
            left_off = not torch.is_grad_enabled()
            torch.set_grad_enabled(True)
            if not_filled_in(result, exc):
                return [todo("accuracy() still returns `...`: fill in its body")]
            if exc is not None:
                return [wrong(error_text("accuracy(model, loader)", exc))]
            images = sum(n for _, _, n in seen[seen_before:])
            results.append((result, images, len(loader.images), loader.batch_size))
            if left_off:
                return [wrong(GRAD_LEFT_OFF.format(call="accuracy()"))]
    finally:
        hook.remove()
    findings = []
    if not seen:
        return [
            wrong(
                "accuracy() never ran the model: it must measure the model it is given, on the "
                "images of the loader it is given"
            )
        ]
    if any(training for training, _, _ in seen):
        findings.append(
            wrong(
                "the model was in training mode while you measured it, so dropout was still "
                "switching units off at random and batch norm used each batch's own statistics: "
                "two calls give two answers. Look at what notebook 02 does before evaluating."
            )
        )
    if any(grad for _, grad, _ in seen):
        findings.append(
            wrong(
                "PyTorch recorded gradients during the evaluation (memory and time for "
                "nothing): evaluation needs no backward pass; switch the recording off while "
                "you measure."
            )
        )
    short = [(got, total) for _, got, total, _ in results if got < total]
    if short:
        got, total = short[0]
        findings.append(
            wrong(
                f"on a loader of {total} images, the model saw only {got} of them: accuracy() "
                "must go through the whole loader, every batch of it."
            )
        )
    if findings:
        return findings
    return _accuracy_values(results, [right for _, right in cases])


def _accuracy_values(results: list, rights: list[torch.Tensor]) -> list[Finding]:
    """Compare each result with the true percentage and with what the usual slips give."""
    for (result, _, total, batch_size), right in zip(results, rights, strict=True):
        value = number(result)
        if value is None:
            return [wrong(f"accuracy() returned {type(result).__name__}, not a number")]
        truth = 100 * float(right.float().mean())
        if abs(value - truth) <= 0.05 + 1e-9:  # rounded to one or two decimals is fine
            continue
        for slip, reading in _other_readings(right, batch_size).items():
            if abs(value - reading) <= 1e-3:
                return [wrong(SLIPS[slip])]
        return [
            wrong(
                f"on a loader of {total} images in batches of {batch_size}, accuracy() gives "
                f"{value:.4g}, which is not the percentage of images whose predicted class (the "
                "highest logit) is their label"
            )
        ]
    return [
        ok("the model is measured in evaluation mode, without recording gradients"),
        ok("every image counts, in loaders of any size, and the result is a percentage"),
    ]


# Task 2: batch sizes --------------------------------------------------------------------------


def _served_images(loader) -> torch.Tensor | None:
    """The images a loader serves, one row of pixels per image, or None when it cannot tell."""
    images = getattr(loader, "images", None)
    dataset = getattr(loader, "dataset", None)
    if images is None and isinstance(dataset, torch.utils.data.TensorDataset):
        images = dataset.tensors[0]
    elif images is None and dataset is not None:
        try:
            images, _ = data.to_tensors(dataset)
        except TypeError:
            return None
    return None if images is None else images.detach().cpu().reshape(len(images), -1).float()


def same_data(loader, dataset) -> bool:
    """Whether `loader` serves the images of `dataset`, stored as bytes, in [0, 1] or normalized."""
    served = _served_images(loader)
    expected, _ = data.to_tensors(dataset)
    expected = expected.reshape(len(expected), -1).float()
    if served is None or served.shape != expected.shape:
        return False

    def scaled(x: torch.Tensor) -> torch.Tensor:
        """`x` mapped onto [0, 1]: the same for bytes, [0, 1] pixels and normalized ones."""
        return (x - x.min()) / (x.max() - x.min()).clamp_min(1e-12)

    return torch.allclose(scaled(served), scaled(expected), atol=1e-4)


def shuffled(loader) -> bool:
    """Whether a loader (an InMemoryLoader or a DataLoader) draws its batches in a new order."""
    if hasattr(loader, "shuffle"):
        return bool(loader.shuffle)
    return isinstance(getattr(loader, "sampler", None), torch.utils.data.RandomSampler)


def _batch_mean(loader) -> float:
    X, _ = next(iter(loader))
    return float(X.float().mean())


def examine_loaders(make_loaders: Callable, train_set, val_set, sizes=(32, 512)) -> list[Finding]:
    """Check that `make_loaders(b)` gives (training loader in batches of b, validation loader)."""
    for size in sizes:
        result, exc = attempt(make_loaders, size)
        if not_filled_in(result, exc):
            return [todo("make_loaders still holds `...`: fill in the batch sizes")]
        if exc is not None:
            return [wrong(error_text(f"make_loaders({size})", exc))]
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
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
    return [
        ok("the batch size goes to the training loader, which is shuffled"),
        ok("validation batches come from val_set, scaled like the training ones"),
    ]


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
        rates[size] = number(rate)
        if rates[size] is None:
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


def examine_batch_sizes(
    make_loaders: Callable, scaled_lr: Callable, train_set, val_set
) -> list[Finding]:
    """The loaders and the scaled rates of the batch-size comparison."""
    return examine_loaders(make_loaders, train_set, val_set) + examine_scaled_lr(scaled_lr)


# Task 5a: a StepLR schedule --------------------------------------------------------------------

START_LR = 0.1
# (epochs, step size, gamma, training images, batch size): the check chooses the step size and
# gamma, and the loaders' sizes and batch counts, so a loop that fixes any of them shows it.
SCHEDULE_CASES = ((5, 2, 0.1, 64, 16), (7, 3, 0.5, 90, 32))
VALIDATION_IMAGES = 40


def _expected_rates(epochs: int, step_size: int, gamma: float, shift: int = 0, per: int = 1):
    """The rate of each epoch when StepLR steps `per` times an epoch, `shift` epochs early."""
    return [START_LR * gamma ** ((per * e + shift) // step_size) for e in range(epochs)]


def _same(a, b) -> bool:
    return len(a) == len(b) and all(
        math.isclose(x, y, rel_tol=1e-6) for x, y in zip(a, b, strict=True)
    )


def _schedule_slip(used: list[float], epochs: int, step_size: int, gamma: float) -> str | None:
    """What the rates the optimizer used say about how the scheduler was stepped; None if right."""
    if _same(used, _expected_rates(epochs, step_size, gamma)):
        return None
    if len(set(used)) == 1:
        return "the rate never changed during training: is the scheduler stepped?"
    if not math.isclose(used[0], START_LR, rel_tol=1e-6):
        return f"the first epoch trained at {used[0]:g}; the task starts at {START_LR:g}"
    if _same(used, _expected_rates(epochs, step_size, gamma, shift=1)):
        return (
            "every drop of the rate comes one epoch early: the scheduler was stepped before the "
            "training of the epoch it should follow"
        )
    for per in (2, 3, 4):
        if _same(used, _expected_rates(epochs, step_size, gamma, per=per)):
            return (
                f"the rate drops {per} times as often as step_size={step_size} says: the "
                "scheduler is stepped more than once per epoch"
            )
    for other in range(1, epochs + 1):
        if other != step_size and _same(used, _expected_rates(epochs, other, gamma)):
            return (
                f"the rate drops every {other} epoch(s), but this run asked for "
                f"step_size={step_size}: use the step size the function receives"
            )
    drops = [
        b / a for a, b in zip(used, used[1:], strict=False) if not math.isclose(a, b, rel_tol=1e-6)
    ]
    if drops and all(math.isclose(d, drops[0], rel_tol=1e-4) for d in drops):
        return (
            f"each drop multiplies the rate by {drops[0]:.3g}, but this run asked for "
            f"gamma={gamma:g}: use the gamma the function receives"
        )
    rates = ", ".join(f"{r:g}" for r in used)
    return (
        f"over {epochs} epochs with step_size={step_size} and gamma={gamma:g} the optimizer used "
        f"the rates {rates}, which is not what StepLR gives"
    )


class _ValidationWatch:
    """Records each optimizer step, and each pass of the model over validation images: after how
    many steps, how many images, how many right, in which mode."""

    def __init__(self, model: nn.Module, val_loader):
        self.steps: list[float] = []
        self.passes: list[tuple[int, int, int, bool]] = []
        batches = list(val_loader)
        self.images = torch.cat([X.flatten(1) for X, _ in batches])
        self.labels = torch.cat([y for _, y in batches])
        self.handles = [
            register_optimizer_step_pre_hook(self._step),
            model.register_forward_hook(self._forward),
        ]

    def _step(self, optimizer, args, kwargs) -> None:
        self.steps.append(optimizer.param_groups[0]["lr"])

    def _forward(self, module, inputs, output) -> None:
        X = inputs[0] if inputs else None
        if not isinstance(X, torch.Tensor) or not isinstance(output, torch.Tensor) or X.ndim < 2:
            return
        X = X.detach().flatten(1).to(self.images.device, torch.float32)
        if X.shape[1] != self.images.shape[1]:
            return
        distance, index = torch.cdist(
            X, self.images, compute_mode="donot_use_mm_for_euclid_dist"
        ).min(1)
        found = distance < 1e-3
        if found.any():
            predicted = output.detach().argmax(1).to(self.labels.device)
            right = int((predicted[found] == self.labels[index][found]).sum())
            self.passes.append((len(self.steps), int(found.sum()), right, module.training))

    def remove(self) -> None:
        """Stop recording."""
        for handle in self.handles:
            handle.remove()


def _accepts_gamma(fn: Callable) -> bool:
    try:
        inspect.signature(fn).bind(None, None, None, 1, 1, gamma=0.1)
    except (TypeError, ValueError):
        return False
    return True


def examine_schedule(train_with_schedule: Callable) -> list[Finding]:
    """Run the loop with step sizes and gammas the check picks; compare rates and accuracies."""
    with_gamma = _accepts_gamma(train_with_schedule)
    findings: list[Finding] = []
    for seed, case in enumerate(SCHEDULE_CASES):
        found = _schedule_case(train_with_schedule, seed, case, with_gamma)
        if any(f.kind != "ok" for f in found):
            return found
        findings = found
    return findings


def _schedule_case(fn: Callable, seed: int, case: tuple, with_gamma: bool) -> list[Finding]:
    """Run one case of task 5a and read it; a loop without a gamma is run with StepLR's 0.1."""
    epochs, step_size, gamma, n_train, batch_size = case
    gamma = gamma if with_gamma else 0.1
    torch.manual_seed(seed)
    where = train.device()
    model = _probe_model()
    train_loader = data.InMemoryLoader(
        _synthetic(n_train, seed=10 + seed), batch_size, shuffle=True, normalize=True, device=where
    )
    val_loader = data.InMemoryLoader(
        _synthetic(VALIDATION_IMAGES, seed=20 + seed), 20, normalize=True, device=where
    )
    watch = _ValidationWatch(model, val_loader)
    extra = {"gamma": gamma} if with_gamma else {}
    try:
        result, exc = attempt(fn, model, train_loader, val_loader, epochs, step_size, **extra)
    finally:
        watch.remove()
    left_off = not torch.is_grad_enabled()
    torch.set_grad_enabled(True)
    call = f"train_with_schedule(..., epochs={epochs}, step_size={step_size}" + (
        f", gamma={gamma:g})" if with_gamma else ")"
    )
    nothing = isinstance(result, (tuple, list)) and not any(result)
    if not_filled_in(result, exc) or exc is None and nothing:
        return [todo("train_with_schedule still records nothing: fill in the loop body")]
    if left_off:
        return [wrong(GRAD_LEFT_OFF.format(call=call))]
    if exc is not None:
        return [wrong(error_text(call, exc))]
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        return [wrong("train_with_schedule should return two lists: (rates, val_accs)")]
    rates, val_accs = result
    per_epoch = len(train_loader)
    used = watch.steps
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
                "the rate changes within an epoch: StepLR counts epochs, so it steps once per "
                "epoch, after the epoch's training, not after every batch"
            )
        ]
    truth = [r[0] for r in epoch_rates]
    slip = _schedule_slip(truth, epochs, step_size, gamma)
    if slip:
        return [wrong(slip)]
    return _recorded_rates(rates, truth, call) + _recorded_accuracies(
        val_accs, watch, epochs, per_epoch
    )


def _as_rate(value):
    """A recorded rate: a number, or the one number of a list (what get_last_lr() returns)."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    return number(value)


def _recorded_rates(rates, truth: list[float], call: str) -> list[Finding]:
    epochs = len(truth)
    recorded = [_as_rate(r) for r in rates] if isinstance(rates, (list, tuple)) else None
    if recorded is None or None in recorded:
        return [wrong("the rates you record should be numbers, one per epoch")]
    if len(recorded) != epochs:
        return [wrong(f"record one rate per epoch ({epochs} in {call}), not {len(recorded)}")]
    if _same(recorded[:-1], truth[1:]) and not _same(recorded, truth):
        return [
            wrong(
                "each rate you record is the one of the *next* epoch: you read it after the "
                "scheduler's step. Your first entry should be the rate the first epoch used."
            )
        ]
    if not _same(recorded, truth):
        return [wrong("the rates you record are not the ones the optimizer used")]
    return [ok("you record the learning rate each epoch actually used")]


def _recorded_accuracies(val_accs, watch: _ValidationWatch, epochs, per_epoch) -> list[Finding]:
    total = len(watch.images)
    if not watch.passes:
        return [
            wrong(
                "val_loader was never used: measure the validation accuracy on the loader the "
                "function receives (a loader from outside, such as a test loader, is the wrong one)"
            )
        ]
    if any(training for *_, training in watch.passes):
        return [
            wrong(
                "the model was in training mode while it was measured on validation, so dropout "
                "and batch norm changed the numbers: measure it as task 1 does"
            )
        ]
    measured = []
    for epoch in range(1, epochs + 1):
        after = [p for p in watch.passes if p[0] == epoch * per_epoch]
        before = [p for p in watch.passes if p[0] == (epoch - 1) * per_epoch]
        images = sum(n for _, n, _, _ in after)
        if not after and before:
            return [
                wrong(
                    "you measure before each epoch's training, so each accuracy is the one of "
                    "the epoch before: measure after the epoch's training"
                )
            ]
        if images < total:
            return [
                wrong(
                    f"after epoch {epoch} the model saw {images} of the {total} validation images: "
                    "measure on the whole validation loader"
                )
            ]
        first, seen, right = after[0][0], 0, 0
        for steps, n, r, _ in after:
            if steps == first and seen < total:
                seen, right = seen + n, right + r
        measured.append(100 * right / seen)
    values = [number(a) for a in val_accs] if isinstance(val_accs, (list, tuple)) else None
    if values is None or None in values:
        return [wrong("the validation accuracies you record should be numbers, one per epoch")]
    if len(values) != epochs:
        return [wrong(f"record one validation accuracy per epoch, not {len(values)}")]
    if (
        all(abs(v * 100 - m) <= 0.05 for v, m in zip(values, measured, strict=True))
        and max(values) <= 1
    ):
        return [wrong("the validation accuracies look like fractions; record percent")]
    if not all(abs(v - m) <= 0.05 for v, m in zip(values, measured, strict=True)):
        return [
            wrong(
                "the accuracies you record are not the ones measured on val_loader after each "
                "epoch's training"
            )
        ]
    return [ok("one validation accuracy per epoch, on the whole validation loader")]
