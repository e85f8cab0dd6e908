"""The longhand code: the NumPy network of notebook 03 (forward values, gradients, training, input
checks), convolution and pooling by hand against torch.nn.functional, and the recurrence by hand
against nn.RNN."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mnistlib import scratch

BIAS = (-0.5, 0.0, 0.5)


def target(X):
    """The function notebook 03 teaches the network: y = x1 + 2|x2|."""
    return X[:, 0] + 2 * np.abs(X[:, 1])


def grid():
    values = np.linspace(-1, 1, 5)
    return np.array([(x1, x2) for x1 in values for x2 in values])


def autograd_gradients(params, X, y):
    """The same network and loss in PyTorch; gradients by autograd."""
    p = {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}
    a = torch.relu(torch.tensor(X) @ p["W1"] + p["b1"]) @ p["w2"]
    loss = (0.5 * (torch.tensor(y) - a) ** 2).mean()
    loss.backward()
    return {name: value.grad.numpy() for name, value in p.items()}


def random_problem(seed):
    """Random parameters and points, none with a hidden pre-activation near 0 (a ReLU kink)."""
    rng = np.random.default_rng(seed)
    params = {
        "W1": rng.normal(size=(2, 3)),
        "b1": rng.normal(size=3),
        "w2": rng.normal(size=3),
    }
    X = rng.uniform(-1, 1, size=(8, 2))
    z = X @ params["W1"] + params["b1"]
    X = X[np.all(np.abs(z) > 1e-3, axis=1)]
    return params, X, target(X)


def test_init_params_shapes_and_values():
    params = scratch.init_params(bias=BIAS)
    assert params["W1"].shape == (2, 3) and np.all(params["W1"] == 1)
    assert params["w2"].shape == (3,) and np.all(params["w2"] == 1)
    np.testing.assert_array_equal(params["b1"], BIAS)
    np.testing.assert_array_equal(scratch.init_params()["b1"], np.zeros(3))


def test_forward_matches_hand_computation():
    # z = 0.7 + 0.2 + (-0.5, 0, 0.5) = (0.4, 0.9, 1.4), all positive, so a = 0.4 + 0.9 + 1.4
    a, cache = scratch.forward(scratch.init_params(bias=BIAS), np.array([[0.7, 0.2]]))
    np.testing.assert_allclose(cache["z"], [[0.4, 0.9, 1.4]])
    np.testing.assert_allclose(a, [2.7])
    assert scratch.loss(a, np.array([1.1])) == pytest.approx(0.5 * 1.6**2)


def test_relu_units_below_zero_are_silent():
    a, cache = scratch.forward(scratch.init_params(bias=BIAS), np.array([[0.2, -0.5]]))
    np.testing.assert_allclose(cache["h"], [[0.0, 0.0, 0.2]])
    np.testing.assert_allclose(a, [0.2])


def test_backward_matches_hand_computation():
    params = scratch.init_params(bias=BIAS)
    X, y = np.array([[0.7, 0.2]]), np.array([1.1])
    a, cache = scratch.forward(params, X)
    grads = scratch.backward(params, cache, a, y)
    np.testing.assert_allclose(grads["w2"], [0.64, 1.44, 2.24])
    np.testing.assert_allclose(grads["b1"], [1.6, 1.6, 1.6])
    np.testing.assert_allclose(grads["W1"], [[1.12] * 3, [0.32] * 3])


@pytest.mark.parametrize("seed", range(5))
def test_gradients_match_autograd(seed):
    params, X, y = random_problem(seed)
    a, cache = scratch.forward(params, X)
    ours = scratch.backward(params, cache, a, y)
    theirs = autograd_gradients(params, X, y)
    for name in params:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_gradients_match_finite_differences(seed):
    params, X, y = random_problem(seed)
    a, cache = scratch.forward(params, X)
    ours = scratch.backward(params, cache, a, y)
    numeric = scratch.numerical_gradients(params, X, y)
    for name in params:
        np.testing.assert_allclose(ours[name], numeric[name], rtol=1e-5, atol=1e-7)


def test_relu_derivative_at_zero_is_zero_as_in_pytorch():
    params = scratch.init_params(bias=BIAS)
    X = np.array([[0.25, 0.25]])  # z of the first hidden unit is exactly 0
    y = target(X)
    a, cache = scratch.forward(params, X)
    assert cache["z"][0, 0] == 0.0
    ours = scratch.backward(params, cache, a, y)
    assert ours["b1"][0] == 0.0
    np.testing.assert_allclose(ours["b1"], autograd_gradients(params, X, y)["b1"])


def test_sgd_step_moves_against_the_gradient():
    params = scratch.init_params()
    grads = {name: np.ones_like(value) for name, value in params.items()}
    new = scratch.sgd_step(params, grads, lr=0.1)
    for name in params:
        np.testing.assert_allclose(new[name], params[name] - 0.1)
    assert np.all(params["W1"] == 1), "sgd_step must not change its input"


def test_training_brings_the_loss_below_0_15():
    X = grid()
    params, losses = scratch.train(
        scratch.init_params(bias=BIAS), X, target(X), lr=0.03, epochs=100
    )
    assert losses[0] > 0.15
    assert losses[-1] < 0.15
    assert scratch.loss(scratch.forward(params, X)[0], target(X)) == pytest.approx(losses[-1])


def test_equal_biases_keep_the_hidden_units_identical():
    X = grid()
    params, losses = scratch.train(scratch.init_params(), X, target(X), lr=0.03, epochs=100)
    for name in ("W1", "b1", "w2"):
        columns = params[name].reshape(-1, 3)
        np.testing.assert_allclose(columns, columns[:, :1].repeat(3, axis=1))
    assert losses[-1] > 0.15  # three identical units do no better than one


def test_training_is_reproducible():
    X = grid()
    _, first = scratch.train(scratch.init_params(bias=BIAS), X, target(X), epochs=5, seed=3)
    _, again = scratch.train(scratch.init_params(bias=BIAS), X, target(X), epochs=5, seed=3)
    assert first == again


@pytest.mark.parametrize("shape", [(2,), (4, 3), (1, 2, 2)])
def test_forward_rejects_bad_input_shapes(shape):
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        scratch.forward(scratch.init_params(), np.zeros(shape))


def test_one_point_without_batch_axis_gets_a_hint():
    with pytest.raises(ValueError, match=r"reshape\(1, 2\)"):
        scratch.forward(scratch.init_params(), np.zeros(2))


def test_bad_target_shapes_are_rejected():
    X = grid()
    with pytest.raises(ValueError, match=r"shape \(25,\)"):
        scratch.train(scratch.init_params(), X, target(X)[:, None], epochs=1)
    with pytest.raises(ValueError, match="one shape"):
        scratch.loss(np.zeros(3), np.zeros(4))


@pytest.mark.parametrize(("padding", "stride"), [(0, 1), (1, 1), (1, 2), (2, 3)])
def test_conv2d_by_hand_equals_f_conv2d(padding, stride):
    torch.manual_seed(0)
    image, kernel = torch.rand(3, 9, 8), torch.randn(3, 3, 3)
    expected = F.conv2d(image[None], kernel[None], padding=padding, stride=stride)[0, 0]
    by_hand = scratch.conv2d_by_hand(image, kernel, padding, stride)
    torch.testing.assert_close(by_hand, expected)


def test_conv2d_by_hand_on_one_channel_and_its_errors():
    image = torch.arange(25.0).reshape(5, 5)
    ones = torch.ones(3, 3)
    assert scratch.conv2d_by_hand(image, ones)[0, 0] == image[:3, :3].sum()
    with pytest.raises(ValueError, match="the image has 2 channels but the kernel has 1"):
        scratch.conv2d_by_hand(torch.rand(2, 5, 5), ones)
    with pytest.raises(ValueError, match=r"expected an image of shape \(H, W\) or \(C, H, W\)"):
        scratch.conv2d_by_hand(torch.rand(1, 1, 5, 5), ones)


@pytest.mark.parametrize(("kind", "reference"), [("max", F.max_pool2d), ("average", F.avg_pool2d)])
def test_pool2d_by_hand_equals_torch(kind, reference):
    image = torch.rand(6, 7)
    expected = reference(image[None, None], 2)[0, 0]
    torch.testing.assert_close(scratch.pool2d_by_hand(image, 2, kind), expected)
    integers = torch.tensor([[1, 2], [4, 8]])
    assert scratch.pool2d_by_hand(integers, 2, kind).item() == (8 if kind == "max" else 3.75)
    with pytest.raises(ValueError, match="kind must be 'max' or 'average'"):
        scratch.pool2d_by_hand(image, 2, "min")


def test_recurrence_by_hand_equals_nn_rnn():
    torch.manual_seed(0)
    rnn = nn.RNN(28, 16, batch_first=True)
    X = torch.randn(5, 28, 28)
    outputs, last = rnn(X)
    mine, mine_last = scratch.rnn_by_hand(X, *scratch.weights_of(rnn))
    torch.testing.assert_close(mine, outputs)
    torch.testing.assert_close(mine_last, last[0])


def test_recurrence_by_hand_on_numbers_worked_out():
    # one unit, W_xh = 1, W_hh = 0.5, b = 0: h1 = tanh(1), h2 = tanh(0 + 0.5 tanh(1))
    X = torch.tensor([[[1.0], [0.0]]])
    states, _ = scratch.rnn_by_hand(X, torch.ones(1, 1), torch.full((1, 1), 0.5), torch.zeros(1))
    h1 = torch.tanh(torch.tensor(1.0))
    torch.testing.assert_close(states[0, :, 0], torch.stack([h1, torch.tanh(0.5 * h1)]))


def test_recurrence_by_hand_refuses_bad_shapes():
    with pytest.raises(ValueError, match="expected sequences of shape \\(N, T, 28\\)"):
        scratch.rnn_by_hand(torch.rand(2, 28), torch.rand(28, 4), torch.rand(4, 4), torch.rand(4))
    with pytest.raises(TypeError, match="one-layer nn.RNN with tanh"):
        scratch.weights_of(nn.LSTM(28, 4))
