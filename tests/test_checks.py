"""The homework's checks, tried as students would: every wrong answer in the corpus is rejected
with its diagnosis and without the answer in the message; every right answer passes, however
unusual; the test set is named only with evidence; global state is left as found."""

import random
from typing import NamedTuple

import numpy as np
import pytest
import torch
from checks_answers import (
    BEST,
    CANDIDATES,
    LAST,
    SCHEDULE_RESULTS,
    SHARED,
    TEST,
    TRAIN,
    VAL,
    CNNFixedBatch,
    CNNOutputInForward,
    CNNSkipsConvolutions,
    Detached,
    FakeRun,
    FunctionalCNN,
    FunctionalMLP,
    LastLayerInForward,
    RNNOutputInForward,
    RNNTodo,
    accuracy_by,
    accuracy_on_a_global_loader,
    accuracy_restoring,
    accuracy_todo,
    all_convolutional,
    baseline,
    challenge_runs,
    cnn,
    history,
    linear,
    loaders,
    loaders_todo,
    lr_runs,
    mixed,
    rates_array,
    rnn,
    schedule_by_fit,
    schedule_loop,
    schedule_todo,
    schedule_with_fit,
    scores,
    sequential,
    small_mlp,
    square_root,
    swapped_loaders,
    torch_loaders,
    tutorial_layers,
)
from torch import nn

from mnistlib import checks, experiments, models, train
from mnistlib.checks import choosing
from mnistlib.experiments import Run


@pytest.fixture(autouse=True)
def fresh_session(monkeypatch):
    """Each test starts with no task checked and the test set not yet measured; the test accuracy
    of a fake run is its `test_acc`."""
    checks._status.clear()
    checks._challenge.clear()
    checks._tested.clear()
    monkeypatch.setattr(
        choosing, "test_accuracies", lambda runs, test_set: {k: r.test_acc for k, r in runs.items()}
    )


def verdict(capsys, task, *args):
    """(passed, printed text) of one check."""
    result = getattr(checks, f"task_{task}")(*args)
    return bool(result), capsys.readouterr().out


def approved(capsys, candidates=CANDIDATES):
    """Pass task 8a with `candidates`, so that task 8b holds the choice to them."""
    assert verdict(capsys, "8a", candidates)[0]


class Case(NamedTuple):
    task: str
    args: tuple
    words: str  # the words of the diagnosis the check must print
    before: object = None  # a call to make first, with capsys (to approve candidates)


def arguments(task, answer):
    """The arguments a notebook cell passes to the check of `task`, with `answer` in them."""
    data_sets = {"2": (TRAIN, VAL), "3b": (None,)}.get(task, ())
    return (*answer, *data_sets) if task in ("2", "3b", "5b", "8b") else (answer,)


# What each task's messages must never hold: pieces of its answer.
ANSWERS = {
    "1": ("model.eval()", "no_grad", "inference_mode"),
    "2": ("/ 64", "batch_size=batch_size", "* batch_size"),
    "4": ("Linear(784, 50)", "Sigmoid()", "Dropout(0.2)", "nn.Tanh()"),
    "5a": ("param_groups", "get_last_lr", "before scheduler.step()"),
    "6": ("256", "16 * 4 * 4", "4 * 4"),
    "7": ("squeeze", "batch_first=True", "[:, -1]", "h_n[-1]"),
}

