"""Tasks 4, 6 and 7: the networks a student writes. Each examiner builds the network, runs it on
images of its own and watches the forward pass through hooks on every module call, in the order
the pass meets them (not the order they were declared in): the activations between the layers,
where dropout acts, whether each image is read on its own, rows rather than columns, whether the
prediction waits for the last row, and whether every weight it uses is one the optimizer trains.
No message holds an answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.module import register_module_forward_hook

from mnistlib import train
from mnistlib.checks.findings import (
    Finding,
    attempt,
    error_text,
    not_filled_in,
    ok,
    shape_mismatch,
    todo,
    unfinished,
    wrong,
)

BATCH = 7  # images in a probe batch: a number no one hard-codes as a batch size
SOFTMAX_TEXT = (
    "the network ends with a softmax: nn.CrossEntropyLoss applies log-softmax to the logits "
    "itself, so the softmax is applied twice and learning slows down. Return the raw logits."
)


class Call(NamedTuple):
    """One module call of a forward pass."""

    module: nn.Module
    inputs: tuple
    output: object


def _snapshot(value):
    """A copy of the tensors in `value`, so that a later in-place change (ReLU(inplace=True))
    does not rewrite what the check saw."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, tuple):
        return tuple(_snapshot(v) for v in value)
    return value


@contextmanager
def _traced() -> Iterator[list[Call]]:
    """Every module call made inside the block, in the order they happen, with copies of what
    went in and came out."""
    calls: list[Call] = []
    handle = register_module_forward_hook(
        lambda m, i, o: calls.append(Call(m, _snapshot(i), _snapshot(o)))
    )
    try:
        yield calls
    finally:
        handle.remove()


def _images(n: int = BATCH, seed: int = 4) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 28, 28, generator=g).to(train.device())


def _build(make_model: Callable, name: str) -> tuple[nn.Module | None, list[Finding]]:
    """The student's network, built by the check on the notebook's device, or what went wrong."""
    if isinstance(make_model, nn.Module):
        return None, [
            wrong(
                f"give the class (or a function) that builds {name}, not a network already "
                "built: every run starts from a network of its own"
            )
        ]
    model, exc = attempt(make_model)
    if unfinished(exc):
        return None, [todo(f"{name} still holds `...`: fill it in")]
    if exc is not None:
        return None, [wrong(error_text(f"building {name}", exc))]
    if not isinstance(model, nn.Module):
        return None, [wrong(f"{name} should give an nn.Module, got {type(model).__name__}")]
    return model.to(train.device()), []


def _forward(model: nn.Module, X: torch.Tensor):
    """(output, exception, module calls) of one pass in evaluation mode."""
    model.eval()
    with torch.no_grad(), _traced() as calls:
        out, exc = attempt(model, X)
    return out, exc, calls


def _explain(exc: BaseException, X: torch.Tensor, name: str) -> list[Finding]:
    """Read the error a forward pass raised, in the words of the lessons."""
    n = len(X)
    mismatch = shape_mismatch(exc)
    if mismatch:
        rows, given, expected = mismatch
        if rows == n:
            return [
                wrong(
                    f"shape error: a Linear layer expects {expected} input features per image, "
                    "but a different number reaches it. Its in_features must equal what the "
                    "layer before puts out; print x.shape between the layers to follow it."
                )
            ]
        if rows % n == 0:
            return [
                wrong(
                    f"a Linear layer received rows of {given} values: the images were never "
                    "flattened into one vector each before it (look for nn.Flatten)"
                )
            ]
        return [
            wrong(
                f"a Linear layer received {rows} rows for a batch of {n} images: a reshape in "
                "forward fixes the batch size instead of following the batch it is given"
            )
        ]
    reshape = re.search(r"shape '\[(-?\d+)[^\]]*\]' is invalid", str(exc))
    if reshape and int(reshape[1]) not in (-1, n):
        return [
            wrong(
                f"a reshape in forward asks for {reshape[1]} images, but the check sent a batch "
                f"of {n}: the batch size must follow the input, whatever it is"
            )
        ]
    if reshape:
        return [
            wrong(
                "a reshape in forward asks for a number of features per image that does not "
                "match what arrives there: work the number out from the shapes before it"
            )
        ]
    if "channels" in str(exc):
        return [
            wrong(
                error_text(name, exc) + " (each Conv2d's in_channels must be the "
                "out_channels of the one before)"
            )
        ]
    return [wrong(error_text(f"{name} on a batch of shape {tuple(X.shape)}", exc))]


