"""The homework's checks: each passes the right answer, names each usual mistake, never prints the
answer, and never raises on a wrong or unfinished one."""

import pytest
import torch
from conftest import tiny_mnist
from torch import nn

from mnistlib import checks, checks_choice, data, train
from mnistlib.experiments import Run
from mnistlib.train import History


@pytest.fixture(autouse=True)
def fresh_status():
    """Each test starts with no task checked and the test set not yet measured."""
    checks._status.clear()
    checks._tested.clear()
    yield


def verdict(capsys, check, *args):
    """(passed, printed text) of one check."""
    result = check(*args)
    return bool(result), capsys.readouterr().out


# Task 1 -----------------------------------------------------------------------------------------


def accuracy_right(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for X, y in loader:
            correct += (model(X).argmax(1) == y).sum().item()
            total += len(y)
    return 100 * correct / total


def _count(model, loader, first_only=False, fraction=False, per_batch=False):
    model.eval()
    accs, correct, total = [], 0, 0
    with torch.no_grad():
        for X, y in loader:
            hits = (model(X).argmax(1) == y).sum().item()
            accs.append(100 * hits / len(y))
            correct, total = correct + hits, total + len(y)
            if first_only:
                break
    if per_batch:
        return sum(accs) / len(accs)
    return correct / total if fraction else 100 * correct / total


def accuracy_no_eval(model, loader):
    correct = total = 0
    with torch.no_grad():
        for X, y in loader:
            correct += (model(X).argmax(1) == y).sum().item()
            total += len(y)
    return 100 * correct / total


def accuracy_with_grad(model, loader):
    model.eval()
    correct = total = 0
    for X, y in loader:
        correct += (model(X).argmax(1) == y).sum().item()
        total += len(y)
    return 100 * correct / total


def test_task_1_passes_the_right_answer(capsys):
    passed, out = verdict(capsys, checks.task_1, accuracy_right)
    assert passed and "passed" in out


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        (accuracy_no_eval, "training mode"),
        (accuracy_with_grad, "recorded gradients"),
        (lambda m, loader: _count(m, loader, first_only=True), "only the first batch"),
        (lambda m, loader: _count(m, loader, fraction=True), "fraction"),
        (lambda m, loader: _count(m, loader, per_batch=True), "averaged the accuracies"),
        (lambda m, loader: 1 / 0, "ZeroDivisionError"),
        (lambda m, loader: "high", "not a number"),
    ],
)
def test_task_1_names_each_mistake(capsys, answer, named):
    passed, out = verdict(capsys, checks.task_1, answer)
    assert not passed and "not right yet" in out and named in out
    assert "model.eval()" not in out and "no_grad" not in out


def test_task_1_unfinished_is_not_done_yet(capsys):
    def accuracy(model, loader): ...

    passed, out = verdict(capsys, checks.task_1, accuracy)
    assert not passed and "not done yet" in out


# Task 2 -----------------------------------------------------------------------------------------

TRAIN, VAL, TEST = tiny_mnist(200, 1), tiny_mnist(100, 2), tiny_mnist(100, 3)


def loaders(train_bs=None, val_bs=1000, shuffle=True, norm=(True, True), val=VAL):
    def make_loaders(batch_size):
        tl = data.InMemoryLoader(TRAIN, train_bs or batch_size, shuffle=shuffle, normalize=norm[0])
        return tl, data.InMemoryLoader(val, val_bs or batch_size, normalize=norm[1])

    return make_loaders


def linear(batch_size):
    return 0.05 * batch_size / 64


def test_task_2_passes_loaders_and_a_linear_or_square_root_rule(capsys):
    assert verdict(capsys, checks.task_2, loaders(), linear, TRAIN, VAL)[0]
    root = lambda b: 0.05 * (b / 64) ** 0.5  # noqa: E731
    assert verdict(capsys, checks.task_2, loaders(val_bs=None), root, TRAIN, VAL)[0]


