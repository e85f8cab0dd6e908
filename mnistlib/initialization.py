"""Weight initialization: zeros, He (Kaiming), Xavier (Glorot) and a fixed standard deviation.

The fan-in of a layer is the number of inputs each of its units sums over: 784 for the first
layer of an MLP on MNIST, in_channels × kernel height × kernel width for a convolution.
PyTorch's default for `nn.Linear` and `nn.Conv2d` draws weights uniformly from
±1/√fan_in, a variance of 1 / (3 · fan_in).
"""

from __future__ import annotations

import math

import torch
from torch import nn

WEIGHTED = (nn.Linear, nn.Conv2d)  # the layers whose weights we initialize and measure


def weighted_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of every Linear and Conv2d layer of `model`, from input to output."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected an nn.Module, got {type(model).__name__}")
    return [(name, m) for name, m in model.named_modules() if isinstance(m, WEIGHTED)]


def fan_in(layer: nn.Module) -> int:
    """How many inputs each unit of a Linear or Conv2d layer sums over."""
    if not isinstance(layer, WEIGHTED):
        raise TypeError(f"expected an nn.Linear or nn.Conv2d layer, got {type(layer).__name__}")
    return math.prod(layer.weight.shape[1:])


@torch.no_grad()
def zero_init_(model: nn.Module) -> nn.Module:
    """Set every parameter of `model` to zero, in place; return the model."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected an nn.Module, got {type(model).__name__}")
    for p in model.parameters():
        p.zero_()
    return model


@torch.no_grad()
def init_(model: nn.Module, scheme: str, std: float | None = None) -> nn.Module:
    """Initialize every Linear/Conv2d layer in place and zero its bias; return the model.

    `scheme` is "he" (N(0, 2/fan_in), for ReLU), "xavier" (N(0, 2/(fan_in + fan_out)), for
    tanh and sigmoid) or "normal" (N(0, std²) whatever the layer's size).
    """
    if scheme not in ("he", "xavier", "normal"):
        raise ValueError(f"scheme must be 'he', 'xavier' or 'normal', got {scheme!r}")
    if (scheme == "normal") != (std is not None):
        raise ValueError(f"std is needed by scheme 'normal' and only by it; got {scheme=}, {std=}")
    for _, layer in weighted_layers(model):
        if scheme == "he":
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        elif scheme == "xavier":
            nn.init.xavier_normal_(layer.weight)
        else:
            nn.init.normal_(layer.weight, std=std)
        if layer.bias is not None:
            layer.bias.zero_()
    return model
