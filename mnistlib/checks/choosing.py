"""Tasks 3a, 3b, 5b, 8a and 8b: learning rates to try, a rate and a step size chosen on
validation, the challenge's candidates and its choice. A choice is judged by the statistic the
student's own scores hold; a near-tie within the run-to-run noise is a sound choice; the test set
is named only when the scores show it was used, and no message tells which run is best on it."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np
from torch import nn

from mnistlib import data, experiments, train
from mnistlib.checks.findings import (
    NOISE,
    Finding,
    attempt,
    error_text,
    number,
    ok,
    pending,
    todo,
    wrong,
)
from mnistlib.models import count_parameters

# Task 3a: learning rates to try -----------------------------------------------------------------

LOWEST_RATE, RATE_LIMIT = 1e-4, 1.0


def _as_list(values) -> list | None:
    """A list, tuple or NumPy array as a list; None for anything else."""
    if isinstance(values, np.ndarray):
        return values.tolist()
    return list(values) if isinstance(values, (list, tuple)) else None


def examine_rates(rates) -> list[Finding]:
    """4 to 6 different rates, 0.0001 to below 1, over two decades, even on a log scale."""
    if pending(rates):
        return [todo("learning_rates still holds `...`: list the rates you want to try")]
    values = _as_list(rates)
    if values is None:
        return [wrong(f"learning_rates should be a list of numbers, not a {type(rates).__name__}")]
    for rate in values:
        if isinstance(rate, str):
            return [wrong(f"{rate!r} is text, not a number: write the rates without quotes")]
        if not isinstance(rate, numbers.Real) or isinstance(rate, bool):
            return [wrong(f"{rate!r} is not a number: learning_rates should hold numbers only")]
        if not math.isfinite(rate):
            return [wrong(f"{rate} is not a learning rate: every rate must be a finite number")]
    if not 4 <= len(values) <= 6:
        return [wrong(f"try 4 to 6 rates (you have {len(values)}): enough to see a trend")]
    repeated = sorted({r for r in values if values.count(r) > 1})
    if repeated:
        return [
            wrong(
                f"{repeated[0]:g} appears more than once: a run at the same rate repeats "
                "another and shows nothing new"
            )
        ]
    if min(values) < LOWEST_RATE or max(values) >= RATE_LIMIT:
        return [
            wrong(
                f"keep every rate at least {LOWEST_RATE:g} and below {RATE_LIMIT:g}: smaller ones "
                "barely move the weights in 3 epochs, and notebook 04 saw SGD at 1 blow this "
                "network up"
            )
        ]
    if max(values) / min(values) < 100:
        return [
            wrong(
                "your rates span less than a factor 100: a good rate can be 10 times away from "
                "where you start looking, so cover at least two powers of ten"
            )
        ]
    ordered = sorted(values)
    steps = [math.log(b / a) for a, b in zip(ordered, ordered[1:], strict=False)]
    if max(steps) > 5 * min(steps):
        return [
            wrong(
                "your rates are crowded at one end: space them evenly on a log scale (each a "
                "fixed factor larger than the one before)"
            )
        ]
    return [
        ok(f"{len(values)} rates, spread from {min(values):g} to {max(values):g} on a log scale")
    ]


# Task 3b: a rate chosen on validation -----------------------------------------------------------

LOSS_NOISE = 0.01  # validation loss between two seeds of one small MLP


class Statistic(NamedTuple):
    """A number read from each run's history, and which way is better."""

    name: str
    read: Callable[[train.History], float]
    higher_is_better: bool
    noise: float


VALIDATION = (
    Statistic("validation accuracy after the last epoch", lambda h: h.val_acc[-1], True, NOISE),
    Statistic("the best validation accuracy of any epoch", lambda h: max(h.val_acc), True, NOISE),
    Statistic("validation loss after the last epoch", lambda h: h.val_loss[-1], False, LOSS_NOISE),
    Statistic(
        "the lowest validation loss of any epoch", lambda h: min(h.val_loss), False, LOSS_NOISE
    ),
)
TRAINING = (
    Statistic("training accuracy", lambda h: h.train_acc[-1], True, NOISE),
    Statistic("training accuracy", lambda h: max(h.train_acc), True, NOISE),
    Statistic("training loss", lambda h: h.train_loss[-1], False, LOSS_NOISE),
    Statistic("training loss", lambda h: min(h.train_loss), False, LOSS_NOISE),
)


def usable(run) -> bool:
    """Whether a run can be chosen: it did not diverge, and it has finite validation scores."""
    history = run.history
    if getattr(history, "status", "finished") == "diverged" or not history.val_acc:
        return False
    return all(math.isfinite(v) for v in [*history.val_acc, *history.val_loss])


