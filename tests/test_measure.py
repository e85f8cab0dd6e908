"""measure: the failure scan past the first batch, confusion counts, gradient norms per layer and
per time step worked out by hand, feature maps in layer order, receptive fields worked out by hand,
accuracy on the first rows, and perplexity on cases worked out by hand."""

import math

import pytest
import torch
from torch import nn

from mnistlib import data, initialization, measure, models


def test_gradient_norm_of_a_zero_linear_layer_by_hand():
    # Logits 0 → softmax (1/2, 1/2); for label 0, ∂loss/∂z = p - onehot = (-1/2, 1/2), and
    # ∂loss/∂W = outer(∂loss/∂z, x) = [[-1/2, -1], [1/2, 1]] for x = (1, 2): norm √2.5.
    model = initialization.zero_init_(nn.Sequential(nn.Linear(2, 2)))
    norms = measure.gradient_norms(model, torch.tensor([[1.0, 2.0]]), torch.tensor([0]))
    assert norms == {"0": pytest.approx(math.sqrt(2.5))}
    assert model[0].weight.grad is None  # cleared afterwards


def test_gradient_norms_come_in_layer_order_and_vanish_in_deep_sigmoid_nets():
    torch.manual_seed(0)
    model = models.MLP(32, 32, 32, 32, activation=nn.Sigmoid)
    X, y = torch.rand(64, 1, 28, 28), torch.arange(64) % 10
    norms = measure.gradient_norms(model, X, y)
    assert list(norms) == ["layers.1", "layers.3", "layers.5", "layers.7", "layers.9"]
    values = list(norms.values())
    assert values[0] < values[-1] / 100  # sigmoid' <= 1/4 shrinks the gradient at every layer


def test_gradient_norms_reject_bad_input():
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        measure.gradient_norms(models.MLP(4), torch.rand(3, 1, 28, 28), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="Linear or Conv2d layers, got ReLU"):
        measure.gradient_norms(nn.ReLU(), torch.rand(1, 2), torch.tensor([0]))


class AlwaysZero(nn.Module):
    """Predicts digit 0 for every image."""

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(10))

    def forward(self, X):
        logits = torch.zeros(len(X), 10)
        logits[:, 0] = 1.0
        return logits + self.bias


def batch(labels):
    """Images 0, 1, 2, ... (image i all i) with the given labels."""
    y = torch.tensor(labels)
    return torch.arange(len(y)).float().reshape(-1, 1, 1, 1).expand(-1, 1, 28, 28), y


def test_find_failures_scans_past_the_first_batch():
    loader = [batch([0, 0, 0]), batch([0, 5, 0]), batch([7, 8, 9])]
    images, preds, labels = measure.find_failures(AlwaysZero(), loader, n=3)
    assert labels.tolist() == [5, 7, 8] and preds.tolist() == [0, 0, 0]
    assert images.shape == (3, 1, 28, 28)
    assert images[0, 0, 0, 0] == 1.0  # the second image of the second batch


def test_find_failures_returns_fewer_when_the_loader_runs_out():
    _, _, labels = measure.find_failures(AlwaysZero(), [batch([0, 3]), batch([4, 0])], n=10)
    assert labels.tolist() == [3, 4]


def test_confusion_matrix_by_hand():
    counts = measure.confusion_matrix(AlwaysZero(), [batch([0, 1, 1]), batch([2, 0])])
    expected = torch.zeros(10, 10, dtype=torch.long)
    expected[0, 0], expected[1, 0], expected[2, 0] = 2, 2, 1
    assert torch.equal(counts, expected)


def test_hidden_gradients_at_the_last_step_match_autograd():
    torch.manual_seed(0)
    model = models.DigitRNN("rnn", 8)
    X, y = torch.randn(3, 1, 28, 28), torch.tensor([1, 2, 3])
    norms = measure.hidden_gradients(model, X, y)
    assert norms.shape == (28,)
    # at the last step the gradient is (softmax - onehot) @ W_out, image by image
    probs = torch.softmax(model(X), dim=1) - nn.functional.one_hot(y, 10)
    expected = (probs @ model.head.weight).norm(dim=1).mean()
    torch.testing.assert_close(norms[-1], expected.detach())
    with pytest.raises(TypeError, match="expected a DigitRNN, got MLP"):
        measure.hidden_gradients(models.MLP(4), X, y)


