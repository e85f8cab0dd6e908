"""What the homework's checks look for in a network the student wrote: the tutorial's
mixed-activation MLP, a CNN and an RNN that reads rows.
Each function returns a list of `Finding`s."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from mnistlib.checks_findings import (
    Finding,
    attempt,
    error_text,
    not_filled_in,
    ok,
    todo,
    unfinished,
    wrong,
)
from mnistlib.checks_findings import shape_mismatch as _mismatch

ACTIVATIONS = (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU)
MIXED_LAYERS = ["Linear", "Sigmoid", "Dropout", "Linear", "Tanh", "Linear", "ReLU", "Linear"]
SOFTMAX_TEXT = (
    "the network ends with a softmax: nn.CrossEntropyLoss applies log-softmax to the logits "
    "itself, so the softmax is applied twice and learning slows down. Return the raw logits."
)


def _images(n: int = 8) -> torch.Tensor:
    return torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(4))


def _build(builder: Callable, name: str) -> tuple[nn.Module | None, list[Finding]]:
    model, exc = attempt(builder)
    if unfinished(exc):
        return None, [todo(f"{name} still holds `...`: fill it in")]
    if exc is not None:
        return None, [wrong(error_text(f"building {name}", exc))]
    if not isinstance(model, nn.Module):
        return None, [wrong(f"{name} should give an nn.Module, got {type(model).__name__}")]
    return model, []


def _forward(model: nn.Module, name: str, X: torch.Tensor) -> tuple[torch.Tensor | None, list]:
    """Run one batch; (output, []) or (None, findings) that explain a failure."""
    model.eval()
    with torch.no_grad():
        out, exc = attempt(model, X)
    if not_filled_in(out, exc):
        return None, [todo(f"the forward pass of {name} returns nothing yet: fill it in")]
    if exc is None and not isinstance(out, torch.Tensor):
        return None, [wrong(f"{name} returned {type(out).__name__}, not a tensor of logits")]
    if exc is None:
        return out, []
    found = _mismatch(exc)
    flat = any(isinstance(m, nn.Flatten) for m in model.modules())
    if found and (found[0] == 28 or found[0] < 28 and not flat):
        return None, [
            wrong(
                "a Linear layer received rows of 28 pixels: the images were never "
                "flattened into vectors before it (look for nn.Flatten)"
            )
        ]
    if found:
        return None, [
            wrong(
                f"shape error: a Linear layer expects {found[1]} input features per image, but "
                "a different number reaches it. Its in_features must equal what the layer "
                "before puts out; print x.shape between the layers to follow it."
            )
        ]
    if "channels" in str(exc):
        return None, [
            wrong(
                error_text(name, exc) + " (each Conv2d's in_channels must be the "
                "out_channels of the one before)"
            )
        ]
    return None, [wrong(error_text(f"{name} on a batch of shape {tuple(X.shape)}", exc))]


def _ends_in_softmax(model: nn.Module, out: torch.Tensor) -> bool:
    softmax = any(isinstance(m, (nn.Softmax, nn.LogSoftmax)) for m in model.modules())
    probabilities = bool(torch.allclose(out.exp().sum(1), torch.ones(len(out)), atol=1e-4))
    return softmax or probabilities or bool(torch.allclose(out.sum(1), torch.ones(len(out))))


def _output(model: nn.Module, out: torch.Tensor, n: int) -> list[Finding]:
    if tuple(out.shape) != (n, 10):
        return [
            wrong(
                f"for a batch of {n} images the network should give ({n}, 10) logits, one "
                f"score per digit; it gave {tuple(out.shape)}"
            )
        ]
    if _ends_in_softmax(model, out):
        return [wrong(SOFTMAX_TEXT)]
    return []


def _logits(model: nn.Module, name: str, X: torch.Tensor) -> list[Finding]:
    """Run one batch through the model and check its (B, 10) logits: [] when all is well."""
    out, findings = _forward(model, name, X)
    return findings if out is None else _output(model, out, len(X))


def examine_mixed_mlp(builder: Callable) -> list[Finding]:
    """The tutorial's MLP: 784 → 50 → 50 → 50 → 10, sigmoid, dropout 0.2, tanh, ReLU."""
    model, findings = _build(builder, "MixedMLP()")
    if model is None:
        return findings
    findings = _logits(model, "MixedMLP", _images())
    if findings:
        return findings
    kinds = (nn.Linear, nn.Dropout, *ACTIVATIONS)
    layers = [m for m in model.modules() if isinstance(m, kinds)]
    names = [type(m).__name__ for m in layers]
    found = [n for n in names if n not in ("Linear", "Dropout")]
    if found != ["Sigmoid", "Tanh", "ReLU"]:
        found_text = ", ".join(found) or "none"
        return [
            wrong(
                f"the activations, in order, are: {found_text}. Read the task again for the "
                "three the tutorial uses and their order (as nn modules, one per layer)."
            )
        ]
    sizes = [(m.in_features, m.out_features) for m in layers if isinstance(m, nn.Linear)]
    if sizes != [(784, 50), (50, 50), (50, 50), (50, 10)]:
        chain = " → ".join(str(s[0]) for s in sizes) + f" → {sizes[-1][1]}" if sizes else "?"
        return [wrong(f"the layer sizes are {chain}; the task asks for three hidden layers of 50")]
    dropouts = [m for m in layers if isinstance(m, nn.Dropout)]
    if names != MIXED_LAYERS or abs(dropouts[0].p - 0.2) > 1e-9:
        return [
            wrong(
                "the dropout is missing, misplaced or has another rate: the task puts one "
                "Dropout(0.2) right after the first activation"
            )
        ]
    return [
        ok("784 → 50 → 50 → 50 → 10, with the three activations in the tutorial's order"),
        ok("dropout 0.2 where the tutorial has it, and raw logits out"),
    ]


