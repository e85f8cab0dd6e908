"""The training loop and its options (clipping, the hook after each step, keeping the best epoch,
a schedule on the validation loss), evaluation, fit and train_steps, on tiny synthetic problems
with known answers."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from mnistlib import experiments, models, train


class FixedLogits(nn.Module):
    """A 'model' that returns the logits it was given, whatever the input; records grad mode."""

    def __init__(self, logits):
        super().__init__()
        self.logits = nn.Parameter(torch.as_tensor(logits, dtype=torch.float32))
        self.grad_enabled = []

    def forward(self, X):
        self.grad_enabled.append(torch.is_grad_enabled())
        return self.logits[: len(X)]


class BreaksAfter(nn.Module):
    """A linear model whose scores are NaN from its `n`-th forward pass in training mode on."""

    def __init__(self, n):
        super().__init__()
        self.linear = nn.Linear(784, 10)
        self.n, self.calls = n, 0

    def forward(self, X):
        scores = self.linear(X.flatten(1))
        if self.training:
            self.calls += 1
            if self.calls >= self.n:
                scores = scores * float("nan")
        return scores


class InterruptedLoader:
    """Yields `batches` each pass, until Ctrl-C (a KeyboardInterrupt) at batch `at` of pass `on`."""

    def __init__(self, batches, on, at):
        self.batches, self.on, self.at, self.passes = batches, on, at, 0

    def __iter__(self):
        self.passes += 1
        for number, batch in enumerate(self.batches, start=1):
            if (self.passes, number) == (self.on, self.at):
                raise KeyboardInterrupt
            yield batch


def easy_batches(n_batches=6, batch_size=20, seed=0):
    """Images whose class c lights up pixel row c: a problem a linear model learns at once."""
    g = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(n_batches):
        y = torch.randint(0, 10, (batch_size,), generator=g)
        X = torch.rand(batch_size, 1, 28, 28, generator=g) * 0.1
        X[torch.arange(batch_size), 0, y, :] = 1.0
        batches.append((X, y))
    return batches


def test_set_seed_makes_runs_repeat():
    train.set_seed(7)
    a, w_a = torch.rand(3), models.SoftmaxRegression().linear.weight
    train.set_seed(7)
    b, w_b = torch.rand(3), models.SoftmaxRegression().linear.weight
    assert torch.equal(a, b) and torch.equal(w_a, w_b)


def test_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert train.device() == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert train.device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert train.device() == torch.device("cuda")


def test_evaluate_by_hand():
    # Logits for 4 images: the first three put all weight on classes 1, 2, 3; the last is uniform.
    logits = torch.zeros(4, 10)
    logits[0, 1] = logits[1, 2] = logits[2, 3] = 100.0
    model = FixedLogits(logits)
    y = torch.tensor([1, 2, 0, 5])
    acc, loss = train.evaluate(model, [(torch.zeros(4, 1, 28, 28), y)])
    # Right on images 0 and 1; image 2 puts ~0 probability on class 0 (loss 100); the last
    # has probability 1/10 on every class (loss ln 10); argmax of equal logits is class 0.
    assert acc == pytest.approx(50.0)
    assert loss == pytest.approx((0 + 0 + 100 + math.log(10)) / 4, rel=1e-4)
    assert model.grad_enabled == [False] and model.logits.grad is None


def test_evaluate_weights_batches_by_size():
    model = FixedLogits(torch.eye(10)[[0, 0, 0]] * 50)  # always class 0
    batches = [
        (torch.zeros(1, 1, 28, 28), torch.tensor([0])),
        (torch.zeros(3, 1, 28, 28), torch.tensor([1, 1, 1])),
    ]
    acc, _ = train.evaluate(model, batches)
    assert acc == pytest.approx(25.0)  # 1 right of 4 images, not the mean of 100% and 0%


def test_empty_loaders_raise():
    model = models.SoftmaxRegression()
    with pytest.raises(ValueError, match="yielded no batches"):
        train.evaluate(model, [])
    with pytest.raises(ValueError, match="yielded no batches"):
        train.train_one_epoch(model, [], nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters()))
    with pytest.raises(ValueError, match="yielded no batches"):
        train.predict(model, [])


def test_train_one_epoch_lowers_the_loss_and_records_each_batch():
    train.set_seed(0)
    model = models.SoftmaxRegression()
    batches = easy_batches()
    _, before = train.evaluate(model, batches)
    losses = []
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    acc, loss = train.train_one_epoch(model, batches, nn.CrossEntropyLoss(), optimizer, losses)
    _, after = train.evaluate(model, batches)
    assert len(losses) == len(batches)
    assert loss == pytest.approx(sum(losses) / len(losses))  # equal batch sizes
    assert 0 <= acc <= 100 and after < before / 2


def test_fit_records_history_and_the_rate_used_during_each_epoch():
    train.set_seed(0)
    model = models.SoftmaxRegression()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    batches = easy_batches()
    history = train.fit(
        model,
        batches,
        batches[:2],
        epochs=3,
        optimizer=optimizer,
        scheduler=scheduler,
        progress=False,
    )
    assert history.epochs == 3
    assert history.lr == [0.4, 0.2, 0.1]
    assert len(history.val_acc) == len(history.seconds) == 3
    assert len(history.batch_loss) == 3 * len(batches)
    assert history.val_acc[-1] == 100.0 and history.train_loss[-1] < history.train_loss[0]


def test_fit_without_validation_and_bad_epochs():
    model = models.SoftmaxRegression()
    history = train.fit(model, easy_batches(2), epochs=1, progress=False)
    assert history.val_acc == [] and history.epochs == 1
    with pytest.raises(ValueError, match="epochs must be a whole number of at least 1, got 0"):
        train.fit(model, easy_batches(2), epochs=0)


def test_predict_returns_predictions_and_labels():
    model = FixedLogits(torch.eye(10)[[3, 3]] * 10)
    preds, labels = train.predict(model, [(torch.zeros(2, 1, 28, 28), torch.tensor([3, 4]))])
    assert preds.tolist() == [3, 3] and labels.tolist() == [3, 4]


def test_fit_prints_one_summary_line_and_no_bar_when_bars_are_disabled(capsys, monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    train.set_seed(0)
    model = models.SoftmaxRegression()
    history = train.fit(model, easy_batches(), easy_batches(2), epochs=2, name="softmax")
    out, err = capsys.readouterr()
    assert out == train.summary(history, "softmax") + "\n" and err == ""
    assert out.startswith("softmax: 2 epochs in ") and "validation accuracy" in out


def test_fit_takes_numpy_integers_for_epochs_and_builds_sgd_with_the_given_rate():
    model = models.SoftmaxRegression()
    history = train.fit(model, easy_batches(2), epochs=np.int64(2), lr=0.5, progress=False)
    assert history.epochs == 2 and len(history.batch_loss) == 4
    assert history.lr == [0.5, 0.5]
    assert train.fit(model, easy_batches(2), epochs=1, progress=False).lr == [0.1]


def test_fit_trains_a_model_that_reads_images_as_rows():
    class Rows(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.head = nn.RNN(28, 16, batch_first=True), nn.Linear(16, 10)

        def forward(self, X):
            return self.head(self.rnn(X)[0][:, -1])

    train.set_seed(0)
    batches = [(X.squeeze(1), y) for X, y in easy_batches(3)]  # (B, 28, 28): one row per step
    history = train.fit(Rows(), batches, batches, epochs=2, lr=0.5, progress=False)
    assert history.epochs == 2 and 0 <= history.val_acc[-1] <= 100


def test_ctrl_c_during_fit_returns_the_epochs_that_finished(capsys, monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    train.set_seed(0)
    batches = easy_batches(3)
    loader = InterruptedLoader(batches, on=2, at=2)
    history = train.fit(models.SoftmaxRegression(), loader, batches[:1], epochs=3, name="soft")
    assert history.status == "interrupted" and history.epochs == 1
    assert len(history.batch_loss) == 3  # the batch of the unfinished epoch is not kept
    assert len(history.lr) == len(history.val_acc) == len(history.seconds) == 1
    out = capsys.readouterr().out
    assert out == train.summary(history, "soft") + "\n"
    assert out.startswith("soft: 1 epoch in ") and out.endswith("; interrupted during epoch 2\n")


def test_a_diverging_fit_raises_with_the_epochs_that_finished():
    batches = easy_batches(3)
    with pytest.raises(train.Diverged, match="became nan at batch 2 of this epoch") as caught:
        train.fit(BreaksAfter(5), batches, epochs=3, progress=False)  # batch 2 of epoch 2
    history = caught.value.history
    assert history.status == "diverged" and history.epochs == 1
    assert len(history.batch_loss) == 3
    assert train.summary(history, "x").endswith("; diverged during epoch 2")


def test_evaluating_a_model_with_nan_weights_gives_what_it_predicts_and_a_nan_loss():
    model = models.SoftmaxRegression()
    with torch.no_grad():
        model.linear.weight.fill_(float("nan"))
    batches = [(torch.zeros(4, 1, 28, 28), torch.tensor([0, 1, 2, 3]))]
    acc, loss = train.evaluate(model, batches)  # the argmax of NaN scores is class 0
    assert acc == 25.0 and math.isnan(loss)


def test_summary_takes_a_run_and_a_history_with_no_epochs():
    history = train.History(train_acc=[50.0], train_loss=[1.0], seconds=[2.0])
    run = experiments.Run(models.SoftmaxRegression(), history, 3.0)
    assert train.summary(run, "a") == train.summary(history, "a")
    assert train.summary(history, "a") == "a: 1 epoch in 2.0 s, training accuracy 50.00%"
    history = train.History()
    history.status = "interrupted"
    assert train.summary(history, "b") == "b: 0 epochs in 0.0 s; interrupted during epoch 1"
    with pytest.raises(TypeError, match="expected a History .* got dict"):
        train.summary({"a": run})


def test_check_device_refuses_a_device_this_machine_lacks(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert train.check_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(ValueError, match="device='cuda:1', but this machine has no CUDA device 1"):
        train.check_device("cuda:1")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    for name in ("cuda", "mps"):
        with pytest.raises(ValueError, match=f"has no {name.upper()} device; pass device=train"):
            train.check_device(name)
    assert train.check_device("cpu") == torch.device("cpu")


def test_on_batch_gets_every_step_and_can_end_the_epoch():
    train.set_seed(0)
    model = models.SoftmaxRegression()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    steps, losses = [], []

    def three_then_stop(step):
        steps.append(step)
        model.eval()  # a hook may evaluate; training mode comes back for the next batch
        return step.number < 3

    acc, loss = train.train_one_epoch(
        model, easy_batches(6), nn.CrossEntropyLoss(), optimizer, losses, on_batch=three_then_stop
    )
    assert [s.number for s in steps] == [1, 2, 3] and [s.loss for s in steps] == losses
    assert loss == pytest.approx(sum(losses) / 3)  # the figures cover the batches trained
    assert all(s.grad_norm > 0 for s in steps)
    assert train.train_one_epoch(
        model, easy_batches(2), nn.CrossEntropyLoss(), optimizer, on_batch=lambda s: None
    )  # a hook that returns nothing lets the epoch run
    assert model.training


def test_max_norm_scales_the_gradient_down_and_the_step_reports_it_before():
    def one_step(max_norm):
        model = FixedLogits(torch.zeros(20, 10))
        optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
        steps = []
        batches = easy_batches(1)
        loss_fn = nn.CrossEntropyLoss()
        train.train_one_epoch(
            model, batches, loss_fn, optimizer, max_norm=max_norm, on_batch=steps.append
        )
        return steps[0].grad_norm, model.logits.detach().norm().item()

    # from equal logits the gradient of each row is (1/10 - onehot) / 20, of norm √0.9 / 20
    norm, moved = one_step(None)
    assert norm == pytest.approx(math.sqrt(20 * 0.9) / 20) and moved == pytest.approx(norm)
    norm_clipped, moved_clipped = one_step(0.01)
    assert norm_clipped == pytest.approx(norm) and moved_clipped == pytest.approx(0.01, rel=1e-4)
    with pytest.raises(ValueError, match="max_norm must be a positive number such as 1.0"):
        one_step(0)


def test_train_steps_runs_on_through_epochs_and_keeps_norms_before_clipping():
    train.set_seed(0)
    model = models.SoftmaxRegression()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    losses, norms = train.train_steps(model, easy_batches(4), optimizer, steps=10, max_norm=1e-3)
    assert len(losses) == len(norms) == 10  # two epochs of 4 batches and 2 of a third
    assert min(norms) > 1e-3  # measured before they were clipped to 1e-3
    with pytest.raises(ValueError, match="steps must be a whole number of at least 1"):
        train.train_steps(model, easy_batches(1), optimizer, steps=0)


def test_history_extend_appends_epochs_and_takes_a_status_that_did_not_finish():
    history = train.History(train_loss=[1.0], val_loss=[0.9], batch_loss=[1.2, 0.8])
    stopped = train.History(train_loss=[0.5], val_loss=[0.95], batch_loss=[0.6])
    stopped.status = "interrupted"
    history.extend(stopped)
    assert history.train_loss == [1.0, 0.5] and history.batch_loss == [1.2, 0.8, 0.6]
    assert history.status == "interrupted" and history.best_epoch == 1
    history.extend(train.History(train_loss=[0.2], val_loss=[0.1]))
    assert history.status == "interrupted" and history.best_epoch == 3
    with pytest.raises(ValueError, match="no validation loss was recorded"):
        _ = train.History(train_loss=[1.0]).best_epoch


class LossPerEvaluation(nn.Module):
    """Scores whose cross entropy for label 0 is `losses[k]` at the model's k-th evaluation; in
    training, scores that teach nothing."""

    def __init__(self, losses):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(10))
        self.losses, self.evaluations = losses, 0

    def forward(self, X):
        if self.training:
            return torch.zeros(len(X), 10) + self.weight
        right = math.exp(-self.losses[self.evaluations])
        self.evaluations += 1
        p = torch.full((len(X), 10), (1 - right) / 9)
        p[:, 0] = right
        return p.log()


@pytest.mark.parametrize("live", [True, False])
def test_keep_best_puts_back_the_epoch_of_the_lowest_validation_loss(capsys, monkeypatch, live):
    monkeypatch.setenv("TQDM_DISABLE", "" if live else "1")
    torch.manual_seed(0)
    batches = easy_batches(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=5.0)  # too large: the loss jumps around
    history = train.fit(
        model, batches, batches, 4, optimizer, keep_best=True, patience=2, name="lr 5"
    )
    best = history.best_epoch
    assert 1 <= best <= history.epochs <= 4
    assert best == 1 + min(range(history.epochs), key=history.val_loss.__getitem__)
    _, loss_now = train.evaluate(model, batches)
    assert loss_now == pytest.approx(history.val_loss[best - 1])  # the best weights are back
    lines = capsys.readouterr().out.splitlines()
    stopped = "; stopped early, no improvement for 2 epochs" if history.epochs < 4 else ""
    kept = (
        f"; the weights of epoch {best} kept (validation accuracy {history.val_acc[best - 1]:.2f}%)"
    )
    assert lines[-1] == train.summary(history, "lr 5") + stopped + kept
    if live:  # a line per epoch while the bar runs, above it
        assert len(lines) == history.epochs + 1
        assert lines[0].startswith("epoch  1: ") and lines[0].endswith("%  (best so far)")
        assert "validation loss" in lines[0] and "accuracy" in lines[0]
    else:  # a saved output (make book): the summary alone
        assert len(lines) == 1


def test_patience_stops_after_that_many_epochs_without_a_new_best():
    history = train.History(val_loss=[1.0, 0.5, 0.6, 0.7, 0.4])
    assert history.best_epoch == 5
    model = models.SoftmaxRegression()
    batches = easy_batches(2)
    with pytest.raises(ValueError, match="pass keep_best=True too"):
        train.fit(model, batches, batches, patience=2, progress=False)
    with pytest.raises(ValueError, match="patience must be a whole number of epochs"):
        train.fit(model, batches, batches, keep_best=True, patience=0, progress=False)
    with pytest.raises(ValueError, match="keep_best keeps the epoch .* give fit a validation"):
        train.fit(model, batches, keep_best=True, progress=False)


def test_on_batch_returning_false_stops_fit_as_ctrl_c_does():
    train.set_seed(0)
    batches = easy_batches(3)
    calls = []

    def five_batches(step):
        calls.append(step.number)
        return len(calls) < 5

    history = train.fit(
        models.SoftmaxRegression(), batches, batches, 4, progress=False, on_batch=five_batches
    )
    assert history.status == "interrupted" and history.epochs == 1 and calls == [1, 2, 3, 1, 2]
    assert len(history.batch_loss) == 3  # the unfinished epoch's batches are not kept


def test_reduce_lr_on_plateau_steps_on_the_validation_loss():
    model = LossPerEvaluation([1.0, 0.5, 0.7, 0.8])
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.1, patience=0)
    batches = [(torch.zeros(2, 1, 28, 28), torch.tensor([0, 0]))]
    history = train.fit(model, batches, batches, 4, optimizer, scheduler=plateau, progress=False)
    assert history.lr == pytest.approx([1.0, 1.0, 1.0, 0.1])  # epoch 3's loss rose: lowered
    with pytest.raises(ValueError, match="give fit a validation loader and keep step_every"):
        train.fit(model, batches, None, 1, optimizer, scheduler=plateau, progress=False)
    with pytest.raises(ValueError, match="once an epoch, not after every batch"):
        train.train_one_epoch(model, batches, nn.CrossEntropyLoss(), optimizer, scheduler=plateau)
