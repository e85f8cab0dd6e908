"""The longhand code each lesson checks PyTorch against: a tiny network in NumPy (03),
convolution and pooling as loops (05), and the recurrence one time step at a time (06).

The NumPy network has 2 inputs, 3 hidden ReLU units with biases and one output without bias or
activation, trained on the squared loss ½(y − a)²:

    z = x W1 + b1      (3,)   pre-activations of the hidden units
    h = relu(z)        (3,)   hidden activations; relu'(0) is taken as 0
    a = h · w2         ()     the output
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mnistlib.models import output_size

Params = dict[str, np.ndarray]  # "W1" (n_in, n_hidden), "b1" (n_hidden,), "w2" (n_hidden,)
Cache = dict[str, np.ndarray]  # what the backward pass needs from the forward pass


def init_params(n_in: int = 2, n_hidden: int = 3, weight: float = 1.0, bias=0.0) -> Params:
    """Weights all equal to `weight`; biases `bias` (one number, or one per hidden unit)."""
    b1 = np.broadcast_to(np.asarray(bias, dtype=float), (n_hidden,)).copy()
    return {
        "W1": np.full((n_in, n_hidden), float(weight)),
        "b1": b1,
        "w2": np.full(n_hidden, float(weight)),
    }


def _check(params: Params, X: np.ndarray, y: np.ndarray | None = None) -> None:
    """Raise a ValueError naming the expected shape unless X is (N, n_in) and y is (N,)."""
    n_in = params["W1"].shape[0]
    if X.ndim != 2 or X.shape[1] != n_in:
        hint = f"; for one point use X.reshape(1, {n_in})" if X.ndim == 1 else ""
        raise ValueError(f"expected inputs X of shape (N, {n_in}), got {X.shape}{hint}")
    if y is not None and y.shape != (len(X),):
        raise ValueError(f"expected targets y of shape ({len(X)},), got {y.shape}")


def relu(z: np.ndarray) -> np.ndarray:
    """max(z, 0), element by element."""
    return np.maximum(z, 0.0)


def forward(params: Params, X: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Outputs a (N,) for inputs X (N, n_in), and the cache of z and h for the backward pass."""
    X = np.asarray(X, dtype=float)
    _check(params, X)
    z = X @ params["W1"] + params["b1"]
    h = relu(z)
    a = h @ params["w2"]
    return a, {"X": X, "z": z, "h": h}


def loss(a: np.ndarray, y: np.ndarray) -> float:
    """Mean over the points of the squared loss ½(y − a)²."""
    a, y = np.asarray(a, dtype=float), np.asarray(y, dtype=float)
    if a.shape != y.shape:
        raise ValueError(f"expected outputs and targets of one shape, got {a.shape} and {y.shape}")
    return float(np.mean(0.5 * (y - a) ** 2))


def backward(params: Params, cache: Cache, a: np.ndarray, y: np.ndarray) -> Params:
    """Gradients of the mean loss with respect to W1, b1 and w2, by the chain rule."""
    y = np.asarray(y, dtype=float)
    _check(params, cache["X"], y)
    n = len(y)
    delta = (a - y) / n  # dL/da for each point (N,)
    d_w2 = cache["h"].T @ delta  # dL/dw2 = sum over points of delta * h
    d_h = np.outer(delta, params["w2"])  # dL/dh (N, n_hidden)
    d_z = d_h * (cache["z"] > 0)  # dL/dz: relu'(z) is 1 where z > 0, else 0
    d_W1 = cache["X"].T @ d_z  # dL/dW1 (n_in, n_hidden)
    d_b1 = d_z.sum(axis=0)  # dL/db1 (n_hidden,)
    return {"W1": d_W1, "b1": d_b1, "w2": d_w2}


def sgd_step(params: Params, grads: Params, lr: float) -> Params:
    """New parameters: each one minus `lr` times its gradient."""
    return {name: value - lr * grads[name] for name, value in params.items()}


