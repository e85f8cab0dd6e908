"""tools/benchmark.py: every row trains one epoch, and the two set-ups of a row take turns."""

import contextlib
import importlib.util
from pathlib import Path

import pytest
import torch
from conftest import tiny_mnist

from mnistlib import data

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("benchmark", ROOT / "tools" / "benchmark.py")
benchmark = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(benchmark)


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
    monkeypatch.setattr(benchmark.train, "evaluate", lambda *args: (next(accuracies), 0.1))
    monkeypatch.setattr(benchmark.train, "train_one_epoch", lambda *args, **kwargs: (0.0, 0.0))
    data_ = tiny_mnist(64)
    reached, per_epoch, total = benchmark.seconds_to_accuracy(
        data_, data_, target=99.0, batch_size=32
    )
    # the fast recipe trains 3 epochs
    assert per_epoch == [98.5, 99.2, 99.4]
    assert reached is not None and 0 < reached < total < 1  # epochs that do nothing
    never = iter([90.0] * 3)
    monkeypatch.setattr(benchmark.train, "evaluate", lambda *args: (next(never), 0.1))
    assert benchmark.seconds_to_accuracy(data_, data_, batch_size=32)[0] is None


@pytest.mark.parametrize("recipe", list(benchmark.RECIPES))
def test_seconds_to_accuracy_trains_each_recipe_on_real_batches(recipe):
    data_ = tiny_mnist(64)
    reached, per_epoch, _ = benchmark.seconds_to_accuracy(
        data_, data_, recipe, target=0.0, epochs=1, batch_size=32
    )
    assert len(per_epoch) == 1 and 0 <= per_epoch[0] <= 100 and reached > 0
    assert (
        len(benchmark.seconds_to_accuracy(data_, data_, recipe, target=101.0)[1])
        == (benchmark.RECIPES[recipe][2])
    )  # the recipe's own number of epochs


def test_busy_processes_run_during_the_block_and_are_gone_after():
    with benchmark.busy_processes(2) as busy:
        assert len(busy) == 2 and all(process.poll() is None for process in busy)
    assert all(process.poll() is not None for process in busy)


def test_quiet_and_loaded_times_each_pair_alone_then_beside_busy_processes(monkeypatch):
    running, calls = [], []

    @contextlib.contextmanager
    def fake_busy(count):
        running.append(count)
        yield []
        running.pop()

    monkeypatch.setattr(benchmark, "busy_processes", fake_busy)
    seconds = iter([1.0, 3.0, 2.0, 5.0])
    monkeypatch.setattr(
        benchmark, "epoch_seconds", lambda m, loader: calls.append(list(running)) or next(seconds)
    )
    pairs = benchmark.quiet_and_loaded("model", None, repeats=2, busy=2)
    assert calls == [[], [2], [], [2]] and pairs == [(1.0, 3.0), (2.0, 5.0)]


def test_shared_machine_table_trains_every_row_and_prints_its_slow_down(capsys):
    rows = benchmark.shared_rows(tiny_mnist(64), convnet_batches=1)
    assert [len(loader) for _, loader in rows.values()] == [2, 1, 1]
    benchmark.print_shared(rows, repeats=1, busy=1)
    lines = capsys.readouterr().out.splitlines()
    assert "beside 1 busy" in lines[0] and len(lines) == 2 + len(rows)
    for name, line in zip(rows, lines[2:], strict=True):
        assert line.startswith(name) and "×" in line


def test_only_prints_the_one_table_asked_for(monkeypatch, capsys):
    monkeypatch.setattr(benchmark.data, "load_mnist", lambda: (tiny_mnist(64),) * 3)
    benchmark.main(["--only", "shared", "--repeats", "1"])
    out = capsys.readouterr().out
    assert "busy processes" in out and "speed-up" not in out and "99.0%" not in out


def test_the_table_names_the_wait_setting_in_force(monkeypatch):
    for name in benchmark.threads.USER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    assert benchmark.wait_setting() == "the OpenMP runtime's default"
    monkeypatch.setenv(*benchmark.threads.SETTING)
    assert benchmark.wait_setting().endswith("(mnistlib's)")
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    monkeypatch.delenv(benchmark.threads.SETTING[0])
    assert benchmark.wait_setting() == "OMP_WAIT_POLICY=ACTIVE (your own)"


def test_two_digit_recipe_trains_one_pass_and_reports_both_digits(monkeypatch):
    steps = []
    real_step = torch.optim.Adam.step
    monkeypatch.setattr(
        torch.optim.Adam, "step", lambda self, *a, **k: steps.append(1) or real_step(self, *a, **k)
    )
    data_ = tiny_mnist(64)
    top, bottom, seconds = benchmark.two_digit_recipe(data_, data_, pairings=(1, 2), batch_size=32)
    assert len(steps) == 2 * 64 // 32  # one pass over the canvases of both pairings
    assert 0 <= top <= 100 and 0 <= bottom <= 100 and seconds > 0


def test_range_of_gives_the_median_and_the_spread():
    assert benchmark.range_of([3.0, 1.0, 2.5], "%") == "2.50% (1.00-3.00%)"
    assert benchmark.range_of([7.8, 7.62, 7.75], " s", 1) == "7.8 s (7.6-7.8 s)"