WRONG = [
    # Task 1: an evaluation you can trust
    Case("1", lambda m, loader: 100 * 64 / 70, "never ran the model"),
    Case("1", accuracy_on_a_global_loader, "saw only"),
    Case("1", accuracy_by(stop=10), "saw only 30 of them"),
    Case("1", accuracy_by(stop=1), "saw only"),
    Case("1", accuracy_by(grad="set_grad_enabled"), "switched gradient recording off"),
    Case("1", accuracy_by(mode=None), "training mode"),
    Case("1", accuracy_by(grad=None), "recorded gradients"),
    Case("1", accuracy_by(scale=1), "fraction"),
    Case("1", accuracy_by(divide="per batch"), "averaged the accuracies"),
    Case("1", accuracy_by(divide="full batches"), "as if every batch were full"),
    Case("1", accuracy_by(divide="batches"), "not the percentage of images"),
    Case("1", lambda m, loader: round(accuracy_by()(m, loader)), "whole percent"),
    Case("1", lambda m, loader: 1 / 0, "ZeroDivisionError"),
    Case("1", lambda m, loader: (accuracy_by()(m, loader), "high")[1], "not a number"),
    # Task 2: loaders and a scaled learning rate
    Case("2", (loaders(train_bs=64, val_bs=None), linear), "went to the validation loader"),
    Case("2", (loaders(shuffle=False), linear), "not shuffled"),
    Case("2", (loaders(val=TEST), linear), "test set"),
    Case("2", (swapped_loaders, linear), "does not serve the training set"),
    Case("2", (loaders(norm=(True, False)), linear), "normalizes"),
    Case("2", (loaders(), lambda b: 0.05), "not scaled"),
    Case("2", (loaders(), lambda b: 0.05 * 64 / b), "wrong way"),
    Case("2", (loaders(), lambda b: 0.05 + (b - 64) / 1000), "not in proportion"),
    Case("2", (loaders(), lambda b: 0.1 * b / 64), "baseline's rate"),
    Case("2", (loaders(), lambda b: str(0.05 * b / 64)), "not a number"),
    Case("2", (lambda b: (1, 2, 3), linear), "two loaders"),
    # Task 3a: learning rates worth trying
    Case("3a", [float("nan"), 0.001, 0.01, 0.1], "finite number"),
    Case("3a", ["0.001", "0.01", "0.1", "0.3"], "is text, not a number"),
    Case("3a", [0.001, 0.01, 0.01, 0.1], "appears more than once"),
    Case("3a", [0.001, 0.01, 0.1, 1.0], "below 1"),
    Case("3a", [0.01, 0.1, 1, 10], "below 1"),
    Case("3a", [0, 0.001, 0.01, 0.1], "at least 0.0001"),
    Case("3a", [0.01, 0.1, 0.3], "4 to 6"),
    Case("3a", [0.01, 0.02, 0.03, 0.04], "factor 100"),
    Case("3a", [0.0001, 0.0002, 0.0003, 0.1], "crowded"),
    Case("3a", {0.001, 0.01, 0.1, 0.3}, "list of numbers"),
    # Task 3b: a rate chosen on validation
    Case("3b", ({k: r.test_acc for k, r in lr_runs().items()}, 0.01, lr_runs()), "test accuracies"),
    Case("3b", (scores(lambda h: h.train_acc[-1]), 1.0, lr_runs()), "training accuracy"),
    Case("3b", (scores(LAST), 0.01, lr_runs()), "another run is better"),
    Case("3b", (scores(LAST), 1.0, lr_runs()), "best by training accuracy"),
    Case("3b", (scores(LAST), 0.5, lr_runs()), "diverged"),
    Case("3b", (scores(LAST), 0.2, lr_runs()), "not one of the runs"),
    Case("3b", (scores(LAST), [0.1], lr_runs()), "not one of the runs"),
    Case("3b", ({0.01: 1, 0.1: 2, 1.0: 3}, 1.0, lr_runs()), "not validation scores"),
    Case("3b", ({0.01: 90.0, 0.1: 95.0}, 0.1, lr_runs()), "no entry for the run 1.0"),
    Case("3b", ([90.0, 95.0, 93.0], 0.1, lr_runs()), "one number per run"),
    # Task 4: the mixed MLP
    Case("4", mixed(["flat", "l1", "sigmoid", "l2", "l3", "relu", "l4"]), "sigmoid, nothing, ReLU"),
    Case(
        "4",
        mixed(["flat", "l1", "relu", "drop", "l2", "tanh", "l3", "sigmoid", "l4"]),
        "are: ReLU, tanh, sigmoid",
    ),
    Case(
        "4",
        sequential(
            nn.Linear(784, 50),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(50, 50),
            nn.ReLU(),
            nn.Linear(50, 50),
            nn.ReLU(),
            nn.Linear(50, 10),
        ),  # fmt: skip
        "are: ReLU, ReLU, ReLU",
    ),
    Case("4", sequential(*tutorial_layers(), flatten=False), "never flattened"),
    Case("4", sequential(*tutorial_layers()[:3], *tutorial_layers()), "shape error"),
    Case("4", sequential(*tutorial_layers(), nn.Softmax(dim=1)), "softmax"),
    Case("4", sequential(*tutorial_layers(), nn.ReLU()), "is ever negative"),
    Case("4", mixed([n for n in mixed.__defaults__[0] if n != "drop"]), "dropout"),
    Case("4", mixed(p=0.5), "rate of 0.5"),
    Case(
        "4",
        mixed(["flat", "l1", "drop", "sigmoid", "l2", "tanh", "l3", "relu", "l4"]),
        "somewhere other",
    ),
    Case("4", mixed(sizes=(64, 50, 50)), "784 → 64"),
    Case("4", sequential(*tutorial_layers()[:-1], nn.Linear(50, 5)), "(7, 10) logits"),
    Case("4", lambda: FunctionalMLP(dropout_follows_mode=False), "evaluation mode"),
    Case("4", LastLayerInForward, "built inside forward"),
    Case("4", Detached, "training would never change layers.1.weight"),
    Case(
        "4",
        sequential(*tutorial_layers()[:2], nn.Dropout(0.2, True), *tutorial_layers()[3:]),
        "a training step of the network raised RuntimeError",
    ),
    Case("4", sequential(*tutorial_layers())(), "not a network already built"),
    # Task 5a: StepLR
    Case("5a", schedule_loop(record="after"), "the *next* epoch"),
    Case("5a", schedule_loop(step="never"), "never changed"),
    Case("5a", schedule_loop(step="batch"), "within an epoch"),
    Case("5a", schedule_loop(step="before"), "one epoch early"),
    Case("5a", schedule_loop(step="twice"), "more than once per epoch"),
    Case("5a", schedule_loop(step_size=2), "use the step size the function receives"),
    Case("5a", schedule_loop(gamma=0.1), "use the gamma the function receives"),
    Case("5a", schedule_loop(lr=0.05), "the first epoch trained at 0.05"),
    Case("5a", schedule_loop(val="test"), "val_loader was never used"),
    Case("5a", schedule_loop(val="one batch"), "saw 20 of the 40 validation images"),
    Case("5a", schedule_loop(mode="train"), "training mode"),
    Case("5a", schedule_loop(val="before training"), "before each epoch's training"),
    Case("5a", schedule_loop(fraction=True), "fractions"),
    # Task 5b: a step size chosen on validation
    Case("5b", (1, SCHEDULE_RESULTS), "another run is better"),
    Case("5b", (5, SCHEDULE_RESULTS), "not one of the step sizes"),
    Case("5b", ("2", SCHEDULE_RESULTS), "not one of the step sizes"),
    Case("5b", ([2], SCHEDULE_RESULTS), "not one of the step sizes"),
    Case("5b", (4, {**SCHEDULE_RESULTS, 3: ([0.1], [93.0, 97.0])}), "another run is better"),
    # Task 6: a CNN
    Case("6", cnn(features=400), "shape error"),
    Case("6", cnn(features=16 * 4, flatten=False), "never flattened"),
    Case("6", cnn(end=(nn.Softmax(dim=1),)), "softmax"),
    Case("6", cnn(end=(nn.ReLU(),)), "is ever negative"),
    Case("6", lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), "no nn.Conv2d"),
    Case("6", CNNOutputInForward, "built inside forward"),
    Case("6", CNNFixedBatch, "64 rows for a batch of 7 images"),
    Case("6", CNNSkipsConvolutions, "never runs a convolution"),
    Case("6", lambda: nn.Sequential(nn.Conv2d(1, 8, 5), nn.Conv2d(4, 8, 5)), "in_channels"),
    # Task 7: an RNN that reads rows
    Case("7", rnn(reader="4D"), "(B, 1, 28, 28)"),
    Case("7", rnn(batch_first=False, read="no permute"), "batch_first"),
    Case("7", rnn(read="first"), "before the RNN has read the whole image"),
    Case("7", rnn(read="h_n"), "h_n"),
    Case("7", rnn(reader="pixels"), "784 time steps per image, one pixel per step"),
    Case("7", rnn(reader="columns"), "column"),
    Case("7", rnn(reader="half"), "14 time steps"),
    Case("7", rnn(bidirectional=True), "never change rnn.weight_hh_l0_reverse"),
    Case("7", rnn(layers=2, read="h_n[0]"), "never change rnn.weight_ih_l1"),
    Case("7", RNNOutputInForward, "built inside forward"),
    Case("7", lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), "no nn.RNN"),
    # Task 8a: the candidates
    Case("8a", {"a": {"make_model": nn.Linear}}, "at least two"),
    Case("8a", {**CANDIDATES, "c": {"make_model": models.MLP(30)}}, "fresh network"),
    Case("8a", {**CANDIDATES, "c": {"make_model": lambda: SHARED}}, "the same network"),
    Case(
        "8a", {**CANDIDATES, "c": {"make_model": lambda: nn.Sequential(SHARED)}}, "the same network"
    ),
    Case("8a", {**CANDIDATES, "c": {"make_model": small_mlp, "epochs": 20}}, "at most 5"),
    Case("8a", {**CANDIDATES, "c": {"make_model": small_mlp, "epochs": "5"}}, "whole number"),
    Case("8a", {**CANDIDATES, "c": {"make_model": small_mlp, "learning_rate": 1}}, "not settings"),
    Case("8a", {**CANDIDATES, "c": {"make_model": small_mlp, "val_data": TEST}}, "same data"),
    Case("8a", {**CANDIDATES, "c": {"make_model": small_mlp, "optimizer": "lbfgs"}}, "one of"),
    Case(
        "8a",
        {**CANDIDATES, "c": {"make_model": small_mlp, "optimizer": "adam", "momentum": 0.9}},
        "a setting of 'sgd' only",
    ),  # fmt: skip
    Case("8a", {**CANDIDATES, "c": {"make_model": small_mlp, "lr": -0.1}}, "positive number"),
    Case("8a", {**CANDIDATES, "c": {"lr": 0.1}}, "has no 'make_model'"),
    # Task 8b: the choice
    Case(
        "8b",
        ("big", challenge_runs(extra={"big": FakeRun(history(99.0, epochs=20))}), baseline()),
        "not one of the candidates task 8a approved",
        approved,
    ),
    Case(
        "8b",
        ("CNN, Adam", {"CNN, Adam": challenge_runs()["CNN, Adam"]}, baseline()),
        "has no run",
        approved,
    ),
    Case("8b", ("CNN, Adam", challenge_runs(), baseline(epochs=1)), "trained 1 epoch)", approved),
    Case(
        "8b", ("CNN, Adam", challenge_runs(), baseline(lr=0.01)), "another learning rate", approved
    ),
    Case(
        "8b",
        ("CNN, Adam", challenge_runs(), baseline(network=models.MLP(10))),
        "not the tutorial's",
        approved,
    ),
    Case(
        "8b",
        ("CNN, Adam", challenge_runs(), baseline(batches=1)),
        "another number of images",
        approved,
    ),
    Case(
        "8b", ("wide MLP", challenge_runs(wide_epochs=5), baseline()), "trained 5 epochs", approved
    ),
    Case("8b", ("wide MLP", challenge_runs(), baseline()), "another run is better", approved),
    Case("8b", ("CNN, Adam", challenge_runs(), baseline(val=93.5)), "keep exploring", approved),
    Case("8b", ("wide", challenge_runs(), baseline()), "not one of the candidates", approved),
]

