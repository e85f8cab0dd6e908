"""two_digits: canvas shapes, both labels right, determinism, the overlap inside the canvas,
errors on bad sizes, the loader's label order, and per-digit accuracy."""

import pytest
import torch
from torch import nn

from mnistlib import two_digits


def digits(n=30):
    """n distinct fake digits: image i is all `i + 1`, its label i % 10."""
    images = (torch.arange(1, n + 1, dtype=torch.uint8)[:, None, None]).expand(n, 28, 28)
    return images.clone(), torch.arange(n) % 10


def test_shapes_and_both_labels_right():
    images, labels = digits()
    canvas, pairs = two_digits.make_two_digits((images, labels))
    assert canvas.shape == (30, 42, 28) and canvas.dtype == torch.uint8
    assert pairs.shape == (30, 2) and pairs.dtype == torch.int64
    top_image = canvas[:, 0, 0].long() - 1  # row 0 holds the top digit only
    bottom_image = canvas[:, 41, 0].long() - 1  # row 41 holds the bottom digit only
    assert torch.equal(top_image, torch.arange(30))  # by default every image is on top once
    assert torch.equal(pairs[:, 0], labels[top_image])
    assert torch.equal(pairs[:, 1], labels[bottom_image])
    assert (top_image != bottom_image).all()


def test_overlap_rows_keep_the_larger_value_and_stay_inside_the_canvas():
    images, labels = digits()
    canvas, _ = two_digits.make_two_digits((images, labels), offset=10)
    assert canvas.shape == (30, 38, 28)
    top, bottom = canvas[:, 0, 0], canvas[:, -1, 0]
    assert torch.equal(canvas[:, 10:28, 0], torch.maximum(top, bottom)[:, None].expand(30, 18))
    assert torch.equal(canvas[:, :10, 0], top[:, None].expand(30, 10))


def test_same_seed_same_canvases_other_seed_other_pairs():
    data = digits()
    first, second = (
        two_digits.make_two_digits(data, 20, seed=3),
        two_digits.make_two_digits(data, 20, seed=3),
    )
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert not torch.equal(first[0], two_digits.make_two_digits(data, 20, seed=4)[0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "expected 1 <= n <= 30 canvases"),
        ({"n": 31}, "expected 1 <= n <= 30 canvases"),
        ({"offset": 28}, "offset must be a whole number of rows from 1 to 27"),
        ({"offset": 0}, "offset must be a whole number of rows from 1 to 27"),
    ],
)
def test_bad_sizes_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        two_digits.make_two_digits(digits(), **kwargs)


def test_loader_yields_one_label_per_digit_in_model_order():
    canvas, pairs = two_digits.make_two_digits(digits(), 10)
    loader = two_digits.TwoDigitLoader(canvas, pairs, batch_size=4, normalize=True)
    X, y = next(iter(loader))
    assert X.shape == (4, 1, 42, 28) and X.dtype == torch.float32
    assert torch.equal(y, pairs[:4].flatten())
    assert len(loader) == 3
    blank = two_digits.TwoDigitLoader(canvas, pairs, batch_size=4, augment=lambda X: X * 0)
    assert next(iter(blank))[0].abs().sum() == 0
    with pytest.raises(ValueError, match=r"expected labels of shape \(10, 2\)"):
        two_digits.TwoDigitLoader(canvas, pairs[:, 0])
    with pytest.raises(ValueError, match=r"uint8 canvases of shape \(N, H, 28\)"):
        two_digits.TwoDigitLoader(canvas.float(), pairs)


def test_loader_is_an_in_memory_loader_with_its_own_seed():
    canvas, pairs = two_digits.make_two_digits(digits(), 10)
    first, again = (
        two_digits.TwoDigitLoader(canvas, pairs, batch_size=4, shuffle=True, seed=3)
        for _ in range(2)
    )
    labels = [y for _, y in first]
    assert all(torch.equal(a, b) for a, b in zip(labels, [y for _, y in again], strict=True))
    assert sorted(torch.cat(labels).tolist()) == sorted(pairs.flatten().tolist())
    with pytest.raises(ValueError, match="batch_size must be a whole number of at least 1"):
        two_digits.TwoDigitLoader(canvas, pairs, batch_size=0)


class Oracle(nn.Module):
    """Reads the labels back from the fake canvases: right on top, `bottom` on the bottom."""

    def __init__(self, bottom=0):
        super().__init__()
        self.bottom, self.w = bottom, nn.Parameter(torch.zeros(1))

    def forward(self, X):
        top = (X[:, 0, 0, 0] * 255).round().long() - 1
        logits = torch.zeros(len(X), 2, 10)
        logits[torch.arange(len(X)), 0, top % 10] = 1
        logits[:, 1, self.bottom] = 1
        return logits.view(-1, 10) + self.w


def test_digit_accuracies_counts_each_position_apart():
    canvas, pairs = two_digits.make_two_digits(digits(), 30)
    loader = two_digits.TwoDigitLoader(canvas, pairs, batch_size=8)
    top, bottom = two_digits.digit_accuracies(Oracle(bottom=0), loader)
    assert top == 100.0
    assert bottom == pytest.approx(100 * (pairs[:, 1] == 0).float().mean().item())
