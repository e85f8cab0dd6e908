"""Every network the notebooks train. Each takes images of shape (N, 1, 28, 28) and returns
10 logits per image, shape (N, 10)."""

from __future__ import annotations

import torch
from torch import nn


def check_images(X: torch.Tensor) -> None:
    """Raise a ValueError that names the expected shape unless `X` is a batch (N, 1, 28, 28)."""
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor of images, got {type(X).__name__}")
    if X.ndim != 4 or tuple(X.shape[1:]) != (1, 28, 28):
        hint = "; did you flatten twice?" if X.ndim == 2 and X.shape[-1] == 784 else ""
        hint = hint or ("; add the channel axis with X.unsqueeze(1)" if X.ndim == 3 else "")
        raise ValueError(f"expected images of shape (N, 1, 28, 28), got {tuple(X.shape)}{hint}")
    if not X.is_floating_point():
        raise TypeError(f"expected float images (ToTensor scales to [0, 1]), got {X.dtype}")


class SoftmaxRegression(nn.Module):
    """Multinomial logistic regression: flatten the 784 pixels, one linear layer to 10 logits."""

    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear = nn.Linear(28 * 28, 10)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        check_images(X)
        return self.linear(self.flatten(X))


class MLP(nn.Module):
    """A multilayer perceptron: 784 inputs, the hidden layers given, 10 outputs.

    `MLP(50, 50, 50, dropout=(0.2, 0, 0))` is 784 → 50 → 50 → 50 → 10 with ReLU after each hidden
    layer and Dropout(0.2) after the first. `dropout` is one probability for every hidden layer or
    one per hidden layer. `batch_norm` puts `BatchNorm1d` "before" or "after" each activation.
    """

    def __init__(
        self,
        *hidden: int,
        activation: type[nn.Module] = nn.ReLU,
        dropout: float | tuple[float, ...] = 0.0,
        batch_norm: str | None = None,
    ):
        super().__init__()
        if not hidden or any(h < 1 for h in hidden):
            raise ValueError(f"expected one or more hidden layer sizes >= 1, got {hidden}")
        if batch_norm not in (None, "before", "after"):
            raise ValueError(f"batch_norm must be None, 'before' or 'after', got {batch_norm!r}")
        rates = (dropout,) * len(hidden) if isinstance(dropout, (int, float)) else tuple(dropout)
        if len(rates) != len(hidden):
            raise ValueError(f"got {len(rates)} dropout rates for {len(hidden)} hidden layers")
        layers: list[nn.Module] = [nn.Flatten()]
        for n_in, n_out, rate in zip((28 * 28, *hidden), hidden, rates, strict=False):
            layers.append(nn.Linear(n_in, n_out))
            if batch_norm == "before":
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(activation())
            if batch_norm == "after":
                layers.append(nn.BatchNorm1d(n_out))
            if rate > 0:
                layers.append(nn.Dropout(rate))
        layers.append(nn.Linear(hidden[-1], 10))
        self.layers = nn.Sequential(*layers)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        check_images(X)
        return self.layers(X)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (weights and biases) in `model`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class SmallCNN(nn.Module):
    """A small convolutional network: blocks of 3×3 convolution, ReLU and 2×2 max pooling, then
    one linear layer to 10 logits.

    `SmallCNN((8, 16))` is conv 1→8 (28×28), pool to 14×14, conv 8→16, pool to 7×7, and a linear
    layer from the 16 × 7 × 7 = 784 features. `batch_norm=True` puts `BatchNorm2d` between each
    convolution and its ReLU.
    """

    def __init__(self, channels: tuple[int, ...] = (8, 16), batch_norm: bool = False):
        super().__init__()
        if not 1 <= len(channels) <= 4 or any(c < 1 for c in channels):
            raise ValueError(f"expected 1 to 4 channel counts >= 1, got {channels}")
        layers: list[nn.Module] = []
        for c_in, c_out in zip((1, *channels), channels, strict=False):
            layers.append(nn.Conv2d(c_in, c_out, kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c_out))
            layers += [nn.ReLU(), nn.MaxPool2d(2)]
        side = 28 // 2 ** len(channels)
        layers += [nn.Flatten(), nn.Linear(channels[-1] * side * side, 10)]
        self.layers = nn.Sequential(*layers)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        check_images(X)
        return self.layers(X)