CLOSE = {**lr_runs(), 0.01: FakeRun(history([90.0, 94.99]))}  # one image behind 0.1
RIGHT = [
    # Task 1
    Case("1", accuracy_by(), "percentage"),
    Case("1", accuracy_by(grad="inference_mode", divide="loader.images"), "percentage"),
    Case("1", accuracy_by(mode="train(False)"), "percentage"),
    Case("1", lambda m, loader: round(accuracy_by()(m, loader), 2), "percentage"),
    Case("1", accuracy_restoring, "percentage"),
    Case("1", lambda m, loader: train.evaluate(m, loader)[0], "percentage"),
    # Task 2
    Case("2", (loaders(), linear), "in proportion"),
    Case("2", (loaders(val_bs=None, kind=list), square_root), "square root"),
    Case("2", (torch_loaders, lambda b: b / 1280), "in proportion"),
    # Task 3a
    Case("3a", [0.001, 0.01, 0.05, 0.2, 0.5], "5 rates"),
    Case("3a", (0.3, 0.1, 0.03, 0.01, 0.003, 0.001), "6 rates"),
    Case("3a", rates_array(), "6 rates"),
    Case("3a", [1e-4, 1e-3, 1e-2, 1e-1], "4 rates"),
    # Task 3b
    Case("3b", (scores(LAST), 0.1, lr_runs()), "the best by validation accuracy after the last"),
    Case("3b", (scores(BEST), 1.0, lr_runs()), "the best by the best validation accuracy"),
    Case("3b", ({k: round(v, 2) for k, v in scores(LAST).items()}, 0.1, lr_runs()), "the best"),
    Case("3b", ({k: v / 100 for k, v in scores(LAST).items()}, 0.1, lr_runs()), "the best"),
    Case("3b", (scores(lambda h: h.val_loss[-1]), 0.1, lr_runs()), "by validation loss"),
    Case("3b", (scores(LAST, skip_diverged=False), 0.1, lr_runs()), "the best"),
    Case("3b", (scores(LAST, CLOSE), 0.01, CLOSE), "either is a sound choice"),
    # Task 4
    Case("4", mixed(), "tutorial's order"),
    Case("4", sequential(*tutorial_layers()), "tutorial's order"),
    Case("4", mixed(declare_reversed=True), "tutorial's order"),
    Case(
        "4",
        sequential(*tutorial_layers()[:6], nn.ReLU(True), nn.Linear(50, 10)),
        "tutorial's order",
    ),
    Case("4", FunctionalMLP, "tutorial's order"),
    # Task 5a
    Case("5a", schedule_loop(), "actually used"),
    Case("5a", schedule_loop(record="get_last_lr"), "actually used"),
    Case("5a", schedule_loop(gamma_parameter=False), "actually used"),
    Case("5a", schedule_with_fit, "actually used"),
    Case("5a", schedule_by_fit, "actually used"),
    # Task 5b
    Case("5b", (2, SCHEDULE_RESULTS), "the best by validation accuracy after the last epoch"),
    Case("5b", (4, SCHEDULE_RESULTS), "either is a sound choice"),
    Case("5b", (3, SCHEDULE_RESULTS), "the best by the best validation accuracy"),
    Case("5b", (np.int64(2), SCHEDULE_RESULTS), "the best"),
    # Task 6
    Case("6", cnn(), "5,994 parameters"),
    Case("6", cnn(features=16 * 7 * 7, padding=2), "the shapes fit"),
    Case("6", FunctionalCNN, "the shapes fit"),
    Case("6", all_convolutional, "the shapes fit"),
    # Task 7
    Case("7", rnn(), "one row per time step"),
    Case("7", rnn(kind=nn.GRU, read="h_n[-1]"), "one row per time step"),
    Case("7", rnn(kind=nn.RNN, batch_first=False), "one row per time step"),
    Case("7", rnn(project=True), "one row per time step"),
    Case("7", rnn(reader="flipped"), "one row per time step"),
    Case("7", rnn(layers=2, read="h_n[-1]"), "one row per time step"),
    Case("7", rnn(bidirectional=True, read="both directions"), "one row per time step"),
    # Task 8a
    Case("8a", CANDIDATES, "2 candidates"),
    Case(
        "8a",
        {
            "a": {"make_model": models.SmallCNN},
            "b": {
                "make_model": mixed(),
                "lr": 0.05,
                "momentum": 0.9,
                "epochs": 5,
            },
        },
        "2 candidates",
    ),  # fmt: skip
    # Task 8b
    Case("8b", ("CNN, Adam", challenge_runs(), baseline()), "beats the target", approved),
    Case(
        "8b",
        ("wide MLP", challenge_runs(wide=93.8), baseline()),
        "either is a sound choice",
        approved,
    ),
    Case(
        "8b",
        ("CNN, Adam", challenge_runs(extra={}), baseline(batches=4)),
        "beats the target of 93.00%",
        approved,
    ),
]


