"""benchmark: every row trains one epoch, and the two set-ups of a row take turns."""

import torch
from conftest import tiny_mnist

from mnistlib import benchmark, data


def test_every_model_of_the_table_trains_one_epoch():
    loader = data.InMemoryLoader(tiny_mnist(64), batch_size=32)
    for make_model in benchmark.MODELS.values():
        assert benchmark.epoch_seconds(make_model, loader) > 0


def test_channels_last_keeps_the_outputs():
    torch.manual_seed(0)
    model = benchmark.MODELS["SmallCNN(4, 8)"]()
    X = torch.rand(3, 1, 28, 28)
    expected = model(X)
    torch.testing.assert_close(benchmark.channels_last(model)(X), expected)


def test_interleaved_alternates_baseline_and_candidate(monkeypatch):
    calls = []
    monkeypatch.setattr(benchmark, "epoch_seconds", lambda m, loader: calls.append(m) or 1.0)
    pairs = benchmark.interleaved(("a", None), ("b", None), repeats=3)
    assert calls == ["a", "b"] * 3 and pairs == [(1.0, 1.0)] * 3


def test_seconds_to_accuracy_is_counted_until_the_target_is_first_reached(monkeypatch):
    accuracies = iter([98.5, 99.2, 99.4])
    monkeypatch.setattr(benchmark.train, "evaluate", lambda model, loader: (next(accuracies), 0.1))
    monkeypatch.setattr(benchmark.train, "train_one_epoch", lambda *args, **kwargs: (0.0, 0.0))
    data_ = tiny_mnist(64)
    reached, per_epoch = benchmark.seconds_to_accuracy(data_, data_, target=99.0, batch_size=32)
    assert per_epoch == [98.5, 99.2, 99.4]
    assert reached is not None and 0 < reached < 1  # two epochs that do nothing
    never = iter([90.0] * 3)
    monkeypatch.setattr(benchmark.train, "evaluate", lambda model, loader: (next(never), 0.1))
    assert benchmark.seconds_to_accuracy(data_, data_, batch_size=32)[0] is None


def test_seconds_to_accuracy_trains_the_fast_recipe_on_real_batches():
    data_ = tiny_mnist(64)
    reached, per_epoch = benchmark.seconds_to_accuracy(
        data_, data_, target=0.0, epochs=1, batch_size=32
    )
    assert len(per_epoch) == 1 and 0 <= per_epoch[0] <= 100 and reached > 0
