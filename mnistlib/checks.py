"""The homework's self-checks. Each `task_*` runs a student's answer, prints in plain words what is
right, what is wrong and what to look at next (never the answer), and returns True when all is
right. A check never raises on a wrong or unfinished answer: it says so and returns False.

What each check looks for lives in `checks_train` (evaluation, loaders, scaled rates, schedules),
`checks_choice` (rates to try, choices on validation, the challenge) and `checks_models` (the
networks a student writes); `checks_findings` holds what they share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mnistlib import checks_choice as choice_
from mnistlib import checks_findings as findings
from mnistlib import checks_models as models_
from mnistlib import checks_train as train_
from mnistlib import data, train
from mnistlib.checks_findings import Finding

TASKS = {
    "1": "an evaluation you can trust",
    "2": "batch sizes, with the learning rate scaled",
    "3a": "learning rates worth trying",
    "3b": "a learning rate chosen on validation",
    "4": "activations: the tutorial's mixed MLP",
    "5a": "StepLR: the rate each epoch used",
    "5b": "StepLR: a step size chosen on validation",
    "6": "a CNN whose shapes fit",
    "7": "an RNN that reads rows",
    "8a": "challenge: the candidates",
    "8b": "challenge: the choice",
}
MARKS = {"ok": "✔", "wrong": "✘", "todo": "…"}
CHALLENGE_MARGIN = 1.0  # points of validation accuracy to beat the baseline by
_status: dict[str, str] = {}
_tested: dict[str, Any] = {}


class Verdict:
    """What a check returns: true when the task passed; shows nothing as a cell's last value."""

    def __init__(self, task: str, passed: bool):
        self.task, self.passed = task, passed

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"Verdict(task={self.task!r}, passed={self.passed})"

    def _ipython_display_(self) -> None:
        """The check has printed its findings already."""


def _verdict(task: str, findings: list[Finding]) -> Verdict:
    """Print the findings of one task, remember its status, return True when all are right."""
    kinds = {f.kind for f in findings}
    status = (
        "not done yet" if "todo" in kinds else "not right yet" if "wrong" in kinds else "passed"
    )
    _status[task] = status
    print(f"Task {task} ({TASKS[task]}): {status}")
    for finding in findings:
        print(f"  {MARKS[finding.kind]} {finding.text}")
    if status == "not right yet":
        print("  Fix what is marked ✘, rerun your cell, then this one. The hint below may help.")
    return Verdict(task, status == "passed")


def _run(task: str, examine: Callable[[], list[Finding]]) -> Verdict:
    """Run one check; when the check itself fails on an odd answer, say so instead of raising."""
    try:
        found = examine()
    except Exception as exc:
        found = [
            findings.wrong(
                f"the check could not run your answer ({type(exc).__name__}: "
                f"{exc}); rerun the cells above it, in order"
            )
        ]
    return _verdict(task, found)


def task_1(accuracy: Callable) -> Verdict:
    """`accuracy(model, loader)`: percent correct over a whole loader, in evaluation mode."""
    return _run("1", lambda: train_.examine_accuracy(accuracy))


def task_2(make_loaders: Callable, scaled_lr: Callable, train_set, val_set) -> Verdict:
    """`make_loaders(batch_size)` and `scaled_lr(batch_size)` for the batch-size comparison."""

    def examine():
        found = train_.examine_loaders(make_loaders, train_set, val_set)
        return found + train_.examine_scaled_lr(scaled_lr)

    return _run("2", examine)


def task_3a(learning_rates) -> Verdict:
    """The list of learning rates to compare."""
    return _run("3a", lambda: choice_.examine_rates(learning_rates))


def task_3b(val_accuracies: Mapping, chosen_lr, lr_runs: Mapping, test_set) -> Verdict:
    """The scores the choice is made on, and the chosen rate. The test set only tells the check
    whether it was used to choose; no test number is printed."""
    return _run("3b", lambda: choice_.examine_choice(val_accuracies, chosen_lr, lr_runs, test_set))


def task_4(mixed_mlp: Callable) -> Verdict:
    """The tutorial's Sigmoid/Tanh/ReLU network, written by the student."""
    return _run("4", lambda: models_.examine_mixed_mlp(mixed_mlp))


def task_5a(train_with_schedule: Callable) -> Verdict:
    """`train_with_schedule(model, train_loader, val_loader, epochs, step_size)`."""
    return _run("5a", lambda: train_.examine_schedule(train_with_schedule))


def task_5b(best_step_size, schedule_results: Mapping) -> Verdict:
    """The step size chosen from {step_size: (rates, val_accs)}."""
    return _run("5b", lambda: choice_.examine_schedule_choice(best_step_size, schedule_results))


def task_6(my_cnn: Callable) -> Verdict:
    """A function (or class) that builds the student's CNN."""
    return _run("6", lambda: models_.examine_cnn(my_cnn))


def task_7(row_rnn: Callable) -> Verdict:
    """An RNN over the 28 rows of an image, written by the student."""
    return _run("7", lambda: models_.examine_rnn(row_rnn))


def task_8a(candidates: Mapping) -> Verdict:
    """The challenge's candidates: {name: settings of experiments.run}."""
    return _run("8a", lambda: choice_.examine_candidates(candidates))


def challenge_target(baseline) -> float:
    """The number to beat: the baseline run's final validation accuracy plus the margin."""
    return baseline.history.val_acc[-1] + CHALLENGE_MARGIN


def task_8b(chosen, challenge_runs: Mapping, baseline, test_set) -> Verdict:
    """The candidate submitted: the best on validation, and above the target."""

    def examine():
        found = choice_.examine_choice(None, chosen, challenge_runs, test_set)
        if any(f.kind != "ok" for f in found):
            return found
        reached, target = challenge_runs[chosen].history.val_acc[-1], challenge_target(baseline)
        if reached <= target:
            return [
                *found,
                findings.wrong(
                    f"{chosen!r} reaches {reached:.2f}% on validation, not "
                    f"above the target of {target:.2f}%: keep exploring"
                ),
            ]
        return [
            *found,
            findings.ok(f"{reached:.2f}% on validation beats the target of {target:.2f}%"),
        ]

    return _run("8b", examine)


def test_once(challenge_runs: Mapping, chosen, test_set) -> float | None:
    """Measure the chosen model on the test set, once; a second call only repeats the first
    result. Returns the test accuracy (%), or None while task 8b has not passed."""
    if _status.get("8b") != "passed":
        print(
            "Not yet: the test set is measured once, after the choice of task 8b passes its check."
        )
        return None
    if _tested:
        print(
            f"The test set was measured already: {_tested['acc']:.2f}% for {_tested['name']!r}. "
            "Measuring again after changing anything would make the test set help choose; "
            "that number is your result."
        )
        return _tested["acc"]
    model = challenge_runs[chosen].model
    loader = data.InMemoryLoader(test_set, 1000, normalize=True, device=train.model_device(model))
    acc = train.evaluate(model, loader)[0]
    _tested.update(name=chosen, acc=acc)
    val = challenge_runs[chosen].history.val_acc[-1]
    print(f"{chosen!r}: test accuracy {acc:.2f}% (validation {val:.2f}%), measured once.")
    return acc


def report() -> None:
    """One line per task: passed, not right yet, not done yet, or not checked in this session."""
    print("Your homework so far:")
    for task, title in TASKS.items():
        print(f"  {task:>3}  {title:44} {_status.get(task, 'not checked yet')}")