def _read(statistic: Statistic, history) -> float:
    try:
        return float(statistic.read(history))
    except (IndexError, ValueError, TypeError):
        return math.nan


def _matches(given: Mapping, reference: Mapping, accuracy: bool = True) -> bool:
    """Whether `given` holds the `reference` number of every run, copied to two decimals or more
    (accuracies in percent or as fractions)."""
    tolerance = 0.051 if accuracy else 0.0051
    scales = (1, 100) if accuracy else (1,)
    return any(
        all(abs(given[k] * scale - reference[k]) <= tolerance for k in reference)
        for scale in scales
    )


def _reading(statistic: Statistic, histories: Mapping) -> dict:
    return {k: _read(statistic, h) for k, h in histories.items()}


def _is_key(key, mapping: Mapping) -> bool:
    try:
        return key in mapping
    except TypeError:  # an unhashable answer, such as a list
        return False


def _judge(chosen, histories: Mapping, statistics: tuple[Statistic, ...]) -> Finding:
    """ok when the chosen run is the best, or behind it by less than the noise, by one of
    `statistics`; `histories` holds each run's history."""
    gaps = []
    for statistic in statistics:
        values = _reading(statistic, histories)
        sign = 1 if statistic.higher_is_better else -1
        gap = sign * (max(sign * v for v in values.values()) - sign * values[chosen])
        gaps.append((gap, statistic))
    gap, statistic = min(gaps, key=lambda pair: pair[0] / pair[1].noise)
    noise = f"{statistic.noise:g} points" if statistic.noise == NOISE else f"{statistic.noise:g}"
    if gap <= 1e-9:
        return ok(f"your choice is the best by {statistic.name}")
    if gap <= statistic.noise:
        return ok(
            f"your choice is {gap:.2g} behind the best by {statistic.name}, less than the "
            f"run-to-run noise ({noise}): either is a sound choice"
        )
    return wrong(
        f"by {statistic.name}, another run is better than your choice by more than the "
        f"run-to-run noise ({noise}): look at the scores again"
    )


def test_accuracies(runs: Mapping, test_set) -> dict:
    """Each run's test accuracy, for the check's eyes only; each model keeps its mode."""
    result = {}
    for key, run in runs.items():
        model, mode = run.model, run.model.training
        where = train.model_device(model)
        loader = data.InMemoryLoader(test_set, batch_size=1000, normalize=True, device=where)
        result[key] = train.evaluate(model, loader)[0]
        model.train(mode)
    return result


def examine_choice(scores, chosen, runs: Mapping, test_set) -> list[Finding]:
    """The scores a choice was made on, and whether the chosen run is the best by them."""
    if not runs:
        return [todo("there are no runs to choose from yet: finish the part before")]
    if pending(chosen) or pending(scores):
        return [todo("fill in the scores you choose by, and your choice")]
    if not isinstance(scores, Mapping):
        return [wrong("scores should hold one number per run, keyed like lr_runs")]
    live = {k: run for k, run in runs.items() if usable(run)}
    if not live:
        return [wrong("every run diverged: there is nothing to choose from; try smaller rates")]
    missing = [k for k in live if not _is_key(k, scores)]
    if missing:
        return [wrong(f"scores has no entry for the run {missing[0]!r}: give every run its score")]
    strays = [k for k in scores if not _is_key(k, runs)]
    if strays:
        return [wrong(f"{strays[0]!r} in scores is not one of the runs: {list(runs)}")]
    given = {k: number(scores[k]) for k in live}
    if None in given.values():
        key = next(k for k, v in given.items() if v is None)
        return [wrong(f"the score of {key!r} is not a number")]
    histories = {k: run.history for k, run in live.items()}
    matched = tuple(
        s for s in VALIDATION if _matches(given, _reading(s, histories), s.noise == NOISE)
    )
    if not matched:
        return [_not_validation(given, live, test_set)]
    findings = [ok(f"you choose by {matched[0].name}")]
    if not _is_key(chosen, runs):
        return [*findings, wrong(f"{chosen!r} is not one of the runs: {list(runs)}")]
    if chosen not in live:
        return [*findings, wrong(f"the run {chosen!r} diverged: it cannot be the best")]
    verdict = _judge(chosen, histories, matched)
    if verdict.kind == "wrong" and _judge(chosen, histories, TRAINING[:1]).kind == "ok":
        verdict = wrong("your choice is the best by training accuracy, not by your scores")
    return [*findings, verdict]