def _logits(out, n: int, name: str) -> list[Finding]:
    """[] when `out` is (n, 10) raw logits; else what is wrong with it."""
    if not isinstance(out, torch.Tensor):
        return [wrong(f"{name} returned {type(out).__name__}, not a tensor of logits")]
    if tuple(out.shape) != (n, 10):
        return [
            wrong(
                f"for a batch of {n} images the network should give ({n}, 10) logits, one "
                f"score per digit; it gave {tuple(out.shape)}"
            )
        ]
    out = out.float()
    if not torch.isfinite(out).all():
        return [wrong("the network gives NaN or infinite scores for ordinary images")]
    ones = torch.ones(n, device=out.device)
    if torch.allclose(out.sum(1), ones, atol=1e-4) or torch.allclose(
        out.exp().sum(1), ones, atol=1e-4
    ):
        return [wrong(SOFTMAX_TEXT)]
    if (out >= 0).all():
        return [
            wrong(
                "none of the 10 scores is ever negative: something after the last layer cuts "
                "the logits off or squashes them. nn.CrossEntropyLoss wants them raw, of any sign."
            )
        ]
    return []


def _built_inside(model: nn.Module, calls: list[Call]) -> str | None:
    """The kind of a layer with weights that the pass called but the model does not hold."""
    held = {id(m) for m in model.modules()}
    for call in calls:
        own = list(call.module.parameters(recurse=False))
        if own and id(call.module) not in held:
            return type(call.module).__name__
    return None


def _behaviour(
    model: nn.Module, X: torch.Tensor, out: torch.Tensor, calls: list[Call], crosstalk: str
) -> list[Finding]:
    """Layers built inside forward, randomness in evaluation mode, images that affect others."""
    inside = _built_inside(model, calls)
    if inside:
        return [
            wrong(
                f"an nn.{inside} is built inside forward: at every call it starts from new random "
                "weights, and the optimizer, which gets the model's parameters, never trains it. "
                "A layer with weights belongs to the network, built once with it."
            )
        ]
    with torch.no_grad():
        again = model(X)
        changed = X.clone()
        changed[0] = _images(1, seed=9)[0]
        others = model(changed)[1:]
    scale = 1e-4 * (1 + float(out.abs().max()))
    if (again - out).abs().max() > scale:
        return [
            wrong(
                "in evaluation mode the network gives another output for the same images at "
                "every call: something random (such as dropout) stays on after the switch to "
                "evaluation mode"
            )
        ]
    if (others - out[1:]).abs().max() > scale:
        return [wrong("changing one image changed the predictions for the others: " + crosstalk)]
    return []


def _untrained(model: nn.Module, X: torch.Tensor) -> list[str]:
    """The weights, among those of the layers the pass calls, that training would never change."""
    model.train()
    with _traced() as calls:
        out = model(X)
    labels = torch.arange(len(X), device=out.device) % 10
    F.cross_entropy(out.float(), labels).backward()
    called = {id(c.module) for c in calls}
    names = [
        f"{prefix}.{name}" if prefix else name
        for prefix, module in model.named_modules()
        if id(module) in called
        for name, p in module.named_parameters(recurse=False)
        if p.ndim >= 2 and (not p.requires_grad or p.grad is None or not p.grad.any())
    ]
    model.zero_grad(set_to_none=True)
    model.eval()
    return names


def _trained(model: nn.Module, X: torch.Tensor, hint: str = "") -> list[Finding]:
    """[] when training reaches every weight the forward pass uses; else a finding naming them."""
    names, exc = attempt(_untrained, model, X)
    if exc is not None:
        return [wrong(error_text("a training step of the network", exc))]
    if not names:
        return []
    return [
        wrong(
            f"training would never change {', '.join(names)}: the prediction does not depend on "
            "them (their output is cut off from the loss, or they are frozen)" + hint
        )
    ]


class Examined(NamedTuple):
    """A network the check built, the images it ran, its output and the module calls met."""

    model: nn.Module
    X: torch.Tensor
    out: torch.Tensor
    calls: list[Call]