@pytest.mark.parametrize(
    ("make", "lr", "named"),
    [
        (loaders(train_bs=64, val_bs=None), linear, "went to the validation loader"),
        (loaders(shuffle=False), linear, "not shuffled"),
        (loaders(val=TEST), linear, "test set"),
        (loaders(norm=(True, False)), linear, "normalizes"),
        (loaders(), lambda b: 0.05, "not scaled"),
        (loaders(), lambda b: 0.05 * 64 / b, "wrong way"),
        (loaders(), lambda b: 0.05 + (b - 64) / 1000, "not in proportion"),
        (loaders(), lambda b: 0.1 * b / 64, "baseline's rate"),
        (lambda b: (1, 2, 3), linear, "two loaders"),
    ],
)
def test_task_2_names_each_mistake(capsys, make, lr, named):
    passed, out = verdict(capsys, checks.task_2, make, lr, TRAIN, VAL)
    assert not passed and named in out
    assert "/ 64" not in out and "batch_size=batch_size" not in out


def test_task_2_unfinished_is_not_done_yet(capsys):
    def make_loaders(batch_size):
        return data.InMemoryLoader(TRAIN, batch_size=...), None

    passed, out = verdict(capsys, checks.task_2, make_loaders, lambda b: ..., TRAIN, VAL)
    assert not passed and "not done yet" in out


def test_a_check_never_raises_on_nonsense(capsys):
    passed, out = verdict(capsys, checks.task_2, 42, "x", None, None)
    assert not passed and "raised" in out or "could not run" in out


def test_a_check_that_fails_itself_reports_it_instead_of_raising(capsys):
    passed, out = verdict(capsys, checks._run, "1", lambda: 1 / 0)
    assert not passed
    assert "could not run your answer (ZeroDivisionError: division by zero)" in out


# Task 3 -----------------------------------------------------------------------------------------


def test_task_3a_rates(capsys):
    assert verdict(capsys, checks.task_3a, [0.001, 0.01, 0.05, 0.2, 1.0])[0]
    for rates, named in [
        ([...], "not done yet"),
        ([0.01, 0.1, 1.0], "4 to 6"),
        ([0.01, 0.02, 0.03, 0.04], "factor 100"),
        ([0.0001, 0.0002, 0.0003, 0.1], "crowded"),
        ([0.01, 0.1, 1, 10], "between 0.0001 and 1"),
    ]:
        passed, out = verdict(capsys, checks.task_3a, rates)
        assert not passed and named in out


def fake_runs(val, train_acc, val_loss=None):
    runs = {}
    for key in val:
        h = History(val_acc=[50.0, val[key]], train_acc=[50.0, train_acc[key]])
        h.val_loss = [1.0, (val_loss or {}).get(key, 1.0)]
        runs[key] = Run(model=None, history=h, seconds=1.0)
    return runs


VAL_ACC = {0.01: 90.0, 0.1: 95.0, 1.0: 93.0}
TRAIN_ACC = {0.01: 90.5, 0.1: 96.0, 1.0: 99.0}
TEST_ACC = {0.01: 96.5, 0.1: 94.0, 1.0: 92.0}


@pytest.fixture
def lr_runs(monkeypatch):
    monkeypatch.setattr(checks_choice, "test_accuracies", lambda runs, test_set: TEST_ACC)
    return fake_runs(VAL_ACC, TRAIN_ACC)


def test_task_3b_passes_a_choice_on_validation(capsys, lr_runs):
    passed, out = verdict(capsys, checks.task_3b, dict(VAL_ACC), 0.1, lr_runs, None)
    assert passed and "validation" in out