def _not_validation(given: Mapping, runs: Mapping, test_set) -> Finding:
    """What the scores are when they are not validation scores."""
    histories = {k: run.history for k, run in runs.items()}
    for statistic in TRAINING:
        if _matches(given, _reading(statistic, histories), statistic.noise == NOISE):
            return wrong(
                f"you choose by {statistic.name}, which rewards memorizing the training images; "
                "choose by a score measured on images the model was not trained on"
            )
    if _matches(given, test_accuracies(runs, test_set)):
        return wrong(
            "the scores you choose by are test accuracies. The test set must not help choose "
            "anything; choose on the validation set, test once at the end."
        )
    return wrong(
        "these are not validation scores of the runs: each run's history holds its validation "
        "accuracy and loss, one entry per epoch"
    )


# Task 5b: a step size chosen on validation ------------------------------------------------------


def examine_schedule_choice(best_step_size, results: Mapping) -> list[Finding]:
    """The step size chosen: best, or within the noise, by last or best validation accuracy."""
    if not results:
        return [todo("there are no schedule runs yet: finish the part before")]
    if pending(best_step_size):
        return [todo("best_step_size is still `...`")]
    if not _is_key(best_step_size, results):
        return [wrong(f"{best_step_size!r} is not one of the step sizes tried: {list(results)}")]
    histories = {s: train.History(val_acc=list(accs)) for s, (_, accs) in results.items()}
    return [_judge(best_step_size, histories, VALIDATION[:2])]


# Task 8: the challenge --------------------------------------------------------------------------

RUN_SETTINGS = {
    "make_model",
    "epochs",
    "batch_size",
    "optimizer",
    "lr",
    "momentum",
    "weight_decay",
    "normalize",
    "schedule",
    "seed",
}
COMMON_SETTINGS = {"train_data", "val_data", "device", "progress", "name"}
MAX_EPOCHS = 5
DEFAULTS = {"epochs": 3, "batch_size": 64, "optimizer": "sgd", "lr": 0.1, "momentum": 0.0}
CHALLENGE_MARGIN = 1.0  # points of validation accuracy to beat the baseline by
# The notebook's baseline: the tutorial's MLP, 3 epochs of SGD at 0.05 in batches of 64.
BASELINE = {"epochs": 3, "lr": 0.05, "batch_size": 64, "parameters": 44_860}


def _fresh_builds(name, make_model) -> list[Finding]:
    """A candidate's make_model must build a new network at every call."""
    if isinstance(make_model, nn.Module) or not callable(make_model):
        return [
            wrong(
                f"{name!r}: 'make_model' must build a fresh network (a class or a lambda), "
                "not a network already built: each run starts from new weights"
            )
        ]
    first, exc = attempt(make_model)
    second, exc = (first, exc) if exc else attempt(make_model)
    if exc is not None:
        return [wrong(error_text(f"{name!r}: building its model", exc))]
    if not isinstance(first, nn.Module):
        return [wrong(f"{name!r}: 'make_model' gives a {type(first).__name__}, not an nn.Module")]
    shared = {id(p) for p in first.parameters()} & {id(p) for p in second.parameters()}
    if first is second or shared:
        return [
            wrong(
                f"{name!r}: 'make_model' gives the same network (or the same weights) at every "
                "call, so a run would start from weights another run has trained: build the "
                "network inside the function"
            )
        ]
    return []


def _settings(name, config: Mapping) -> list[Finding]:
    """The settings experiments.run would refuse, or that break the rules."""
    settings = {**DEFAULTS, **config}
    epochs, optimizer = settings["epochs"], settings["optimizer"]
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        return [wrong(f"{name!r}: epochs should be a whole number, not {epochs!r}")]
    if epochs > MAX_EPOCHS:
        return [wrong(f"{name!r} trains {epochs} epochs; the rule is at most {MAX_EPOCHS}")]
    if optimizer not in experiments.OPTIMIZERS:
        return [wrong(f"{name!r}: optimizer should be one of {sorted(experiments.OPTIMIZERS)}")]
    lr, momentum = number(settings["lr"]), number(settings["momentum"])
    if lr is None or not math.isfinite(lr) or lr <= 0:
        return [wrong(f"{name!r}: lr should be a positive number, not {settings['lr']!r}")]
    if momentum is None or momentum and optimizer != "sgd":
        return [wrong(f"{name!r}: momentum is a number, and a setting of 'sgd' only")]
    batch = settings["batch_size"]
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        return [wrong(f"{name!r}: batch_size should be a whole number, not {batch!r}")]
    return []