def _examine(
    make_model: Callable,
    name: str,
    call: str,
    crosstalk: Callable[[nn.Module], str],
    before: Callable[[nn.Module], list[Finding]] | None = None,
    shapes: Callable[[nn.Module, object], list[Finding]] | None = None,
) -> tuple[Examined | None, list[Finding]]:
    """Build the network, run one batch, and read what every network must get right: the build,
    the errors, the output and the behaviour. `before(model)` and `shapes(model, output or
    exception)` add what one task knows better. Returns what ran (None when it could not run),
    and the findings, [] when all of that is right."""
    model, findings = _build(make_model, name)
    if model is None:
        return None, findings
    findings = before(model) if before else []
    if findings:
        return None, findings
    X = _images()
    out, exc, calls = _forward(model, X)
    if not_filled_in(out, exc):
        return None, [todo(f"the forward pass of {call} returns nothing yet: fill it in")]
    special = shapes(model, exc if exc is not None else out) if shapes else []
    if exc is not None:
        return None, special or _explain(exc, X, call)
    findings = special or _logits(out, len(X), call)
    findings = findings or _behaviour(model, X, out, calls, crosstalk(model))
    return Examined(model, X, out, calls), findings


def _mixing(model: nn.Module) -> str:
    return "the images of a batch are mixed together on their way through the network"


# Task 4: the tutorial's mixed MLP --------------------------------------------------------------

MIXED_SIZES = [(784, 50), (50, 50), (50, 50), (50, 10)]
MIXED_ACTIVATIONS = ["sigmoid", "tanh", "ReLU"]
MIXED_DROPOUT = 0.2
ACTIVATIONS = {
    "nothing": lambda x: x,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "ReLU": torch.relu,
    "leaky ReLU": F.leaky_relu,
    "ELU": F.elu,
    "GELU": F.gelu,
    "SiLU": F.silu,
    "softplus": F.softplus,
}


def _activation(before: torch.Tensor, after) -> str:
    """The name of the function that maps one layer's output to the next layer's input."""
    if not isinstance(after, torch.Tensor) or after.shape != before.shape:
        return "something else"
    for name, function in ACTIVATIONS.items():
        if torch.allclose(function(before), after, atol=1e-5, rtol=1e-4):
            return name
    return "something else"


def _linear_calls(calls: list[Call]) -> list[Call]:
    return [c for c in calls if isinstance(c.module, nn.Linear)]


def _dropout_rate(before: torch.Tensor, after) -> float | str | None:
    """None when `after` is `before`; the rate when `after` is `before` with dropout applied
    (some units zero, the others scaled by 1 / (1 - p)); 'other' for any other change."""
    if not isinstance(after, torch.Tensor) or after.shape != before.shape:
        return "other"
    if torch.allclose(before, after, atol=1e-6, rtol=1e-5):
        return None
    alive = before.abs() > 1e-6
    dropped, kept = alive & (after == 0), alive & (after != 0)
    if not dropped.any() or not kept.any():
        return "other"
    scale = after[kept] / before[kept]
    middle = scale.median()
    if (scale - middle).abs().max() > 1e-3 * middle.abs():
        return "other"
    return 1 - 1 / float(middle)


def _mixed_dropout(model: nn.Module, activations: list[str]) -> list[Finding]:
    """Where, in training mode, units are switched off, and at which rate."""
    X = _images(64, seed=5)
    with torch.no_grad():
        _, _, calls = _forward(model, X)
        evaluated = _linear_calls(calls)
        model.train()
        with _traced() as calls:
            out = model(X)
        model.eval()
    trained = _linear_calls(calls)
    if len(trained) != len(evaluated):
        return [wrong("in training mode the forward pass meets other layers than in evaluation")]
    gaps = [(evaluated[0].inputs[0], trained[0].inputs[0])]
    for k, name in enumerate(activations):
        gaps.append((ACTIVATIONS[name](trained[k].output), trained[k + 1].inputs[0]))
    gaps.append((trained[-1].output, out))
    rates = [_dropout_rate(before, after) for before, after in gaps]
    if all(rate is None for rate in rates):
        return [
            wrong(
                "in training mode no unit is ever switched off: the dropout the task asks for "
                "is missing"
            )
        ]
    first = rates[1]
    if isinstance(first, float) and all(r is None for i, r in enumerate(rates) if i != 1):
        if abs(first - MIXED_DROPOUT) > 0.01:
            return [
                wrong(
                    f"the dropout after the first activation switches units off at a rate of "
                    f"{first:.2g}: read the task again for its rate"
                )
            ]
        return []
    return [
        wrong(
            "in training mode, units are switched off somewhere other than where the task's "
            "list puts the dropout, or in another way than dropout does"
        )
    ]