def test_feature_maps_of_a_small_cnn_come_in_layer_order():
    model = models.SmallCNN((4, 8))
    maps = measure.feature_maps(model, torch.rand(1, 28, 28))
    assert list(maps) == ["conv 1", "relu 1", "pool 1", "conv 2", "relu 2", "pool 2"]
    assert maps["pool 1"].shape == (4, 14, 14) and maps["pool 2"].shape == (8, 7, 7)
    assert not model._forward_hooks and not model.layers[0]._forward_hooks


def test_receptive_field_of_convnet_and_two_digit_cnn_by_hand():
    # Each layer adds (k - 1) times the jump so far and multiplies the jump by its stride:
    # 3 × 3 conv: 1 + 2 = 3; 2 × 2 pool: 3 + 1 = 4, jump 2; conv: 4 + 2·2 = 8; pool: 8 + 2 = 10,
    # jump 4; a third block: 10 + 2·4 = 18, then 18 + 4 = 22, jump 8. Padding changes nothing.
    two_blocks = [("conv 1", 3, 1), ("pool 1", 4, 2), ("conv 2", 8, 2), ("pool 2", 10, 4)]
    assert measure.receptive_field(models.ConvNet()) == two_blocks
    assert measure.receptive_field(models.SmallCNN((4, 8))) == two_blocks
    three_blocks = two_blocks + [("conv 3", 18, 4), ("pool 3", 22, 8)]
    assert measure.receptive_field(models.TwoDigitCNN()) == three_blocks


def test_receptive_field_with_stride_and_dilation_by_hand():
    # 5 × 5 conv at stride 2: 5, jump 2; 3 × 3 conv with dilation 2 spans 5 input positions of
    # the previous layer, 2 apart: 5 + 2·2·2 = 13; a 3 × 3 average pool at stride 3: 13 + 2·2 = 17.
    model = nn.Sequential(
        nn.Conv2d(1, 1, 5, stride=2), nn.Conv2d(1, 1, 3, dilation=2), nn.AvgPool2d(3)
    )
    assert measure.receptive_field(model) == [
        ("conv 1", 5, 2),
        ("conv 2", 13, 2),
        ("pool 1", 17, 6),
    ]


def test_receptive_field_rejects_models_it_cannot_measure():
    with pytest.raises(ValueError, match="Conv2d or pooling"):
        measure.receptive_field(models.MLP(30))
    with pytest.raises(ValueError, match="square"):
        measure.receptive_field(nn.Conv2d(1, 1, (3, 5)))


def test_accuracy_first_rows_hides_the_rows_below():
    class LastRowInk(nn.Module):  # class 1 when the last row holds ink, else class 0
        def forward(self, X):
            ink = (X[:, 0, 27] > 0).any(dim=1).long()
            return nn.functional.one_hot(ink, 10).float()

    images = torch.zeros(20, 28, 28, dtype=torch.uint8)
    images[:, 27] = 255
    loader = data.InMemoryLoader((images, torch.ones(20, dtype=torch.long)), batch_size=8)
    assert measure.accuracy_first_rows(LastRowInk(), loader, [27, 28]) == [0.0, 100.0]
    with pytest.raises(ValueError, match="row counts from 0 to 28"):
        measure.accuracy_first_rows(LastRowInk(), loader, [29])


def test_uniform_perplexity_is_the_number_of_choices():
    for size in (2, 10, 104):
        logits = torch.zeros(7, size)
        assert measure.perplexity(logits, torch.arange(7) % size) == pytest.approx(size)


def test_perfect_model_has_perplexity_one():
    targets = torch.tensor([3, 1, 4, 1, 5])
    logits = 100.0 * torch.nn.functional.one_hot(targets, 10).float()
    assert measure.perplexity(logits, targets) == pytest.approx(1.0)


def test_perplexity_of_a_known_distribution():
    # probabilities 1/2 and 1/8 for the two observed symbols: exp(-(ln 1/2 + ln 1/8) / 2) = 4
    probs = torch.tensor([[0.5, 0.25, 0.25], [0.125, 0.125, 0.75]])
    assert measure.perplexity(probs.log(), torch.tensor([0, 1])) == pytest.approx(4.0)
    # sequence logits (B, T, V) work the same way
    logits = probs.log()[None]
    assert measure.perplexity(logits, torch.tensor([[0, 1]])) == pytest.approx(4.0)


def test_perplexity_errors():
    with pytest.raises(ValueError, match="expected logits of shape"):
        measure.perplexity(torch.zeros(4, 10), torch.zeros(5, dtype=torch.long))
