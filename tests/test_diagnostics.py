"""Diagnostics: initialization, gradient norms worked out by hand, smoothing, sorting by label,
the grid-search runner and its table, and the plots' labels."""

import math

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from mnistlib import diagnostics, models
from mnistlib.train import History


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def tiny_mnist(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` random uint8 images with labels 0, 1, ..., 9, 0, 1, ..., as InMemoryLoader takes them."""
    images = torch.randint(0, 256, (n, 28, 28), generator=torch.Generator().manual_seed(seed))
    return images.to(torch.uint8), torch.arange(n) % 10


@pytest.mark.parametrize("model", [models.MLP(30, batch_norm="after"), models.SmallCNN()])
def test_zero_init_zeroes_every_parameter(model):
    assert diagnostics.zero_init_(model) is model
    assert all((p == 0).all() for p in model.parameters())


def test_zero_init_makes_every_hidden_unit_identical_so_relu_outputs_zero():
    model = diagnostics.zero_init_(models.MLP(5))
    hidden = model.layers[:3](torch.rand(4, 1, 28, 28))
    assert torch.equal(hidden, torch.zeros(4, 5))


def test_zero_init_rejects_what_is_not_a_module():
    with pytest.raises(TypeError, match="expected an nn.Module, got list"):
        diagnostics.zero_init_([torch.zeros(3)])


def test_kaiming_init_scales_weights_by_fan_in_and_zeroes_biases():
    torch.manual_seed(0)
    model = diagnostics.kaiming_init_(nn.Sequential(nn.Linear(800, 400), nn.Linear(400, 10)))
    first, second = model[0], model[1]
    assert first.weight.std().item() == pytest.approx(math.sqrt(2 / 800), rel=0.02)
    assert second.weight.std().item() == pytest.approx(math.sqrt(2 / 400), rel=0.05)
    assert (first.bias == 0).all() and (second.bias == 0).all()


def test_gradient_norm_of_a_zero_linear_layer_by_hand():
    # Logits 0 → softmax (1/2, 1/2); for label 0, ∂loss/∂z = p - onehot = (-1/2, 1/2), and
    # ∂loss/∂W = outer(∂loss/∂z, x) = [[-1/2, -1], [1/2, 1]] for x = (1, 2): norm √2.5.
    model = diagnostics.zero_init_(nn.Sequential(nn.Linear(2, 2)))
    norms = diagnostics.gradient_norms(model, torch.tensor([[1.0, 2.0]]), torch.tensor([0]))
    assert norms == {"0": pytest.approx(math.sqrt(2.5))}
    assert model[0].weight.grad is None  # cleared afterwards


def test_gradient_norms_come_in_layer_order_and_vanish_in_deep_sigmoid_nets():
    torch.manual_seed(0)
    model = models.MLP(32, 32, 32, 32, activation=nn.Sigmoid)
    X, y = torch.rand(64, 1, 28, 28), torch.arange(64) % 10
    norms = diagnostics.gradient_norms(model, X, y)
    assert list(norms) == ["layers.1", "layers.3", "layers.5", "layers.7", "layers.9"]
    values = list(norms.values())
    assert values[0] < values[-1] / 100  # sigmoid' <= 1/4 shrinks the gradient at every layer


def test_gradient_norms_reject_bad_input():
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        diagnostics.gradient_norms(models.MLP(4), torch.rand(3, 1, 28, 28), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="Linear or Conv2d layers, got ReLU"):
        diagnostics.gradient_norms(nn.ReLU(), torch.rand(1, 2), torch.tensor([0]))


def test_sorted_by_label_keeps_each_image_with_its_label():
    images, labels = tiny_mnist(30)
    sorted_images, sorted_labels = diagnostics.sorted_by_label((images, labels))
    assert sorted_labels.tolist() == [d for d in range(10) for _ in range(3)]
    assert torch.equal(sorted_images[:3], images[[0, 10, 20]])  # the three 0s, in their order


def test_moving_average_by_hand():
    assert diagnostics.moving_average([1, 2, 3, 4], 2) == [1.5, 2.5, 3.5]
    assert diagnostics.moving_average([1, 2, 3, 4], 4) == [2.5]
    assert diagnostics.moving_average([5.0, 7.0], 1) == [5.0, 7.0]


@pytest.mark.parametrize("window", [0, 5])
def test_moving_average_rejects_a_window_that_does_not_fit(window):
    with pytest.raises(ValueError, match=f"between 1 and len\\(values\\)=4, got {window}"):
        diagnostics.moving_average([1, 2, 3, 4], window)


BASE = {"batch_size": 8, "hidden": 3, "lr": 0.1, "momentum": 0.0, "activation": nn.ReLU}


def test_one_at_a_time_changes_one_setting_per_config():
    configs = diagnostics.one_at_a_time(
        BASE, {"lr 0.01": {"lr": 0.01}, "batch 16": {"batch_size": 16}}
    )
    assert [c["name"] for c in configs] == ["baseline", "lr 0.01", "batch 16"]
    assert configs[0] == {"name": "baseline", **BASE}
    assert configs[1] == {**BASE, "lr": 0.01, "name": "lr 0.01"}
    assert configs[2] == {**BASE, "batch_size": 16, "name": "batch 16"}


def test_one_at_a_time_rejects_a_setting_the_base_lacks():
    with pytest.raises(ValueError, match=r"'typo' sets \['lr_rate'\]"):
        diagnostics.one_at_a_time(BASE, {"typo": {"lr_rate": 0.01}})


def test_grid_search_returns_one_seeded_row_per_config():
    configs = diagnostics.one_at_a_time(BASE, {"LeakyReLU": {"activation": nn.LeakyReLU}})
    train_data, val_data = tiny_mnist(40, seed=1), tiny_mnist(20, seed=2)
    rows = diagnostics.grid_search(configs, train_data, val_data, epochs=1)
    again = diagnostics.grid_search(configs[:1], train_data, val_data, epochs=1)
    assert [r["name"] for r in rows] == ["baseline", "LeakyReLU"]
    assert all(r["params"] == 784 * 3 + 3 + 3 * 10 + 10 for r in rows)
    assert all(0 <= r["val_acc"] <= 100 and 0 <= r["train_acc"] <= 100 for r in rows)
    assert any(isinstance(m, nn.LeakyReLU) for m in rows[1]["model"].modules())
    assert again[0]["val_acc"] == rows[0]["val_acc"]  # same seed, same result


def test_grid_search_names_the_missing_setting():
    with pytest.raises(ValueError, match=r"lacks \['momentum'\]"):
        config = {k: v for k, v in BASE.items() if k != "momentum"}
        diagnostics.grid_search([config], tiny_mnist(10), tiny_mnist(10), epochs=1)


def test_format_table_by_hand():
    rows = [
        {"name": "baseline", "lr": 0.1, "activation": nn.ReLU, "val_acc": 91.456},
        {"name": "lr 0.01", "lr": 0.01, "activation": nn.LeakyReLU},
    ]
    table = diagnostics.format_table(
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
        diagnostics.format_table([{"name": "a"}], "name")


def history(batch_loss, epochs, lr=0.1):
    h = History(batch_loss=list(batch_loss), lr=[lr] * epochs)
    h.train_loss = [1.0] * epochs
    return h


def test_plot_batch_losses_smooths_each_run_and_labels_the_axes():
    runs = {"a": history(range(10), 2), "b": history([1.0] * 10, 2)}
    ax = diagnostics.plot_batch_losses(runs, window=4)
    a_line, b_line = ax.get_lines()[:2]
    assert list(a_line.get_xdata()) == list(range(4, 11))
    assert list(a_line.get_ydata()) == [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5]
    assert ax.get_xlabel() == "iteration (mini-batch)"
    assert ax.get_ylabel().startswith("training loss")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]


def test_plot_batch_losses_shrinks_the_window_for_a_short_run():
    ax = diagnostics.plot_batch_losses(history([2.0, 4.0], 1), window=50)
    assert list(ax.get_lines()[0].get_ydata()) == [3.0]


def test_plot_batch_losses_rejects_what_is_not_a_history():
    with pytest.raises(TypeError, match="expected a History"):
        diagnostics.plot_batch_losses({"a": [0.5, 0.4]})
    with pytest.raises(ValueError, match="no batch losses"):
        diagnostics.plot_batch_losses(History())


def test_plot_lr_shows_the_rate_of_each_epoch_on_a_log_scale():
    h = history([1.0] * 4, 4)
    h.lr = [0.5, 0.5, 0.05, 0.05]
    ax = diagnostics.plot_lr({"StepLR": h})
    assert list(ax.get_lines()[0].get_ydata()) == [0.5, 0.5, 0.05, 0.05]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0.05", "0.5"]


def test_plot_gradient_norms_draws_one_line_per_model():
    ax = diagnostics.plot_gradient_norms(
        {"a": {"l1": 1e-6, "l2": 1e-2}, "b": {"l1": 1.0, "l2": 0.5}}
    )
    assert [list(line.get_xdata()) for line in ax.get_lines()] == [[1, 2], [1, 2]]
    assert ax.get_yscale() == "log" and ax.get_title()
    with pytest.raises(ValueError, match="got nothing"):
        diagnostics.plot_gradient_norms({})
