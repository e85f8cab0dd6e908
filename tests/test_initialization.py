"""initialization: zeros, He, Xavier and fixed-std weights, checked against their variances."""

import math

import pytest
import torch
from torch import nn

from mnistlib import initialization, models


@pytest.mark.parametrize("model", [models.MLP(30, batch_norm="after"), models.SmallCNN()])
def test_zero_init_zeroes_every_parameter(model):
    assert initialization.zero_init_(model) is model
    assert all((p == 0).all() for p in model.parameters())


def test_zero_init_makes_every_hidden_unit_identical_so_relu_outputs_zero():
    model = initialization.zero_init_(models.MLP(5))
    hidden = model.layers[:3](torch.rand(4, 1, 28, 28))
    assert torch.equal(hidden, torch.zeros(4, 5))


def test_zero_init_rejects_what_is_not_a_module():
    with pytest.raises(TypeError, match="expected an nn.Module, got list"):
        initialization.zero_init_([torch.zeros(3)])


def test_he_init_scales_weights_by_fan_in_and_zeroes_biases():
    torch.manual_seed(0)
    model = initialization.init_(nn.Sequential(nn.Linear(800, 400), nn.Linear(400, 10)), "he")
    first, second = model[0], model[1]
    assert first.weight.std().item() == pytest.approx(math.sqrt(2 / 800), rel=0.02)
    assert second.weight.std().item() == pytest.approx(math.sqrt(2 / 400), rel=0.05)
    assert (first.bias == 0).all() and (second.bias == 0).all()


def test_xavier_init_uses_fan_in_plus_fan_out():
    torch.manual_seed(0)
    model = initialization.init_(nn.Sequential(nn.Linear(600, 200)), "xavier")
    assert model[0].weight.std().item() == pytest.approx(math.sqrt(2 / 800), rel=0.02)


def test_normal_init_uses_the_given_std_whatever_the_size():
    torch.manual_seed(0)
    model = initialization.init_(nn.Sequential(nn.Linear(500, 400)), "normal", std=1.0)
    assert model[0].weight.std().item() == pytest.approx(1.0, rel=0.02)


def test_fan_in_of_linear_and_conv_layers():
    assert initialization.fan_in(nn.Linear(784, 30)) == 784
    assert initialization.fan_in(nn.Conv2d(4, 8, kernel_size=3)) == 4 * 3 * 3
    with pytest.raises(TypeError, match="Linear or nn.Conv2d layer, got ReLU"):
        initialization.fan_in(nn.ReLU())


def test_pytorch_default_variance_is_one_third_over_fan_in():
    torch.manual_seed(0)
    layer = nn.Linear(1000, 500)
    assert layer.weight.var().item() == pytest.approx(1 / (3 * 1000), rel=0.02)


@pytest.mark.parametrize(
    "scheme, std, message",
    [
        ("glorot", None, "'he', 'xavier' or 'normal'"),
        ("normal", None, "std is needed"),
        ("he", 0.1, "std is needed"),
    ],
)
def test_init_rejects_bad_arguments(scheme, std, message):
    with pytest.raises(ValueError, match=message):
        initialization.init_(models.MLP(3), scheme, std=std)
