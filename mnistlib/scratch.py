"""A tiny network written by hand in NumPy: forward pass, backpropagation, SGD, gradient check.

The network has 2 inputs, 3 hidden ReLU units with biases and one output without bias or
activation, trained on the squared loss ½(y − a)²:

    z = x W1 + b1      (3,)   pre-activations of the hidden units
    h = relu(z)        (3,)   hidden activations; relu'(0) is taken as 0
    a = h · w2         ()     the output
"""

from __future__ import annotations

import numpy as np

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