def run_case(capsys, case):
    if case.before:
        case.before(capsys)
    return verdict(capsys, case.task, *arguments(case.task, case.args))


@pytest.mark.parametrize("case", WRONG, ids=lambda c: f"{c.task}: {c.words}")
def test_a_wrong_answer_is_rejected_with_its_diagnosis(capsys, case):
    passed, out = run_case(capsys, case)
    assert not passed and "not right yet" in out and case.words in out, out
    assert not any(piece in out for piece in ANSWERS.get(case.task, ())), out
    assert "rerun the cells above" not in out and "CountingLoader" not in out


@pytest.mark.parametrize("case", RIGHT, ids=lambda c: f"{c.task}: {c.words}")
def test_a_right_answer_passes_however_it_is_written(capsys, case):
    passed, out = run_case(capsys, case)
    assert passed and case.words in out, out


def test_the_corpus_holds_four_wrong_and_two_unusual_right_answers_per_task():
    for task in checks.TASKS:
        assert sum(c.task == task for c in WRONG) >= 4, task
        assert sum(c.task == task for c in RIGHT) >= 2, task


UNFINISHED = [
    ("1", accuracy_todo),
    ("2", (loaders_todo, lambda b: ...)),
    ("3a", [...]),
    ("3b", ({k: ... for k in lr_runs()}, ..., lr_runs())),
    ("3b", ({}, ..., {})),
    ("4", sequential(...)),
    ("5a", schedule_todo),
    ("5b", (..., SCHEDULE_RESULTS)),
    ("5b", (..., {})),
    ("6", cnn(features=...)),
    ("7", RNNTodo),
    ("8a", {}),
    ("8b", (..., {}, baseline())),
]


