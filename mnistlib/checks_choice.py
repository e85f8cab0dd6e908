"""What the homework's checks look for in a choice: learning rates to try, a model or schedule
chosen on validation (never on test), and the candidates of the challenge. Each function returns
a list of `Finding`s; nothing here prints, and no message holds an answer."""

from __future__ import annotations

import math
from collections.abc import Mapping

from torch import nn

from mnistlib import data, train
from mnistlib.checks_findings import (
    Finding,
    ok,
    pending,
    todo,
    wrong,
)


def examine_rates(rates) -> list[Finding]:
    """A list of 4 to 6 SGD rates between 1e-4 and 1, spread over at least two decades."""
    if pending(rates):
        return [todo("learning_rates still holds `...`: list the rates you want to try")]
    try:
        rates = [float(r) for r in rates]
    except (TypeError, ValueError):
        return [wrong("learning_rates should be a list of numbers")]
    if not 4 <= len(rates) <= 6:
        return [wrong(f"try 4 to 6 rates (you have {len(rates)}): enough to see a trend")]
    if min(rates) < 1e-4 or max(rates) > 1:
        return [wrong("keep the rates between 0.0001 and 1 (above 1 SGD blows up this MLP)")]
    if max(rates) / min(rates) < 100:
        return [
            wrong(
                "your rates span less than a factor 100: a good rate can be 10 times away from "
                "where you start looking, so cover at least two powers of ten"
            )
        ]
    steps = [b / a for a, b in zip(sorted(rates), sorted(rates)[1:], strict=False)]
    if max(steps) > 20 * min(steps):
        return [
            wrong(
                "your rates are crowded at one end: space them evenly on a log scale (each a "
                "fixed factor larger than the one before)"
            )
        ]
    return [ok(f"{len(rates)} rates, spread from {min(rates):g} to {max(rates):g} on a log scale")]


def _accuracies(runs: Mapping) -> dict[str, dict]:
    """Each run's validation accuracy (last and best), training accuracy and validation loss."""
    return {
        key: {
            "val": run.history.val_acc[-1],
            "val_best": max(run.history.val_acc),
            "train": run.history.train_acc[-1],
            "val_loss": run.history.val_loss[-1],
        }
        for key, run in runs.items()
    }


def test_accuracies(runs: Mapping, test_set) -> dict:
    """Test accuracy of each run's model (for the check's eyes only; never printed)."""
    result = {}
    for key, run in runs.items():
        where = train.model_device(run.model)
        loader = data.InMemoryLoader(test_set, batch_size=1000, normalize=True, device=where)
        result[key] = train.evaluate(run.model, loader)[0]
    return result


def _matches(given: Mapping, reference: Mapping) -> bool:
    try:
        return all(math.isclose(float(given[k]), reference[k], abs_tol=1e-6) for k in reference)
    except (KeyError, TypeError, ValueError):
        return False


def examine_choice(scores: Mapping | None, chosen, runs: Mapping, test_set) -> list[Finding]:
    """Check the scores a choice was made on, and that the chosen run is the best on validation."""
    if not runs:
        return [todo("there are no runs to choose from yet: finish the part before")]
    if pending(chosen) or scores is not None and pending(scores):
        return [todo("fill in the accuracies you choose by, and your choice")]
    acc = _accuracies(runs)
    test = test_accuracies(runs, test_set)
    findings = []
    if scores is not None:
        by = {kind: {k: a[kind] for k, a in acc.items()} for kind in ("val", "val_best", "train")}
        if _matches(scores, test):
            return [
                wrong(
                    "the accuracies you choose by are test accuracies. The test set must not "
                    "help choose anything; choose on the validation set, test once at the end."
                )
            ]
        if _matches(scores, by["train"]):
            return [
                wrong(
                    "you choose by training accuracy, which rewards memorizing the training "
                    "images; choose by accuracy on images the model was not trained on"
                )
            ]
        if not (_matches(scores, by["val"]) or _matches(scores, by["val_best"])):
            return [wrong("these are not the validation accuracies of the runs (history.val_acc)")]
        findings.append(ok("you choose by validation accuracy"))
    if chosen not in runs:
        return [*findings, wrong(f"{chosen!r} is not one of the runs: {list(runs)}")]
    best = max(runs, key=lambda k: acc[k]["val"])
    if chosen == best or acc[chosen]["val"] == acc[best]["val"]:
        return [*findings, ok("your choice has the best validation accuracy")]
    if chosen == max(runs, key=lambda k: test[k]):
        return [
            *findings,
            wrong(
                "your choice is the best on the test set, not on the validation set: the test "
                "set was used to choose. Choose again using validation accuracy only."
            ),
        ]
    if chosen == max(runs, key=lambda k: acc[k]["train"]):
        return [*findings, wrong("your choice is the best on training accuracy, not validation")]
    return [*findings, wrong("another run has a higher final validation accuracy: look again")]


# Task 5: a learning-rate schedule ---------------------------------------------------------------


def examine_schedule_choice(best_step_size, results: Mapping) -> list[Finding]:
    """Check that the chosen step size has the best final validation accuracy."""
    if not results:
        return [todo("there are no schedule runs yet: finish the part before")]
    if pending(best_step_size):
        return [todo("best_step_size is still `...`")]
    if best_step_size not in results:
        return [wrong(f"{best_step_size!r} is not one of the step sizes tried: {list(results)}")]
    final = {s: accs[-1] for s, (_, accs) in results.items()}
    if final[best_step_size] < max(final.values()):
        return [wrong("another step size ends with a higher validation accuracy")]
    return [ok("your step size ends with the best validation accuracy")]


# Task 8: the challenge ------------------------------------------------------------------------

RUN_SETTINGS = {
    "model",
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


def examine_candidates(candidates: Mapping, max_epochs: int = 5) -> list[Finding]:
    """Each candidate: settings of `experiments.run`, a model *builder*, at most `max_epochs`."""
    if pending(candidates):
        return [todo("candidates is empty: add at least two ideas to compare")]
    if not isinstance(candidates, Mapping) or len(candidates) < 2:
        return [wrong("give at least two candidates, as {name: {settings}}, to choose between")]
    for name, config in candidates.items():
        unknown = set(config) - RUN_SETTINGS
        if unknown:
            return [wrong(f"{name!r}: {sorted(unknown)} are not settings of experiments.run")]
        if isinstance(config.get("model"), nn.Module) or not callable(config.get("model")):
            return [
                wrong(
                    f"{name!r}: 'model' must build a fresh network (a class or a lambda), "
                    "not a network already built: each run starts from new weights"
                )
            ]
        if config.get("epochs", 3) > max_epochs:
            return [
                wrong(
                    f"{name!r} trains {config['epochs']} epochs; the rule is at most {max_epochs}"
                )
            ]
    return [ok(f"{len(candidates)} candidates, each within {max_epochs} epochs")]
