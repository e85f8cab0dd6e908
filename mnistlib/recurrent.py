"""Recurrent networks that read a digit row by row: the image as a sequence, the recurrence
written by hand, RNN / LSTM / GRU classifiers, and what backpropagation through time does to the
gradient at each time step."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from mnistlib.models import check_images
from mnistlib.train import model_device

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
ORDERS = ("rows", "columns", "reversed rows")


def as_sequence(X: torch.Tensor, order: str = "rows") -> torch.Tensor:
    """Images (N, 1, 28, 28) as sequences (N, 28, 28): time step t holds row t (or column t, or
    row 27 - t for 'reversed rows') of every image, 28 pixels each."""
    check_images(X)
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    seq = X[:, 0]
    if order == "columns":
        return seq.transpose(1, 2)
    if order == "reversed rows":
        return seq.flip(1)
    return seq


def rnn_by_hand(
    X: torch.Tensor,
    W_xh: torch.Tensor,
    W_hh: torch.Tensor,
    b: torch.Tensor,
    H: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """H_t = tanh(X_t W_xh + H_{t-1} W_hh + b), one time step after the other, from H_0 = 0.

    `X` is (N, T, d), `W_xh` (d, h), `W_hh` (h, h), `b` (h,). Returns every hidden state
    (N, T, h) and the last one (N, h), as `nn.RNN(d, h, batch_first=True)` does.
    """
    if X.ndim != 3 or X.shape[2] != W_xh.shape[0]:
        raise ValueError(
            f"expected sequences of shape (N, T, {W_xh.shape[0]}), got {tuple(X.shape)}"
        )
    if W_hh.shape != (W_xh.shape[1], W_xh.shape[1]) or b.shape != (W_xh.shape[1],):
        raise ValueError(
            f"with W_xh of shape {tuple(W_xh.shape)}, expected W_hh ({W_xh.shape[1]}, "
            f"{W_xh.shape[1]}) and b ({W_xh.shape[1]},), got {tuple(W_hh.shape)} and "
            f"{tuple(b.shape)}"
        )
    H = torch.zeros(X.shape[0], W_xh.shape[1], dtype=X.dtype) if H is None else H
    states = []
    for t in range(X.shape[1]):
        H = torch.tanh(X[:, t] @ W_xh + H @ W_hh + b)
        states.append(H)
    return torch.stack(states, dim=1), H


def weights_of(rnn: nn.RNN) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """W_xh (d, h), W_hh (h, h) and b (h,) of a one-layer `nn.RNN`, in the notation of
    `rnn_by_hand`: PyTorch stores the transposes, and two biases whose sum is b."""
    if not isinstance(rnn, nn.RNN) or rnn.num_layers != 1 or rnn.nonlinearity != "tanh":
        raise TypeError(f"expected a one-layer nn.RNN with tanh, got {rnn}")
    b = rnn.bias_ih_l0 + rnn.bias_hh_l0
    return rnn.weight_ih_l0.T, rnn.weight_hh_l0.T, b


class DigitRNN(nn.Module):
    """A recurrent classifier: it reads the 28 rows of a digit as 28 time steps of 28 pixels and
    maps the last hidden state to 10 logits.

    `kind` is 'rnn' (tanh), 'lstm' or 'gru'; `hidden` the size of the hidden state; `order` which
    way the image is read ('rows', 'columns' or 'reversed rows').
    """

    def __init__(self, kind: str = "rnn", hidden: int = 128, order: str = "rows"):
        super().__init__()
        if kind not in CELLS:
            raise ValueError(f"kind must be one of {sorted(CELLS)}, got {kind!r}")
        if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
            raise ValueError(f"hidden must be a whole number of at least 1, got {hidden!r}")
        if order not in ORDERS:
            raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
        self.kind, self.order = kind, order
        self.rnn = CELLS[kind](28, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, X: torch.Tensor, steps: int | None = None) -> torch.Tensor:
        """Logits (N, 10) after reading all 28 time steps, or only the first `steps`."""
        check_images(X, self.head.weight)
        seq = as_sequence(X, self.order)
        if steps is not None:
            if not isinstance(steps, int) or not 1 <= steps <= 28:
                raise ValueError(f"steps must be a whole number from 1 to 28, got {steps!r}")
            seq = seq[:, :steps]
        outputs, _ = self.rnn(seq)
        return self.head(outputs[:, -1])

    def unrolled(self, X: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits (N, 10) and the hidden state after each time step, computed one step at a time
        so that each state is a node of the graph that autograd can differentiate against."""
        check_images(X, self.head.weight)
        seq = as_sequence(X, self.order)
        state, hidden = None, []
        for t in range(seq.shape[1]):
            _, state = self.rnn(seq[:, t : t + 1], state)
            hidden.append(state[0] if self.kind == "lstm" else state)
        return self.head(hidden[-1][0]), hidden


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


def train_steps(
    model: nn.Module,
    loader: Iterable,
    optimizer: torch.optim.Optimizer,
    steps: int,
    max_norm: float | None = None,
) -> tuple[list[float], list[float]]:
    """Train for `steps` batches; return the loss and the gradient norm (before any clipping) of
    each batch. With `max_norm`, `clip_grad_norm_` rescales larger gradients to that norm."""
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a whole number of at least 1, got {steps!r}")
    where = model_device(model)
    model.train()
    losses, norms = [], []
    while len(losses) < steps:
        for X, y in loader:
            loss = nn.functional.cross_entropy(model(X.to(where)), y.to(where))
            optimizer.zero_grad()
            loss.backward()
            limit = max_norm if max_norm is not None else float("inf")
            norms.append(nn.utils.clip_grad_norm_(model.parameters(), limit).item())
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
    return losses, norms
