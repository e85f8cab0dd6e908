"""experiments: seeded runs, comparisons, one-change-at-a-time configs and the results table."""

import pytest
import torch
from conftest import tiny_mnist
from torch import nn

from mnistlib import experiments, models

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
    with pytest.raises(ValueError, match="one of \\['adam', 'adamw', 'sgd'\\], got 'rmsprop'"):
        experiments.make_optimizer("rmsprop", params, 0.1)
    with pytest.raises(ValueError, match="momentum is a setting of 'sgd'"):
        experiments.make_optimizer("adam", params, 0.1, momentum=0.9)


def test_compare_prints_a_line_per_run_and_results_tabulates_them(capsys):
    configs = {"lr 0.1": {"lr": 0.1}, "Adam": {"optimizer": "adam", "lr": 0.01}}
    runs = experiments.compare(
        configs,
        model=models.SoftmaxRegression,
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
