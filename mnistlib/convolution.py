"""Convolution and pooling written out by hand: the output-size rule, a convolution as a loop of
dot products, and pooling as a loop of maxima or means, to check against `torch.nn.functional`."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def output_size(n: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    """Output side (in pixels) of a convolution or pooling over a side of `n` pixels:
    ⌊(n + 2·padding − kernel) / stride⌋ + 1."""
    for name, value, least in (("n", n, 1), ("kernel", kernel, 1), ("stride", stride, 1)):
        if not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    if not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be an integer >= 0, got {padding!r}")
    if kernel > n + 2 * padding:
        raise ValueError(
            f"a kernel of {kernel} does not fit in {n} pixels with padding {padding} "
            f"({n + 2 * padding} in all); use a smaller kernel or more padding"
        )
    return (n + 2 * padding - kernel) // stride + 1


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
