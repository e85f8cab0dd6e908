"""augment: whole-pixel shifts, rotations on tall images, seeded random moves, bad input."""

import pytest
import torch

from mnistlib import augment


def test_whole_pixel_shift_moves_pixels_exactly():
    X = torch.zeros(2, 1, 28, 28)
    X[:, 0, 10, 5] = 1.0
    moved = augment.transform(X, dx=3, dy=-2)
    assert torch.nonzero(moved[0, 0] > 0.999).tolist() == [[8, 8]]
    torch.testing.assert_close(moved.sum(), X.sum())


def test_rotation_by_90_degrees_turns_anticlockwise_on_tall_images_too():
    X = torch.zeros(1, 1, 42, 28)
    X[0, 0, 10, 5] = 1.0  # 10.5 rows above and 8.5 columns left of the centre (20.5, 13.5)
    turned = augment.transform(X, degrees=90)
    assert torch.nonzero(turned[0, 0] > 0.3).tolist() == [[29, 3]]  # now below and left


def test_random_moves_follow_the_global_seed_and_keep_shape():
    moves = augment.random_moves(max_degrees=15, max_shift=2)
    X = torch.rand(4, 1, 28, 28)
    torch.manual_seed(1)
    first = moves(X)
    torch.manual_seed(1)
    assert torch.equal(first, moves(X)) and first.shape == X.shape
    assert not torch.equal(first, X)
    with pytest.raises(ValueError, match="max_shift >= 0"):
        augment.random_moves(max_shift=-1)


def test_transform_rejects_a_single_image():
    with pytest.raises(ValueError, match=r"float batch of shape \(B, C, H, W\), got \(28, 28\)"):
        augment.transform(torch.rand(28, 28), dx=1)


def test_random_shifts_move_each_image_by_whole_pixels_within_the_range():
    X = torch.zeros(200, 1, 28, 28)
    X[:, 0, 10, 5] = 1.0
    torch.manual_seed(0)
    moved = augment.random_shifts(2)(X)
    assert moved.shape == X.shape
    rows, cols = torch.nonzero(moved[:, 0] == 1.0)[:, 1:].T  # exactly one pixel per image
    assert len(rows) == 200 and torch.equal(moved.sum(dim=(1, 2, 3)), torch.ones(200))
    dy, dx = rows - 10, cols - 5
    assert set(dy.tolist()) == set(dx.tolist()) == {-2, -1, 0, 1, 2}  # every shift drawn


def test_random_shifts_move_the_whole_image_and_keep_channels_apart():
    X = torch.arange(2 * 3 * 5 * 4, dtype=torch.float32).view(2, 3, 5, 4)
    torch.manual_seed(3)
    moved = augment.random_shifts(1)(X)
    torch.manual_seed(3)
    dx, dy = torch.randint(-1, 2, (2, 2, 1)).squeeze(-1)
    for b in range(2):  # against augment.transform, which moves whole pixels exactly
        expected = augment.transform(X[b : b + 1], dx=float(dx[b]), dy=float(dy[b]))
        torch.testing.assert_close(moved[b : b + 1], expected)


def test_random_shifts_reject_a_fraction_of_a_pixel_and_a_single_image():
    with pytest.raises(ValueError, match="whole number of pixels >= 0, got 1.5"):
        augment.random_shifts(1.5)
    with pytest.raises(ValueError, match=r"batch of shape \(B, C, H, W\), got \(28, 28\)"):
        augment.random_shifts(2)(torch.rand(28, 28))
