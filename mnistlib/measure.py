"""Gradient measurements: the size of each layer's weight gradient for one batch."""

from __future__ import annotations

import torch
from torch import nn

from mnistlib.initialization import weighted_layers
from mnistlib.train import model_device


def gradient_norms(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, loss_fn: nn.Module | None = None
) -> dict[str, float]:
    """L2 norm of the loss gradient with respect to each Linear/Conv2d weight, for one batch,
    keyed by layer name from input to output. Gradients are cleared again afterwards."""
    layers = weighted_layers(model)
    if not layers:
        raise ValueError(
            f"expected a model with Linear or Conv2d layers, got {type(model).__name__}"
        )
    if len(X) != len(y):
        raise ValueError(f"got {len(X)} images but {len(y)} labels")
    where = model_device(model)
    model.zero_grad()
    loss = (loss_fn or nn.CrossEntropyLoss())(model(X.to(where)), y.to(where))
    loss.backward()
    norms = {name: layer.weight.grad.norm().item() for name, layer in layers}
    model.zero_grad()
    return norms
