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