@pytest.mark.parametrize(("task", "answer"), UNFINISHED, ids=[t for t, _ in UNFINISHED])
def test_an_unfinished_answer_is_not_done_yet(capsys, task, answer):
    passed, out = verdict(capsys, task, *arguments(task, answer))
    assert not passed and "not done yet" in out, out


# The test set: named only with evidence, never ranked ------------------------------------------


@pytest.mark.parametrize("chosen", [0.01, 0.1, 1.0])
def test_no_choice_tells_which_run_is_best_on_test(capsys, chosen):
    seen = set()
    for test in [(99.0, 90.0, 90.0), (90.0, 99.0, 90.0), (90.0, 90.0, 99.0)]:
        seen.add(verdict(capsys, "3b", scores(LAST), chosen, lr_runs(test), None)[1])
    assert len(seen) == 1
    assert "test" not in seen.pop()


def test_test_accuracies_leave_each_model_in_its_mode(monkeypatch):
    monkeypatch.undo()
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(784, 10)).train()
    runs = {"m": Run(model, history(90.0), 1.0)}
    assert list(choosing.test_accuracies(runs, TEST)) == ["m"] and model.training


# Global state ----------------------------------------------------------------------------------


def state():
    return (
        torch.is_grad_enabled(),
        torch.get_rng_state(),
        random.getstate(),
        np.random.get_state()[1].tolist(),
    )


