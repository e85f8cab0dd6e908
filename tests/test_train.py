"""The training loop, evaluation and fit, on tiny synthetic problems with known answers."""

import math

import pytest
import torch
from torch import nn

from mnistlib import models, train


class FixedLogits(nn.Module):
    """A 'model' that returns the logits it was given, whatever the input; records grad mode."""

    def __init__(self, logits):
        super().__init__()
        self.logits = nn.Parameter(torch.as_tensor(logits, dtype=torch.float32))
        self.grad_enabled = []

    def forward(self, X):
        self.grad_enabled.append(torch.is_grad_enabled())
        return self.logits[: len(X)]


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
