"""recurrent: the image as a sequence, the recurrence by hand against nn.RNN, parameter counts,
gradients per time step, reading the first rows, and errors on bad input."""

import pytest
import torch
from torch import nn

from mnistlib import data, models, recurrent


def test_rows_columns_and_reversed_rows():
    X = torch.arange(2 * 28 * 28, dtype=torch.float32).reshape(2, 1, 28, 28)
    rows = recurrent.as_sequence(X)
    assert rows.shape == (2, 28, 28)
    assert torch.equal(rows[1, 3], X[1, 0, 3])
    assert torch.equal(recurrent.as_sequence(X, "columns")[1, 3], X[1, 0, :, 3])
    assert torch.equal(recurrent.as_sequence(X, "reversed rows")[1, 0], X[1, 0, 27])


def test_recurrence_by_hand_equals_nn_rnn():
    torch.manual_seed(0)
    rnn = nn.RNN(28, 16, batch_first=True)
    X = torch.randn(5, 28, 28)
    outputs, last = rnn(X)
    mine, mine_last = recurrent.rnn_by_hand(X, *recurrent.weights_of(rnn))
    torch.testing.assert_close(mine, outputs)
    torch.testing.assert_close(mine_last, last[0])


def test_recurrence_by_hand_on_numbers_worked_out():
    # one unit, W_xh = 1, W_hh = 0.5, b = 0: h1 = tanh(1), h2 = tanh(0 + 0.5 tanh(1))
    X = torch.tensor([[[1.0], [0.0]]])
    states, _ = recurrent.rnn_by_hand(X, torch.ones(1, 1), torch.full((1, 1), 0.5), torch.zeros(1))
    h1 = torch.tanh(torch.tensor(1.0))
    torch.testing.assert_close(states[0, :, 0], torch.stack([h1, torch.tanh(0.5 * h1)]))


@pytest.mark.parametrize(
    ("kind", "cell"),
    [
        ("rnn", 28 * 128 + 128 * 128 + 2 * 128),
        ("lstm", 4 * (28 * 128 + 128 * 128 + 2 * 128)),
        ("gru", 3 * (28 * 128 + 128 * 128 + 2 * 128)),
    ],
)
def test_parameter_counts_by_hand(kind, cell):
    model = recurrent.DigitRNN(kind, 128)
    assert models.count_parameters(model.rnn) == cell
    assert models.count_parameters(model) == cell + 128 * 10 + 10
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)


def test_vanilla_cell_is_the_tensorflow_count_plus_one_bias():
    assert models.count_parameters(recurrent.DigitRNN("rnn").rnn) == 20_096 + 128


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_unrolled_agrees_with_forward(kind):
    torch.manual_seed(0)
    model = recurrent.DigitRNN(kind, 12)
    X = torch.randn(4, 1, 28, 28)
    logits, hidden = model.unrolled(X)
    torch.testing.assert_close(logits, model(X))
    assert len(hidden) == 28 and hidden[0].shape == (1, 4, 12)


def test_hidden_gradients_at_the_last_step_match_autograd():
    torch.manual_seed(0)
    model = recurrent.DigitRNN("rnn", 8)
    X, y = torch.randn(3, 1, 28, 28), torch.tensor([1, 2, 3])
    norms = recurrent.hidden_gradients(model, X, y)
    assert norms.shape == (28,)
    # at the last step the gradient is (softmax - onehot) @ W_out, image by image
    probs = torch.softmax(model(X), dim=1) - nn.functional.one_hot(y, 10)
    expected = (probs @ model.head.weight).norm(dim=1).mean()
    torch.testing.assert_close(norms[-1], expected.detach())


def test_reading_steps_changes_what_the_model_sees():
    torch.manual_seed(0)
    model = recurrent.DigitRNN("gru", 8)
    X = torch.randn(2, 1, 28, 28)
    X2 = X.clone()
    X2[:, :, 10:] = 0  # rows the model does not read when steps=10
    torch.testing.assert_close(model(X, steps=10), model(X2, steps=10))
    assert not torch.allclose(model(X), model(X2))


def test_accuracy_first_rows_hides_the_rows_below():
    class LastRowInk(nn.Module):  # class 1 when the last row holds ink, else class 0
        def forward(self, X):
            ink = (X[:, 0, 27] > 0).any(dim=1).long()
            return nn.functional.one_hot(ink, 10).float()

    images = torch.zeros(20, 28, 28, dtype=torch.uint8)
    images[:, 27] = 255
    loader = data.InMemoryLoader((images, torch.ones(20, dtype=torch.long)), batch_size=8)
    assert recurrent.accuracy_first_rows(LastRowInk(), loader, [27, 28]) == [0.0, 100.0]
    with pytest.raises(ValueError, match="row counts from 0 to 28"):
        recurrent.accuracy_first_rows(LastRowInk(), loader, [29])


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((4, 28, 28), "add the channel axis"),
        ((4, 784), "did you flatten twice"),
        ((4, 1, 28, 27), "expected images of shape \\(N, 1, 28, 28\\)"),
    ],
)
def test_wrong_shape_is_refused_clearly(shape, message):
    with pytest.raises(ValueError, match=message):
        recurrent.DigitRNN("lstm", 8)(torch.rand(shape))


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        recurrent.DigitRNN("transformer")
    with pytest.raises(ValueError, match="order must be one of"):
        recurrent.DigitRNN("rnn", order="diagonal")
    with pytest.raises(ValueError, match="steps must be a whole number from 1 to 28"):
        recurrent.DigitRNN("rnn", 4)(torch.rand(1, 1, 28, 28), steps=0)
    with pytest.raises(ValueError, match="expected sequences of shape \\(N, T, 28\\)"):
        recurrent.rnn_by_hand(torch.rand(2, 28), torch.rand(28, 4), torch.rand(4, 4), torch.rand(4))
