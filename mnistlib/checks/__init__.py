"""The homework's self-checks. Each `task_*` runs a student's answer on inputs of its own, prints
in plain words what is right, what is wrong and where to look next (never the answer), and returns
True when all is right. A check never raises on a wrong or unfinished answer: it says so and
returns False. It leaves the notebook's grad mode and random generators as it found them.

`TASKS` maps each task to its title and to the function that examines it: `training` (tasks 1,
2 and 5a), `choosing` (3a, 3b, 5b, 8a and 8b) and `networks` (4, 6 and 7); `findings` holds what
they share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from mnistlib import data, train
from mnistlib.checks import choosing, networks, training
from mnistlib.checks.choosing import challenge_target
from mnistlib.checks.findings import Finding, as_found, wrong

__all__ = [
    "TASKS",
    "challenge_target",
    "report",
    "task_1",
    "task_2",
    "task_3a",
    "task_3b",
    "task_4",
    "task_5a",
    "task_5b",
    "task_6",
    "task_7",
    "task_8a",
    "task_8b",
    "test_once",
]


class Task(NamedTuple):
    """A task's title, and the function that examines an answer to it."""

    title: str
    examine: Callable[..., list[Finding]]


TASKS = {
    "1": Task("an evaluation you can trust", training.examine_accuracy),
    "2": Task("batch sizes, with the learning rate scaled", training.examine_batch_sizes),
    "3a": Task("learning rates worth trying", choosing.examine_rates),
    "3b": Task("a learning rate chosen on validation", choosing.examine_choice),
    "4": Task("activations: the tutorial's mixed MLP", networks.examine_mixed_mlp),
    "5a": Task("StepLR: the rate each epoch used", training.examine_schedule),
    "5b": Task("StepLR: a step size chosen on validation", choosing.examine_schedule_choice),
    "6": Task("a CNN whose shapes fit", networks.examine_cnn),
    "7": Task("an RNN that reads rows", networks.examine_rnn),
    "8a": Task("challenge: the candidates", choosing.examine_candidates),
    "8b": Task("challenge: the choice", choosing.examine_challenge),
}
MARKS = {"ok": "✔", "wrong": "✘", "todo": "…"}
GRAD_OFF = (
    "PyTorch was not recording gradients when this check started: a cell run before switched "
    "recording off for the whole session, and no training can work until it is back on"
)
_status: dict[str, str] = {}
_challenge: dict[str, Any] = {}  # the candidates task 8a approved, the choice task 8b passed
_tested: dict[str, Any] = {}  # the one test measurement: the candidate's name and its accuracy


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
    print(f"Task {task} ({TASKS[task].title}): {status}")
    for finding in findings:
        print(f"  {MARKS[finding.kind]} {finding.text}")
    if status == "not right yet":
        print("  Fix what is marked ✘, rerun your cell, then this one. The hint below may help.")
    return Verdict(task, status == "passed")


def _check(task: str, *answer) -> Verdict:
    """Examine an answer to one task, leaving global state as found; say so if the check itself
    cannot make sense of the answer, instead of raising."""
    with as_found() as grad:
        try:
            found = TASKS[task].examine(*answer)
        except Exception as exc:
            found = [
                wrong(
                    f"the check could not make sense of this answer ({type(exc).__name__}: "
                    f"{exc}): compare what your cell defines with what the task asks for"
                )
            ]
    return _verdict(task, found if grad else [wrong(GRAD_OFF), *found])


def task_1(accuracy: Callable) -> Verdict:
    """`accuracy(model, loader)`: percent correct over a whole loader, in evaluation mode."""
    return _check("1", accuracy)


def task_2(make_loaders: Callable, scaled_lr: Callable, train_set, val_set) -> Verdict:
    """`make_loaders(batch_size)` and `scaled_lr(batch_size)` for the batch-size comparison."""
    return _check("2", make_loaders, scaled_lr, train_set, val_set)


def task_3a(learning_rates) -> Verdict:
    """The list of learning rates to compare."""
    return _check("3a", learning_rates)


def task_3b(scores: Mapping, chosen_lr, lr_runs: Mapping, test_set) -> Verdict:
    """The scores a rate is chosen by, and the rate; the test set tells only if scores are test."""
    return _check("3b", scores, chosen_lr, lr_runs, test_set)


def task_4(mixed_mlp: Callable) -> Verdict:
    """The tutorial's Sigmoid/Tanh/ReLU network, written by the student."""
    return _check("4", mixed_mlp)


def task_5a(train_with_schedule: Callable) -> Verdict:
    """`train_with_schedule(model, train_loader, val_loader, epochs, step_size, gamma)`."""
    return _check("5a", train_with_schedule)


def task_5b(best_step_size, schedule_results: Mapping) -> Verdict:
    """The step size chosen from {step_size: (rates, val_accs)}."""
    return _check("5b", best_step_size, schedule_results)


def task_6(my_cnn: Callable) -> Verdict:
    """A function (or class) that builds the student's CNN."""
    return _check("6", my_cnn)


def task_7(row_rnn: Callable) -> Verdict:
    """An RNN over the 28 rows of an image, written by the student."""
    return _check("7", row_rnn)


def task_8a(candidates: Mapping) -> Verdict:
    """The challenge's candidates, {name: settings of experiments.run}; task 8b holds to them."""
    verdict = _check("8a", candidates)
    _challenge.clear()
    if verdict:
        _challenge["approved"] = {name: dict(config) for name, config in candidates.items()}
    return verdict


def task_8b(chosen, challenge_runs: Mapping, baseline) -> Verdict:
    """The candidate submitted: approved in 8a, the best on validation, and above the target."""
    approved = _challenge.get("approved", {})
    verdict = _check("8b", chosen, challenge_runs, baseline, approved)
    _challenge.pop("chosen", None)
    if verdict:
        _challenge["chosen"] = chosen
    return verdict


def test_once(challenge_runs: Mapping, chosen, test_set) -> float | None:
    """Measure the choice that passed task 8b on the test set, once; later calls repeat it."""
    if _tested:
        print(
            f"The test set was measured already: {_tested['acc']:.2f}% for {_tested['name']!r}. "
            "Measuring again after changing anything would make the test set help choose; "
            "that number is your result."
        )
        return _tested["acc"]
    if _status.get("8b") != "passed" or "chosen" not in _challenge:
        print(
            "Not yet: the test set is measured once, after the choice of task 8b passes its check."
        )
        return None
    if chosen != _challenge["chosen"]:
        print(
            f"Not measured: {chosen!r} is not the choice that passed task 8b "
            f"({_challenge['chosen']!r}); the test set measures that one."
        )
        return None
    model = challenge_runs[chosen].model
    mode, where = model.training, train.model_device(model)
    loader = data.InMemoryLoader(test_set, 1000, normalize=True, device=where)
    acc = train.evaluate(model, loader)[0]
    model.train(mode)
    _tested.update(name=chosen, acc=acc)
    val = challenge_runs[chosen].history.val_acc[-1]
    print(f"{chosen!r}: test accuracy {acc:.2f}% (validation {val:.2f}%), measured once.")
    return acc


def report() -> None:
    """One line per task: passed, not right yet, not done yet, or not checked in this session."""
    print("Your homework so far:")
    for task, entry in TASKS.items():
        print(f"  {task:>3}  {entry.title:44} {_status.get(task, 'not checked yet')}")