@pytest.mark.parametrize(
    ("scores", "chosen", "named"),
    [
        (TEST_ACC, 0.01, "test accuracies"),
        (TRAIN_ACC, 1.0, "training accuracy"),
        (VAL_ACC, 0.01, "best on the test set"),
        (VAL_ACC, 1.0, "best on training accuracy"),
        (VAL_ACC, 0.5, "not one of the runs"),
        ({0.01: 1, 0.1: 2, 1.0: 3}, 1.0, "not the validation accuracies"),
    ],
)
def test_task_3b_names_each_mistake(capsys, lr_runs, scores, chosen, named):
    passed, out = verdict(capsys, checks.task_3b, dict(scores), chosen, lr_runs, None)
    assert not passed and named in out
    assert "96.5" not in out and "94.0" not in out  # no test number is printed


def test_task_3b_unfinished_is_not_done_yet(capsys, lr_runs):
    passed, out = verdict(capsys, checks.task_3b, {k: ... for k in lr_runs}, ..., lr_runs, None)
    assert not passed and "not done yet" in out
    assert "not done yet" in verdict(capsys, checks.task_3b, {}, ..., {}, None)[1]


# Task 4 -----------------------------------------------------------------------------------------


def mixed(layers, flatten=True):
    class MixedMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(*([nn.Flatten()] if flatten else []), *layers())

        def forward(self, X):
            return self.layers(X)

    return MixedMLP


def RIGHT():  # noqa: N802 (a constant list of layers, built fresh each time)
    return [nn.Linear(784, 50), nn.Sigmoid(), nn.Dropout(0.2), nn.Linear(50, 50),
            nn.Tanh(), nn.Linear(50, 50), nn.ReLU(), nn.Linear(50, 10)]  # fmt: skip


def test_task_4_passes_the_tutorial_network(capsys):
    assert verdict(capsys, checks.task_4, mixed(RIGHT))[0]


@pytest.mark.parametrize(
    ("builder", "named"),
    [
        (mixed(RIGHT, flatten=False), "never flattened"),
        (mixed(lambda: [*RIGHT()[:3], nn.Linear(784, 50), *RIGHT()[4:]]), "shape error"),
        (mixed(lambda: [*RIGHT(), nn.Softmax(dim=1)]), "softmax"),
        (
            mixed(
                lambda: [
                    nn.Linear(784, 50),
                    nn.ReLU(),
                    nn.Dropout(0.2),
                    nn.Linear(50, 50),
                    nn.ReLU(),
                    nn.Linear(50, 50),
                    nn.ReLU(),
                    nn.Linear(50, 10),
                ]
            ),
            "activations, in order, are: ReLU, ReLU, ReLU",
        ),
        (mixed(lambda: [x for x in RIGHT() if not isinstance(x, nn.Dropout)]), "dropout"),
        (
            mixed(
                lambda: [
                    nn.Linear(784, 64),
                    nn.Sigmoid(),
                    nn.Dropout(0.2),
                    nn.Linear(64, 50),
                    nn.Tanh(),
                    nn.Linear(50, 50),
                    nn.ReLU(),
                    nn.Linear(50, 10),
                ]
            ),
            "layer sizes",
        ),
        (mixed(lambda: [*RIGHT()[:-1], nn.Linear(50, 5)]), "(8, 10) logits"),
    ],
)
def test_task_4_names_each_mistake(capsys, builder, named):
    passed, out = verdict(capsys, checks.task_4, builder)
    assert not passed and named in out
    assert "Linear(784, 50)" not in out and "Sigmoid()" not in out


def test_task_4_unfinished_is_not_done_yet(capsys):
    passed, out = verdict(capsys, checks.task_4, mixed(lambda: [...]))
    assert not passed and "not done yet" in out


# Task 5 -----------------------------------------------------------------------------------------