def examine_cnn(builder: Callable) -> list[Finding]:
    """A CNN: at least one Conv2d, shapes that fit, (B, 10) logits."""
    model, findings = _build(builder, "my_cnn()")
    if model is None:
        return findings
    if not any(isinstance(m, nn.Conv2d) for m in model.modules()):
        return [wrong("there is no nn.Conv2d in this network: it is not a CNN yet")]
    findings = _logits(model, "my_cnn()", _images())
    if findings:
        return findings
    params = sum(p.numel() for p in model.parameters())
    return [ok(f"the shapes fit: images in, (B, 10) logits out ({params:,} parameters)")]


def examine_rnn(builder: Callable) -> list[Finding]:
    """An RNN over the rows: input_size 28, batch first, predicts from the last step."""
    model, findings = _build(builder, "RowRNN()")
    if model is None:
        return findings
    cells = [m for m in model.modules() if isinstance(m, nn.RNNBase)]
    if not cells:
        if any(v is Ellipsis for v in vars(model).values()):
            return [todo("RowRNN still holds `...`: fill it in")]
        return [wrong("there is no nn.RNN, nn.LSTM or nn.GRU in RowRNN")]
    if cells[0].input_size != 28:
        return [
            wrong(
                f"the RNN reads {cells[0].input_size} values per time step; it should read "
                "one row of the image per step, 28 pixels"
            )
        ]
    X = _images()
    model.eval()
    with torch.no_grad():
        out, exc = attempt(model, X)
    if exc is not None and "got 4D" in str(exc):
        return [
            wrong(
                "shape error: the RNN was fed the images as (B, 1, 28, 28). It wants three "
                "axes, (batch, time steps, features): the channel axis must go first."
            )
        ]
    out, findings = _forward(model, "RowRNN", X)
    if out is None:
        return findings
    if out.ndim == 3 and out.shape[0] == cells[0].num_layers:
        return [
            wrong(
                f"the output has shape {tuple(out.shape)}: the final hidden state h_n has "
                "one entry per layer first; keep the last layer's"
            )
        ]
    findings = _output(model, out, len(X))
    if findings:
        if out.shape[0] == 28 and not cells[0].batch_first:
            findings.append(
                wrong(
                    "the RNN reads its input as (time, batch, features) unless "
                    "told otherwise: look at batch_first"
                )
            )
        return findings
    with torch.no_grad():
        changed = X.clone()
        changed[0] = torch.randn(1, 28, 28)
        crosstalk = (model(changed)[1:] - out[1:]).abs().max() > 1e-5
        last_row = X.clone()
        last_row[:, :, -1] = 3.0
        ignores_end = (model(last_row) - out).abs().max() < 1e-6
    if crosstalk:
        return [
            wrong(
                "changing one image changed the predictions for the others: the RNN runs "
                "along the batch axis as if it were time. Look at batch_first."
            )
        ]
    if ignores_end:
        return [
            wrong(
                "the prediction does not change when the last row changes: it is taken "
                "before the RNN has read the whole image; use the last time step"
            )
        ]
    return [ok("one row per time step, each image on its own, prediction after the last row")]