@pytest.mark.parametrize(
    "case",
    [c for c in WRONG + RIGHT if c.task in ("1", "4", "5a", "7")][::3],
    ids=lambda c: f"{c.task}: {c.words}",
)
def test_a_check_leaves_grad_mode_and_generators_as_found(capsys, case):
    torch.manual_seed(123)
    before = state()
    run_case(capsys, case)
    after = state()
    assert before[0] == after[0] and torch.equal(before[1], after[1]) and before[2:] == after[2:]


def test_a_check_says_when_gradients_were_off_before_it(capsys):
    with torch.no_grad():
        passed, out = verdict(capsys, "1", accuracy_by())
        assert not torch.is_grad_enabled()
    assert not passed and "switched recording off for the whole session" in out


# The session: what it remembers -----------------------------------------------------------------


def test_a_check_never_raises_on_nonsense(capsys):
    for task, args in [("2", (42, "x", None, None)), ("5b", (1, {1: 2})), ("8b", (1, 2, 3))]:
        passed, out = verdict(capsys, task, *args)
        assert not passed and ("raised" in out or "could not make sense" in out or "…" in out)


def test_a_check_that_fails_itself_says_so_without_blaming_the_order_of_cells(capsys):
    passed, out = verdict(capsys, "5b", 1, {1: 2})
    assert not passed and "could not make sense of this answer (TypeError" in out
    assert "rerun the cells above" not in out