def schedule_loop(record="before", step="epoch", val="given"):
    def train_with_schedule(model, train_loader, val_loader, epochs, step_size):
        loss_fn = nn.CrossEntropyLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=0.1)
        batch_scheduler = scheduler if step == "batch" else None
        rates, val_accs = [], []
        for _ in range(epochs):
            if record == "before":
                rates.append(optimizer.param_groups[0]["lr"])
            train.train_one_epoch(model, train_loader, loss_fn, optimizer, None, batch_scheduler)
            measured_on = val_loader if val == "given" else data.InMemoryLoader(TEST, 50)
            val_accs.append(train.evaluate(model, measured_on)[0])
            if step == "epoch":
                scheduler.step()
            if record == "after":
                rates.append(scheduler.get_last_lr()[0])
        return rates, val_accs

    return train_with_schedule


def test_task_5a_passes_rates_read_before_the_step(capsys):
    passed, out = verdict(capsys, checks.task_5a, schedule_loop())
    assert passed and "actually used" in out


@pytest.mark.parametrize(
    ("loop", "named"),
    [
        (schedule_loop(record="after"), "after scheduler.step()"),
        (schedule_loop(step="never"), "never changed"),
        (schedule_loop(step="batch"), "within an epoch"),
        (schedule_loop(val="test"), "val_loader was never used"),
    ],
)
def test_task_5a_names_each_mistake(capsys, loop, named):
    passed, out = verdict(capsys, checks.task_5a, loop)
    assert not passed and named in out


def test_task_5a_unfinished_is_not_done_yet(capsys):
    def train_with_schedule(model, train_loader, val_loader, epochs, step_size):
        rates, val_accs = [], []
        for _ in range(epochs):
            ...
        return rates, val_accs

    assert "not done yet" in verdict(capsys, checks.task_5a, train_with_schedule)[1]


def test_task_5b_choice(capsys):
    results = {1: ([0.1], [90.0, 91.0]), 2: ([0.1], [90.0, 93.0]), 4: ([0.1], [90.0, 92.0])}
    assert verdict(capsys, checks.task_5b, 2, results)[0]
    assert "another step size" in verdict(capsys, checks.task_5b, 4, results)[1]
    assert "not one of" in verdict(capsys, checks.task_5b, 3, results)[1]
    assert "not done yet" in verdict(capsys, checks.task_5b, ..., results)[1]
    assert "not done yet" in verdict(capsys, checks.task_5b, ..., {})[1]


# Task 6 -----------------------------------------------------------------------------------------


def cnn(features=256, flatten=True, end=()):
    def my_cnn():
        return nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
            *([nn.Flatten()] if flatten else []), nn.Linear(features, 10), *end,
        )  # fmt: skip

    return my_cnn


def test_task_6_passes_shapes_that_fit(capsys):
    assert verdict(capsys, checks.task_6, cnn())[0]


@pytest.mark.parametrize(
    ("builder", "named"),
    [
        (cnn(features=400), "shape error"),
        (cnn(features=16 * 4, flatten=False), "never flattened"),
        (cnn(end=(nn.Softmax(dim=1),)), "softmax"),
        (lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), "no nn.Conv2d"),
    ],
)
def test_task_6_names_each_mistake(capsys, builder, named):
    passed, out = verdict(capsys, checks.task_6, builder)
    assert not passed and named in out
    assert "256" not in out and "16 * 4 * 4" not in out


def test_task_6_unfinished_is_not_done_yet(capsys):
    assert "not done yet" in verdict(capsys, checks.task_6, cnn(features=...))[1]


# Task 7 -----------------------------------------------------------------------------------------


def rnn(batch_first=True, squeeze=True, read="last", input_size=28):
    class RowRNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(input_size, 16, batch_first=batch_first)
            self.out = nn.Linear(16, 10)

        def forward(self, X):
            rows = X.squeeze(1) if squeeze else X
            if input_size == 1:
                rows = X.reshape(len(X), 784, 1)
            outputs, (h_n, _) = self.rnn(rows)
            if read == "h_n":
                return self.out(h_n)
            if read == "h_n_last":
                return self.out(h_n[-1])
            return self.out(outputs[:, -1] if read == "last" else outputs[:, 0])

    return RowRNN


