"""Numbers about a model, computed and drawn nowhere: its mistakes (the first failures, the
confusion counts), its gradients (per layer for one batch, per time step for a recurrent network),
what its layers compute (feature maps), how much of the image each position sees (the receptive
field), its perplexity, and its accuracy when it sees only the first rows of each image.
`mnistlib.plots` draws them."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

from mnistlib.initialization import weighted_layers
from mnistlib.models import DigitRNN
from mnistlib.train import model_device, predict


@torch.no_grad()
def find_failures(
    model: nn.Module, loader: Iterable, n: int = 16
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The first `n` misclassified images in `loader`, scanning batch after batch, with their
    predicted and true labels (all on the CPU). Fewer come back if the loader runs out."""
    model.eval()
    where = model_device(model)
    images, preds, labels = [], [], []
    found = 0
    for X, y in loader:
        pred = model(X.to(where)).argmax(dim=1).cpu()
        wrong = pred != y.cpu()
        images.append(X.cpu()[wrong])
        preds.append(pred[wrong])
        labels.append(y.cpu()[wrong])
        found += int(wrong.sum())
        if found >= n:
            break
    if not images:
        raise ValueError("the loader yielded no batches; is the dataset empty?")
    return torch.cat(images)[:n], torch.cat(preds)[:n], torch.cat(labels)[:n]


def confusion_matrix(model: nn.Module, loader: Iterable) -> torch.Tensor:
    """10 × 10 counts: row = true digit, column = predicted digit."""
    preds, labels = predict(model, loader)
    for name, values in (("predicted", preds), ("true", labels)):
        if values.min() < 0 or values.max() > 9:
            raise ValueError(
                f"expected {name} digits 0 to 9, got {int(values.max())}; "
                "does the model return exactly 10 scores per image?"
            )
    return torch.bincount(labels * 10 + preds, minlength=100).reshape(10, 10)


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


def hidden_gradients(model: DigitRNN, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """‖∂loss/∂h_t‖ for t = 1 … 28: the size of the gradient of each image's cross-entropy loss
    with respect to the hidden state after step t, averaged over the batch."""
    if not isinstance(model, DigitRNN):
        raise TypeError(f"expected a DigitRNN, got {type(model).__name__}")
    if len(X) != len(y):
        raise ValueError(f"got {len(X)} images but {len(y)} labels")
    where = model_device(model)
    was_training = model.training
    model.eval()
    logits, hidden = model.unrolled(X.to(where))
    loss = nn.functional.cross_entropy(logits, y.to(where), reduction="sum")
    grads = torch.autograd.grad(loss, hidden)
    model.train(was_training)
    return torch.stack([g[0].norm(dim=1).mean() for g in grads]).detach().cpu()


@torch.no_grad()
def feature_maps(model: nn.Module, image: torch.Tensor) -> dict[str, torch.Tensor]:
    """The output (C, H, W) of every convolution, ReLU and pooling layer of `model` for one image
    (1, H, W), in the order they run, named like 'conv 1', 'relu 1', 'pool 1'."""
    kinds = {nn.Conv2d: "conv", nn.ReLU: "relu", nn.MaxPool2d: "pool", nn.BatchNorm2d: "norm"}
    maps, counts, hooks = {}, {}, []
    for layer in model.modules():
        kind = kinds.get(type(layer))
        if kind is not None:

            def keep(_, __, out, kind=kind):
                if out.ndim == 4:
                    counts[kind] = counts.get(kind, 0) + 1
                    maps[f"{kind} {counts[kind]}"] = out[0].cpu()

            hooks.append(layer.register_forward_hook(keep))
    try:
        model.eval()(image.unsqueeze(0))
    finally:
        for hook in hooks:
            hook.remove()
    return maps


def receptive_field(model: nn.Module) -> list[tuple[str, int, int]]:
    """(layer, receptive field, jump) after each convolution and pooling layer of `model`, in
    pixels of the input: the side of the square one output position sees, and the distance in the
    input between two neighbouring output positions. Padding changes neither."""
    kinds = {nn.Conv2d: "conv", nn.MaxPool2d: "pool", nn.AvgPool2d: "pool"}
    size, jump, counts, fields = 1, 1, {}, []
    for layer in model.modules():
        kind = kinds.get(type(layer))
        if kind is None:
            continue
        sides = [getattr(layer, name, 1) for name in ("kernel_size", "stride", "dilation")]
        sides = [side if isinstance(side, tuple) else (side, side) for side in sides]
        if any(rows != cols for rows, cols in sides):
            raise ValueError(
                f"expected square kernels, strides and dilations, got {layer}; "
                "compute the rows and the columns apart for this layer"
            )
        kernel, stride, dilation = (rows for rows, _ in sides)
        size += dilation * (kernel - 1) * jump
        jump *= stride
        counts[kind] = counts.get(kind, 0) + 1
        fields.append((f"{kind} {counts[kind]}", size, jump))
    if not fields:
        raise ValueError(
            f"expected a model with Conv2d or pooling layers, got {type(model).__name__}; "
            "a fully connected layer sees the whole image"
        )
    return fields


@torch.no_grad()
def accuracy_first_rows(model: nn.Module, loader: Iterable, steps: Iterable[int]) -> list[float]:
    """Accuracy (%) over `loader` when only the first k rows of each image are shown, for each k:
    the rows below are set to the background (the darkest pixel of the batch)."""
    steps = list(steps)
    if not steps or not all(isinstance(k, int) and 0 <= k <= 28 for k in steps):
        raise ValueError(f"expected row counts from 0 to 28, got {steps}")
    where = model_device(model)
    model.eval()
    correct, total = torch.zeros(len(steps)), 0
    for X, y in loader:
        X, y = X.to(where), y.to(where)
        for i, k in enumerate(steps):
            cut = X.clone()
            cut[:, :, k:] = X.amin()
            correct[i] += (model(cut).argmax(dim=1) == y).sum().item()
        total += len(y)
    if total == 0:
        raise ValueError("the loader yielded no batches; is the dataset empty?")
    return (100.0 * correct / total).tolist()


def perplexity(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """exp of the mean cross entropy (in nats) of `logits` (..., V) for `targets` (...)."""
    if logits.ndim < 2 or logits.shape[:-1] != targets.shape:
        raise ValueError(
            "expected logits of shape (..., V) and targets of the shape before V, got "
            f"{tuple(logits.shape)} and {tuple(targets.shape)}"
        )
    loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.flatten())
    return math.exp(loss.item())
