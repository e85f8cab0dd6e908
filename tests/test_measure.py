"""gradients: per-layer gradient norms worked out by hand."""

import math

import pytest
import torch
from torch import nn

from mnistlib import gradients, initialization, models


def test_gradient_norm_of_a_zero_linear_layer_by_hand():
    # Logits 0 → softmax (1/2, 1/2); for label 0, ∂loss/∂z = p - onehot = (-1/2, 1/2), and
    # ∂loss/∂W = outer(∂loss/∂z, x) = [[-1/2, -1], [1/2, 1]] for x = (1, 2): norm √2.5.
    model = initialization.zero_init_(nn.Sequential(nn.Linear(2, 2)))
    norms = gradients.gradient_norms(model, torch.tensor([[1.0, 2.0]]), torch.tensor([0]))
    assert norms == {"0": pytest.approx(math.sqrt(2.5))}
    assert model[0].weight.grad is None  # cleared afterwards


def test_gradient_norms_come_in_layer_order_and_vanish_in_deep_sigmoid_nets():
    torch.manual_seed(0)
    model = models.MLP(32, 32, 32, 32, activation=nn.Sigmoid)
    X, y = torch.rand(64, 1, 28, 28), torch.arange(64) % 10
    norms = gradients.gradient_norms(model, X, y)
    assert list(norms) == ["layers.1", "layers.3", "layers.5", "layers.7", "layers.9"]
    values = list(norms.values())
    assert values[0] < values[-1] / 100  # sigmoid' <= 1/4 shrinks the gradient at every layer


def test_gradient_norms_reject_bad_input():
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        gradients.gradient_norms(models.MLP(4), torch.rand(3, 1, 28, 28), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="Linear or Conv2d layers, got ReLU"):
        gradients.gradient_norms(nn.ReLU(), torch.rand(1, 2), torch.tensor([0]))