def test_task_7_passes_a_row_reader(capsys):
    assert verdict(capsys, checks.task_7, rnn())[0]
    assert verdict(capsys, checks.task_7, rnn(read="h_n_last"))[0]


@pytest.mark.parametrize(
    ("builder", "named"),
    [
        (rnn(squeeze=False), "(B, 1, 28, 28)"),
        (rnn(batch_first=False), "batch_first"),
        (rnn(read="first"), "last row"),
        (rnn(read="h_n"), "h_n"),
        (rnn(input_size=1), "28 pixels"),
    ],
)
def test_task_7_names_each_mistake(capsys, builder, named):
    passed, out = verdict(capsys, checks.task_7, builder)
    assert not passed and named in out
    assert "squeeze" not in out and "batch_first=True" not in out


def test_task_7_unfinished_is_not_done_yet(capsys):
    class RowRNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = ...

        def forward(self, X): ...

    assert "not done yet" in verdict(capsys, checks.task_7, RowRNN)[1]


# Task 8 -----------------------------------------------------------------------------------------


def test_task_8a_candidates(capsys):
    good = {"a": {"model": nn.Linear}, "b": {"model": nn.Linear, "epochs": 5, "lr": 0.01}}
    assert verdict(capsys, checks.task_8a, good)[0]
    for candidates, named in [
        ({}, "not done yet"),
        ({"a": {"model": nn.Linear}}, "at least two"),
        ({**good, "c": {"model": nn.Linear(2, 2)}}, "fresh network"),
        ({**good, "c": {"model": nn.Linear, "epochs": 20}}, "at most 5"),
        ({**good, "c": {"model": nn.Linear, "learning_rate": 1}}, "not settings"),
    ]:
        passed, out = verdict(capsys, checks.task_8a, candidates)
        assert not passed and named in out


def challenge(monkeypatch):
    monkeypatch.setattr(checks_choice, "test_accuracies", lambda runs, test_set: TEST_ACC)
    runs = fake_runs(VAL_ACC, TRAIN_ACC)
    baseline = Run(model=None, history=History(val_acc=[92.0]), seconds=1.0)
    return runs, baseline


def test_task_8b_and_the_target(capsys, monkeypatch):
    runs, baseline = challenge(monkeypatch)
    passed, out = verdict(capsys, checks.task_8b, 0.1, runs, baseline, None)
    assert passed and "beats the target of 93.00%" in out
    high = Run(model=None, history=History(val_acc=[94.5]), seconds=1.0)
    passed, out = verdict(capsys, checks.task_8b, 0.1, runs, high, None)
    assert not passed and "target" in out
    passed, out = verdict(capsys, checks.task_8b, 0.01, runs, baseline, None)
    assert not passed and "test set was used" in out


def test_test_once_waits_for_the_choice_and_measures_once(capsys):
    train.set_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    runs = {"m": Run(model=model, history=History(val_acc=[95.0]), seconds=1.0)}
    assert checks.test_once(runs, "m", TEST) is None
    assert "Not yet" in capsys.readouterr().out
    checks._status["8b"] = "passed"
    first = checks.test_once(runs, "m", TEST)
    assert "measured once" in capsys.readouterr().out
    with torch.no_grad():
        model[1].weight.add_(1.0)  # a change after the test: must not be measured again
    assert checks.test_once(runs, "m", TEST) == first
    assert "measured already" in capsys.readouterr().out


def test_report_lists_every_task(capsys):
    checks.task_3a([...])
    checks.report()
    out = capsys.readouterr().out
    assert all(title in out for title in checks.TASKS.values())
    assert "not done yet" in out and "not checked yet" in out


def test_a_verdict_shows_nothing_as_a_cell_value():
    assert repr(checks.Verdict("1", True)) == "Verdict(task='1', passed=True)"
    assert checks.Verdict("1", True)._ipython_display_() is None