def _same_pixels(given, X: torch.Tensor) -> bool:
    """Whether `given` holds each image's 784 pixels, unchanged (in any order)."""
    if not isinstance(given, torch.Tensor) or given.shape != (len(X), 784):
        return False
    return torch.allclose(given.sort(1).values, X.flatten(1).sort(1).values, atol=1e-6)


def examine_mixed_mlp(make_model: Callable) -> list[Finding]:
    """The tutorial's MLP, in the order forward applies it, written with modules or functions."""
    examined, findings = _examine(make_model, "MixedMLP()", "MixedMLP", _mixing)
    if examined is None or findings:
        return findings
    model, X, out, calls = examined
    linears = _linear_calls(calls)
    sizes = [(c.module.in_features, c.module.out_features) for c in linears]
    if sizes != MIXED_SIZES:
        met = ", ".join(f"{i} → {o}" for i, o in sizes) or "none"
        return [
            wrong(
                f"the Linear layers the forward pass meets, in order, are: {met}. The task asks "
                "for three hidden layers of 50 between the 784 pixels and the 10 logits."
            )
        ]
    if not _same_pixels(linears[0].inputs[0], X):
        return [
            wrong(
                "the first Linear layer does not receive the image's 784 pixels as they are: "
                "nothing changes them before that layer"
            )
        ]
    activations = [_activation(linears[k].output, linears[k + 1].inputs[0]) for k in range(3)]
    if activations != MIXED_ACTIVATIONS:
        return [
            wrong(
                "the activations between the Linear layers, in the order the forward pass "
                f"applies them, are: {', '.join(activations)}. Read the task again for the three "
                "it asks for and their order."
            )
        ]
    last = _activation(linears[-1].output, out)
    if last != "nothing":
        return [
            wrong(
                f"after the last Linear layer the network applies {last}: return that layer's "
                "output as it is, the raw logits"
            )
        ]
    findings = _mixed_dropout(model, activations) or _trained(model, _images())
    return findings or [
        ok("784 → 50 → 50 → 50 → 10, with the three activations in the tutorial's order"),
        ok("dropout where the tutorial has it, at its rate, and raw logits out"),
    ]


# Task 6: a CNN ---------------------------------------------------------------------------------


def _has_convolution(model: nn.Module) -> list[Finding]:
    if any(isinstance(m, nn.Conv2d) for m in model.modules()):
        return []
    return [wrong("there is no nn.Conv2d in this network: it is not a CNN yet")]


def examine_cnn(make_model: Callable) -> list[Finding]:
    """A CNN of any shape: convolutions that run, raw (B, 10) logits, every weight trained."""
    examined, findings = _examine(make_model, "my_cnn()", "my_cnn()", _mixing, _has_convolution)
    if examined is None or findings:
        return findings
    model, X, _, calls = examined
    if not any(isinstance(c.module, nn.Conv2d) for c in calls):
        return [wrong("the forward pass never runs a convolution: the images skip them")]
    findings = _trained(model, X)
    params = sum(p.numel() for p in model.parameters())
    return findings or [
        ok(f"the shapes fit: images in, (B, 10) logits out ({params:,} parameters)"),
        ok("every image is read on its own, and training reaches every weight"),
    ]


# Task 7: an RNN that reads rows ----------------------------------------------------------------

ROWS = 28


def _has_recurrent_layer(model: nn.Module) -> list[Finding]:
    if any(isinstance(m, nn.RNNBase) for m in model.modules()):
        return []
    if any(v is Ellipsis for v in vars(model).values()):
        return [todo("RowRNN still holds `...`: fill it in")]
    return [wrong("there is no nn.RNN, nn.LSTM or nn.GRU in RowRNN")]


def _row_probe(X: torch.Tensor) -> torch.Tensor:
    """One image, then 28 copies of it, copy r with row r replaced."""
    g = torch.Generator().manual_seed(6)
    probe = X[:1].repeat(ROWS + 1, 1, 1, 1)
    for row in range(ROWS):
        probe[row + 1, 0, row] = (torch.randn(28, generator=g) * 2 + 1).to(X.device)
    return probe


