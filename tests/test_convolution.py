"""convolution: the output-size rule against PyTorch's layers, and the by-hand convolution and
pooling against torch.nn.functional."""

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mnistlib import convolution

CASES = [
    (n, k, p, s)
    for n, k, p, s in itertools.product((1, 5, 7, 28, 42), (1, 2, 3, 5, 7), (0, 1, 2, 3), (1, 2, 3))
    if k <= n + 2 * p
]


@pytest.mark.parametrize(("n", "k", "p", "s"), CASES)
def test_output_size_matches_conv2d_and_max_pool(n, k, p, s):
    X = torch.zeros(1, 1, n, n)
    conv = nn.Conv2d(1, 1, kernel_size=k, padding=p, stride=s)
    assert conv(X).shape[-1] == convolution.output_size(n, k, p, s)
    if p <= k // 2:  # PyTorch allows pooling padding of at most half the kernel
        pool = nn.MaxPool2d(kernel_size=k, stride=s, padding=p)
        assert pool(X).shape[-1] == convolution.output_size(n, k, p, s)


def test_output_size_of_the_worked_examples():
    assert convolution.output_size(5, 3) == 3  # valid
    assert convolution.output_size(5, 3, padding=1) == 5  # same
    assert convolution.output_size(5, 3, padding=1, stride=2) == 3
    assert convolution.output_size(28, 2, stride=2) == 14  # 2 × 2 max pool


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((5, 7), "a kernel of 7 does not fit in 5 pixels with padding 0"),
        ((5, 3, -1), "padding must be an integer >= 0, got -1"),
        ((5, 3, 0, 0), "stride must be an integer >= 1, got 0"),
        ((0, 3), "n must be an integer >= 1, got 0"),
        ((5.0, 3), "n must be an integer >= 1, got 5.0"),
    ],
)
def test_output_size_rejects_bad_sizes(args, message):
    with pytest.raises(ValueError, match=message):
        convolution.output_size(*args)


@pytest.mark.parametrize(("padding", "stride"), [(0, 1), (1, 1), (1, 2), (2, 3)])
def test_conv2d_by_hand_equals_f_conv2d(padding, stride):
    torch.manual_seed(0)
    image, kernel = torch.rand(3, 9, 8), torch.randn(3, 3, 3)
    expected = F.conv2d(image[None], kernel[None], padding=padding, stride=stride)[0, 0]
    by_hand = convolution.conv2d_by_hand(image, kernel, padding, stride)
    torch.testing.assert_close(by_hand, expected)


def test_conv2d_by_hand_on_one_channel_and_its_errors():
    image = torch.arange(25.0).reshape(5, 5)
    ones = torch.ones(3, 3)
    assert convolution.conv2d_by_hand(image, ones)[0, 0] == image[:3, :3].sum()
    with pytest.raises(ValueError, match="the image has 2 channels but the kernel has 1"):
        convolution.conv2d_by_hand(torch.rand(2, 5, 5), ones)
    with pytest.raises(ValueError, match=r"expected an image of shape \(H, W\) or \(C, H, W\)"):
        convolution.conv2d_by_hand(torch.rand(1, 1, 5, 5), ones)


@pytest.mark.parametrize(("kind", "reference"), [("max", F.max_pool2d), ("average", F.avg_pool2d)])
def test_pool2d_by_hand_equals_torch(kind, reference):
    image = torch.rand(6, 7)
    expected = reference(image[None, None], 2)[0, 0]
    torch.testing.assert_close(convolution.pool2d_by_hand(image, 2, kind), expected)
    integers = torch.tensor([[1, 2], [4, 8]])
    assert convolution.pool2d_by_hand(integers, 2, kind).item() == (8 if kind == "max" else 3.75)
    with pytest.raises(ValueError, match="kind must be 'max' or 'average'"):
        convolution.pool2d_by_hand(image, 2, "min")
