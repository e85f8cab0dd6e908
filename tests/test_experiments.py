"""experiments: seeded runs, comparisons, one-change-at-a-time configs and the results table."""

import numpy as np
import pytest
import torch
from conftest import tiny_mnist
from torch import nn

from mnistlib import data, experiments, models, plots, train


def blow_up(optimizer, total):
    """A schedule that multiplies the rate by 1e30 from the third batch on."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 if step < 2 else 1e30)


class StopsAfter(nn.Module):
    """Softmax regression that gets Ctrl-C (a KeyboardInterrupt) at its `n`-th training batch."""

    def __init__(self, n):
        super().__init__()
        self.model, self.n, self.calls = models.SoftmaxRegression(), n, 0

    def forward(self, X):
        if self.training:
            self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return self.model(X)


TINY = {"train_data": tiny_mnist(20), "val_data": tiny_mnist(10, seed=1), "batch_size": 10}
BASE = {"batch_size": 8, "hidden": 3, "lr": 0.1, "momentum": 0.0, "activation": nn.ReLU}


def test_one_at_a_time_changes_one_setting_per_config():
    configs = experiments.one_at_a_time(
        BASE, {"lr 0.01": {"lr": 0.01}, "batch 16": {"batch_size": 16}}
    )
    assert list(configs) == ["baseline", "lr 0.01", "batch 16"]
    assert configs["baseline"] == BASE
    assert configs["lr 0.01"] == {**BASE, "lr": 0.01}
    assert configs["batch 16"] == {**BASE, "batch_size": 16}


def test_one_at_a_time_rejects_a_setting_the_base_lacks():
    with pytest.raises(ValueError, match=r"'typo' sets \['lr_rate'\]"):
        experiments.one_at_a_time(BASE, {"typo": {"lr_rate": 0.01}})


def test_format_table_by_hand():
    rows = [
        {"name": "baseline", "lr": 0.1, "activation": nn.ReLU, "val_acc": 91.456},
        {"name": "lr 0.01", "lr": 0.01, "activation": nn.LeakyReLU},
    ]
    table = experiments.format_table(
        rows, ["name", "lr", "activation", "val_acc"], {"val_acc": ".1f"}
    )
    assert table.splitlines() == [
        "    name    lr  activation  val_acc",
        "--------  ----  ----------  -------",
        "baseline   0.1        ReLU     91.5",
        " lr 0.01  0.01   LeakyReLU        -",
    ]


def test_format_table_rejects_a_string_of_columns():
    with pytest.raises(ValueError, match="list of column names, got 'name'"):
        experiments.format_table([{"name": "a"}], "name")


def test_run_is_seeded_so_the_same_seed_gives_the_same_weights_and_history():
    train_data, val_data = tiny_mnist(40, seed=1), tiny_mnist(20, seed=2)
    a = experiments.run(
        lambda: models.MLP(3), train_data, val_data, epochs=2, batch_size=8, progress=False
    )
    b = experiments.run(
        lambda: models.MLP(3), train_data, val_data, epochs=2, batch_size=8, progress=False
    )
    c = experiments.run(
        lambda: models.MLP(3), train_data, val_data, epochs=2, batch_size=8, progress=False, seed=1
    )
    assert a.history.batch_loss == b.history.batch_loss != c.history.batch_loss
    assert len(a.history.batch_loss) == 2 * 5 and len(a.history.val_acc) == 2
    assert torch.equal(a.model.layers[1].weight, b.model.layers[1].weight)


def test_run_steps_a_schedule_after_every_batch():
    def schedule(optimizer, total):
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / total)

    r = experiments.run(
        models.SoftmaxRegression,
        tiny_mnist(40),
        epochs=2,
        batch_size=10,
        lr=0.4,
        schedule=schedule,
        progress=False,
    )
    assert r.history.lr == pytest.approx([0.4, 0.2])  # 4 of 8 batches done after epoch 1


def test_run_refuses_a_model_instead_of_a_way_to_build_one():
    with pytest.raises(TypeError, match="function that builds a fresh model"):
        experiments.run(models.MLP(3), tiny_mnist(10))


def test_make_optimizer_by_name_and_bad_names():
    params = [nn.Parameter(torch.zeros(2))]
    assert isinstance(experiments.make_optimizer("adam", params, 0.01), torch.optim.Adam)
    sgd = experiments.make_optimizer("sgd", params, 0.1, momentum=0.9)
    assert sgd.param_groups[0]["momentum"] == 0.9
    assert isinstance(experiments.make_optimizer("rmsprop", params, 0.01), torch.optim.RMSprop)
    adagrad = experiments.make_optimizer("adagrad", params, 0.05)
    assert isinstance(adagrad, torch.optim.Adagrad) and adagrad.param_groups[0]["lr"] == 0.05
    expected = "one of \\['adagrad', 'adam', 'adamw', 'rmsprop', 'sgd'\\], got 'lbfgs'"
    with pytest.raises(ValueError, match=expected):
        experiments.make_optimizer("lbfgs", params, 0.1)
    with pytest.raises(ValueError, match="momentum is a setting of 'sgd'"):
        experiments.make_optimizer("adam", params, 0.1, momentum=0.9)


def test_compare_prints_a_line_per_run_and_results_tabulates_them(capsys):
    configs = {"lr 0.1": {"lr": 0.1}, "Adam": {"optimizer": "adam", "lr": 0.01}}
    runs = experiments.compare(
        configs,
        make_model=models.SoftmaxRegression,
        train_data=tiny_mnist(20),
        val_data=tiny_mnist(10),
        epochs=1,
        batch_size=10,
    )
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["lr 0.1", "Adam"]
    rows = experiments.results(runs, configs)
    assert [r["name"] for r in rows] == ["lr 0.1", "Adam"] and rows[1]["optimizer"] == "adam"
    assert all(r["params"] == 7850 and 0 <= r["val_acc"] <= 100 for r in rows)
    with pytest.raises(ValueError, match="got no runs"):
        experiments.compare({})


def test_a_diverging_run_raises_unless_it_is_kept():
    settings = {**TINY, "epochs": 3, "schedule": blow_up, "progress": False}
    with pytest.raises(train.Diverged, match="learning rate is probably too large"):
        experiments.run(lambda: models.MLP(50), **settings)
    kept = experiments.run(lambda: models.MLP(50), **settings, keep_diverged=True)
    assert kept.history.status == "diverged" and kept.history.epochs == 1  # 2 batches an epoch
    assert len(kept.history.batch_loss) == 2 and len(kept.history.val_acc) == 1


def test_compare_keeps_a_diverged_run_and_goes_on(capsys):
    configs = {"blows up": {"schedule": blow_up}, "steady": {}}
    runs = experiments.compare(configs, make_model=lambda: models.MLP(50), **TINY, epochs=3)
    assert [r.history.status for r in runs.values()] == ["diverged", "finished"]
    assert runs["blows up"].history.epochs == 1 and runs["steady"].history.epochs == 3
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("blows up: 1 epoch in ") and lines[0].endswith(
        "diverged during epoch 2"
    )
    rows = experiments.results(runs)
    assert rows[0]["train_acc"] == rows[0]["val_acc"] == "diverged"
    table = experiments.format_table(rows, ["name", "val_acc"], {"val_acc": ".1f"})
    assert table.splitlines()[2].split() == ["blows", "up", "diverged"]


def test_ctrl_c_in_compare_keeps_the_runs_so_far_and_names_those_not_run(capsys):
    def interrupted():
        raise KeyboardInterrupt

    configs = {"a": {}, "b": {"make_model": interrupted}, "c": {}}
    runs = experiments.compare(configs, make_model=models.SoftmaxRegression, **TINY, epochs=1)
    assert list(runs) == ["a"] and runs["a"].history.status == "finished"
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "interrupted: 1 of 3 runs kept; not run: b, c"


def test_ctrl_c_during_a_run_of_compare_keeps_its_finished_epochs(capsys):
    configs = {"a": {}, "b": {"make_model": lambda: StopsAfter(4)}, "c": {}}  # batch 2 of epoch 2
    runs = experiments.compare(configs, make_model=models.SoftmaxRegression, **TINY, epochs=3)
    assert list(runs) == ["a", "b"]
    assert runs["b"].history.status == "interrupted" and runs["b"].history.epochs == 1
    assert experiments.results(runs)[1]["val_acc"] == "interrupted"
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("b: 1 epoch in ") and out[1].endswith("; interrupted during epoch 2")
    assert out[2] == "interrupted: 2 of 3 runs kept; not run: c"


def test_runs_plot_and_summarize_like_their_histories():
    r = experiments.run(models.SoftmaxRegression, **TINY, epochs=np.int64(2), progress=False)
    assert r.history.epochs == 2
    assert train.summary(r, "a") == train.summary(r.history, "a")
    lines = plots.plot_history({"a": r}).axes[0].lines
    assert list(lines[0].get_ydata()) == r.history.train_loss


def test_run_refuses_a_device_this_machine_lacks(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    with pytest.raises(ValueError, match="device='cuda', but this machine has no CUDA device"):
        experiments.run(models.SoftmaxRegression, tiny_mnist(10), device="cuda")


def test_compare_refuses_settings_that_are_no_dict():
    with pytest.raises(TypeError, match="run 'a': expected its settings as a dict .* got float"):
        experiments.compare({"a": 0.1}, make_model=models.SoftmaxRegression)


def test_label_smoothing_trains_on_softened_targets():
    train_data = tiny_mnist(40, seed=1)
    runs = {
        s: experiments.run(models.SoftmaxRegression, train_data, epochs=1, batch_size=40,
                           lr=1e-12, label_smoothing=s, progress=False)
        for s in (0.0, 0.1)
    }  # fmt: skip
    X, y = next(iter(data.InMemoryLoader(train_data, 40, normalize=True)))
    logits = runs[0.0].model(X)  # the same seed: both start from these weights
    for s, r in runs.items():
        expected = nn.CrossEntropyLoss(label_smoothing=s)(logits, y).item()
        assert r.history.batch_loss[0] == pytest.approx(expected, rel=1e-4)
    assert runs[0.1].history.batch_loss[0] != pytest.approx(runs[0.0].history.batch_loss[0])


def test_run_trains_on_the_batches_its_augment_gives():
    train_data = tiny_mnist(40, seed=1)
    seen = []

    def blank(X):
        seen.append(tuple(X.shape))
        return torch.zeros_like(X)

    r = experiments.run(models.SoftmaxRegression, train_data, epochs=1, batch_size=40,
                        lr=1e-12, augment=blank, progress=False)  # fmt: skip
    assert seen == [(40, 1, 28, 28)]
    # The one batch holds every image, blanked and then normalized: the loss of the first step is
    # that of the initial weights (the same seed) on 40 blank images with their labels.
    train.set_seed(0)
    initial = models.SoftmaxRegression()
    blank_images = torch.full((40, 1, 28, 28), (0 - data.MEAN) / data.STD)
    labels = data.to_tensors(train_data)[1]
    expected = nn.CrossEntropyLoss()(initial(blank_images), labels).item()
    assert r.history.batch_loss[0] == pytest.approx(expected, rel=1e-4)