def _steps_of_rows(calls: list[Call], copies: int) -> torch.Tensor | None:
    """(rows, time steps): which steps of the first recurrent layer's input change when a row
    changes; None when that input is not one (batch, steps, features) tensor."""
    layer = next((c for c in calls if isinstance(c.module, nn.RNNBase)), None)
    if layer is None or not layer.inputs or not isinstance(layer.inputs[0], torch.Tensor):
        return None
    seq = layer.inputs[0]
    if seq.ndim != 3:
        return None
    if not layer.module.batch_first:
        seq = seq.transpose(0, 1)
    if len(seq) != copies:
        return None
    seq = seq.float()
    return (seq[1:] - seq[:1]).abs().amax(dim=2) > 1e-4 * (1 + float(seq.abs().max()))


def _reads_rows(model: nn.Module, X: torch.Tensor) -> list[Finding]:
    """Time steps hold rows, one each, in some order; the prediction waits for the last one."""
    probe = _row_probe(X)
    with torch.no_grad(), _traced() as calls:
        out = model(probe)
    changed = _steps_of_rows(calls, len(probe))
    if changed is None:
        return []
    steps = changed.shape[1]
    if steps != ROWS:
        pixels = ", one pixel per step" if steps == ROWS * ROWS else ""
        return [
            wrong(
                f"the RNN runs {steps} time steps per image{pixels}: reading one row of 28 "
                "pixels per step makes 28"
            )
        ]
    reached = changed.sum(1)
    if (reached == steps).all():
        return [
            wrong(
                "changing one row of the image changes every time step the RNN reads: each step "
                "holds a column (one pixel of every row), not a row"
            )
        ]
    if not ((reached == 1).all() and changed.any(0).all()):
        return [
            wrong(
                "the time steps do not hold one row each: a row reaches several steps, or a "
                "step mixes several rows"
            )
        ]
    last_row = int(changed[:, -1].float().argmax())
    moved = (out[last_row + 1] - out[0]).abs().max()
    if moved <= 1e-6 * (1 + float(out[0].abs().max())):
        return [
            wrong(
                "the prediction does not change when the last row the RNN reads changes: it is "
                "taken before the RNN has read the whole image"
            )
        ]
    return []


def _batch_axis(model: nn.Module) -> str:
    layer = next(m for m in model.modules() if isinstance(m, nn.RNNBase))
    if layer.batch_first:
        return _mixing(model)
    return "the RNN runs along the batch axis as if it were time. Look at batch_first."


def _rnn_shapes(model: nn.Module, result) -> list[Finding]:
    """Say more than PyTorch about the shape errors of a row reader."""
    layer = next(m for m in model.modules() if isinstance(m, nn.RNNBase))
    if isinstance(result, BaseException):
        if "got 4D" not in str(result):
            return []
        return [
            wrong(
                "shape error: the RNN was fed the images as (B, 1, 28, 28). It wants three "
                "axes, (batch, time steps, features): the channel axis must go first."
            )
        ]
    if not isinstance(result, torch.Tensor) or tuple(result.shape) == (BATCH, 10):
        return []
    if result.ndim == 3 and result.shape[0] == layer.num_layers * (1 + layer.bidirectional):
        return [
            wrong(
                f"the output has shape {tuple(result.shape)}: the final hidden state h_n has "
                "one entry per layer first; keep the last layer's"
            )
        ]
    if result.shape[0] == ROWS and not layer.batch_first:
        return [
            *_logits(result, BATCH, "RowRNN"),
            wrong(
                "the RNN reads its input as (time, batch, features) unless told otherwise: "
                "look at batch_first"
            ),
        ]
    return []


def examine_rnn(make_model: Callable) -> list[Finding]:
    """An RNN reading one row per step, in any order, that predicts after the last row it reads."""
    examined, findings = _examine(
        make_model, "RowRNN()", "RowRNN", _batch_axis, _has_recurrent_layer, _rnn_shapes
    )
    if examined is None or findings:
        return findings
    model, X, _, calls = examined
    if not any(isinstance(c.module, nn.RNNBase) for c in calls):
        return [wrong("the forward pass never runs the recurrent layer")]
    hint = " (h_n holds one final state per layer, the first layer first)"
    findings = _reads_rows(model, X) or _trained(model, X, hint)
    return findings or [
        ok("one row per time step, each image on its own, prediction after the last row"),
        ok("training reaches every weight of the recurrent layer and the output layer"),
    ]