def test_task_8b_waits_for_task_8a(capsys):
    passed, out = verdict(capsys, "8b", "CNN, Adam", challenge_runs(), baseline())
    assert not passed and "not done yet" in out and "8a has not passed" in out


def test_test_once_measures_the_passed_choice_once(capsys):
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    runs = {"m": Run(model, history(95.0), 1.0), "n": Run(model, history(94.0), 1.0)}
    assert checks.test_once(runs, "m", TEST) is None
    assert "Not yet" in capsys.readouterr().out
    checks._status["8b"] = "passed"
    checks._challenge["chosen"] = "m"
    assert checks.test_once(runs, "n", TEST) is None
    assert "not the choice that passed" in capsys.readouterr().out
    model.train()
    first = checks.test_once(runs, "m", TEST)
    assert "measured once" in capsys.readouterr().out and model.training
    with torch.no_grad():
        model[1].weight.add_(1.0)  # a change after the test: must not be measured again
    assert checks.test_once(runs, "m", TEST) == first
    assert "measured already" in capsys.readouterr().out


def test_report_lists_every_task(capsys):
    checks.task_3a([...])
    checks.report()
    out = capsys.readouterr().out
    assert all(task.title in out for task in checks.TASKS.values())
    assert "not done yet" in out and "not checked yet" in out


def test_every_task_has_its_examiner():
    assert set(checks.TASKS) == {"1", "2", "3a", "3b", "4", "5a", "5b", "6", "7", "8a", "8b"}
    assert all(callable(getattr(checks, f"task_{t}")) for t in checks.TASKS)
    assert checks.TASKS["5a"].examine.__module__ == "mnistlib.checks.training"


def test_a_verdict_shows_nothing_as_a_cell_value():
    assert repr(checks.Verdict("1", True)) == "Verdict(task='1', passed=True)"
    assert checks.Verdict("1", True)._ipython_display_() is None


def test_a_sweep_with_a_diverged_run_is_chosen_from_as_the_solutions_do(capsys, monkeypatch):
    monkeypatch.undo()
    runs = experiments.compare(
        {lr: {"lr": lr} for lr in (0.01, 0.1, 1e30)},
        make_model=lambda: models.MLP(20),
        train_data=TRAIN,
        val_data=VAL,
        epochs=2,
    )
    assert runs[1e30].history.status == "diverged"
    scores = {lr: r.history.val_acc[-1] for lr, r in runs.items() if r.history.status == "finished"}
    capsys.readouterr()
    passed, out = verdict(capsys, "3b", scores, max(scores, key=scores.get), runs, TEST)
    assert passed, out
    assert "diverged" in verdict(capsys, "3b", scores, 1e30, runs, TEST)[1]