def train(
    params: Params, X: np.ndarray, y: np.ndarray, lr: float = 0.01, epochs: int = 100, seed: int = 0
) -> tuple[Params, list[float]]:
    """SGD, one point at a time in a shuffled order; return the trained parameters and the mean
    loss over all points after each epoch."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    _check(params, X, y)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        for i in rng.permutation(len(X)):
            a, cache = forward(params, X[i : i + 1])
            params = sgd_step(params, backward(params, cache, a, y[i : i + 1]), lr)
        losses.append(loss(forward(params, X)[0], y))
    return params, losses


def numerical_gradients(params: Params, X: np.ndarray, y: np.ndarray, eps: float = 1e-6) -> Params:
    """Gradients of the mean loss by central finite differences, (L(p + ε) − L(p − ε)) / 2ε."""
    grads = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            shifted = {k: v.copy() for k, v in params.items()}
            shifted[name][index] = value[index] + eps
            up = loss(forward(shifted, X)[0], y)
            shifted[name][index] = value[index] - eps
            down = loss(forward(shifted, X)[0], y)
            grad[index] = (up - down) / (2 * eps)
        grads[name] = grad
    return grads


def _as_channels(x: torch.Tensor, what: str) -> torch.Tensor:
    """`x` as (C, H, W): a single (H, W) image gets one channel."""
    if not isinstance(x, torch.Tensor) or x.ndim not in (2, 3):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"expected {what} of shape (H, W) or (C, H, W), got {shape}")
    return x.unsqueeze(0) if x.ndim == 2 else x


def conv2d_by_hand(
    image: torch.Tensor, kernel: torch.Tensor, padding: int = 0, stride: int = 1
) -> torch.Tensor:
    """The (H_out, W_out) feature map of one kernel slid over one image: at each position, the sum
    of the products of the kernel's weights and the pixels under it, over every channel.

    `image` is (H, W) or (C, H, W); `kernel` is (k, k) or (C, k, k), one k × k slice per input
    channel. Like `F.conv2d`, it does not flip the kernel (strictly a cross-correlation).
    """
    x, w = _as_channels(image, "an image"), _as_channels(kernel, "a kernel")
    if x.shape[0] != w.shape[0]:
        raise ValueError(
            f"the image has {x.shape[0]} channels but the kernel has {w.shape[0]}; "
            "a kernel needs one slice per input channel"
        )
    k_h, k_w = w.shape[1:]
    out_h = output_size(x.shape[1], k_h, padding, stride)
    out_w = output_size(x.shape[2], k_w, padding, stride)
    x = F.pad(x, (padding,) * 4)
    out = torch.empty(out_h, out_w, dtype=torch.result_type(x, w))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, i * stride : i * stride + k_h, j * stride : j * stride + k_w]
            out[i, j] = (patch * w).sum()
    return out


def pool2d_by_hand(image: torch.Tensor, size: int = 2, kind: str = "max") -> torch.Tensor:
    """Max or average pooling of an (H, W) image over non-overlapping `size` × `size` windows:
    the largest value of each window (same dtype) or its mean (float32), (H // size, W // size)."""
    if kind not in ("max", "average"):
        raise ValueError(f"kind must be 'max' or 'average', got {kind!r}")
    if not isinstance(image, torch.Tensor) or image.ndim != 2:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"expected one image of shape (H, W), got {shape}")
    out_h, out_w = (
        output_size(image.shape[0], size, stride=size),
        output_size(image.shape[1], size, stride=size),
    )
    out = torch.empty(out_h, out_w, dtype=image.dtype if kind == "max" else torch.float32)
    for i in range(out_h):
        for j in range(out_w):
            window = image[i * size : (i + 1) * size, j * size : (j + 1) * size]
            out[i, j] = window.max() if kind == "max" else window.float().mean()
    return out


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