def examine_candidates(candidates) -> list[Finding]:
    """Each candidate: experiments.run settings, a make_model of new networks, <= 5 epochs."""
    if pending(candidates):
        return [todo("candidates is empty: add at least two ideas to compare")]
    if not isinstance(candidates, Mapping) or len(candidates) < 2:
        return [wrong("give at least two candidates, as {name: {settings}}, to choose between")]
    for name, config in candidates.items():
        if not isinstance(config, Mapping):
            return [wrong(f"{name!r}: its settings should be a dict of experiments.run settings")]
        unknown = set(config) - RUN_SETTINGS
        if unknown & COMMON_SETTINGS:
            return [
                wrong(
                    f"{name!r} sets {sorted(unknown & COMMON_SETTINGS)}: the notebook gives every "
                    "candidate the same data; a candidate only says how to train"
                )
            ]
        if unknown:
            return [wrong(f"{name!r}: {sorted(unknown)} are not settings of experiments.run")]
        if "make_model" not in config:
            return [wrong(f"{name!r} has no 'make_model': a function that builds a fresh network")]
        found = _fresh_builds(name, config["make_model"]) or _settings(name, config)
        if found:
            return found
    return [ok(f"{len(candidates)} candidates, each within {MAX_EPOCHS} epochs")]


def _epochs(n: int) -> str:
    return f"{n} epoch" + ("" if n == 1 else "s")


def challenge_target(baseline) -> float:
    """The number to beat: the baseline run's final validation accuracy plus the margin."""
    return baseline.history.val_acc[-1] + CHALLENGE_MARGIN


def _images_per_epoch(run, batch_size: int) -> range:
    """The numbers of training images that give a run its count of batches per epoch."""
    batches = len(run.history.batch_loss) // max(run.history.epochs, 1)
    return range((batches - 1) * batch_size + 1, batches * batch_size + 1)


def _baseline_slip(baseline, runs: Mapping, approved: Mapping) -> str | None:
    """How the baseline differs from the notebook's, or None."""
    history = baseline.history
    if history.epochs != BASELINE["epochs"]:
        return f"it trained {_epochs(history.epochs)}"
    if not history.lr or any(not math.isclose(r, BASELINE["lr"]) for r in history.lr):
        return "it trained at another learning rate"
    if count_parameters(baseline.model) != BASELINE["parameters"]:
        return "its network is not the tutorial's"
    seen = _images_per_epoch(baseline, BASELINE["batch_size"])
    for name, run in runs.items():
        size = {**DEFAULTS, **approved[name]}["batch_size"]
        if usable(run) and not set(seen) & set(_images_per_epoch(run, size)):
            return "it trained on another number of images than the candidates"
    return None


def examine_challenge(chosen, runs: Mapping, baseline, approved: Mapping) -> list[Finding]:
    """An approved candidate, trained as approved, best on validation and above the target."""
    if not approved:
        return [
            todo("task 8a has not passed yet: its check approves the candidates to choose from")
        ]
    if not runs:
        return [todo("there are no runs to choose from yet: finish the part before")]
    if pending(chosen):
        return [todo("chosen is still `...`: name the candidate you submit")]
    for name, run in runs.items():
        if not _is_key(name, approved):
            return [
                wrong(
                    f"{name!r} is not one of the candidates task 8a approved: every run you "
                    "choose from must pass task 8a first"
                )
            ]
        epochs = {**DEFAULTS, **approved[name]}["epochs"]
        if usable(run) and run.history.epochs != epochs:
            return [
                wrong(
                    f"{name!r} trained {_epochs(run.history.epochs)}, but task 8a approved it "
                    f"with {epochs}: train the candidates as they were approved"
                )
            ]
    missing = [name for name in approved if name not in runs]
    if missing:
        return [wrong(f"{missing[0]!r} was approved in task 8a but has no run: compare them all")]
    slip = _baseline_slip(baseline, runs, approved)
    if slip:
        return [
            wrong(
                f"the baseline given here is not the notebook's ({slip}): the number to beat "
                "comes from the tutorial's network as the baseline cell trains it; run that "
                "cell as it is"
            )
        ]
    if not _is_key(chosen, runs):
        return [wrong(f"{chosen!r} is not one of the candidates: {list(runs)}")]
    live = {name: run for name, run in runs.items() if usable(run)}
    if chosen not in live:
        return [wrong(f"{chosen!r} diverged: it cannot be the best")]
    verdict = _judge(chosen, {k: run.history for k, run in live.items()}, VALIDATION[:2])
    if verdict.kind != "ok":
        return [verdict]
    reached, target = runs[chosen].history.val_acc[-1], challenge_target(baseline)
    if reached <= target:
        return [
            verdict,
            wrong(
                f"{chosen!r} reaches {reached:.2f}% on validation, not above the target of "
                f"{target:.2f}%: keep exploring"
            ),
        ]
    return [verdict, ok(f"{reached:.2f}% on validation beats the target of {target:.2f}%")]
