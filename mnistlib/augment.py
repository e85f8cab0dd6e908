"""Shifts and rotations of a whole batch of images at once, on tensors (no PIL): to test how a
model copes with moved digits, and to augment training batches of `data.InMemoryLoader`."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F


def check_batch(X, floating: bool = False) -> None:
    """Raise unless `X` is a batch of images (B, C, H, W), of a float dtype when `floating`."""
    if not isinstance(X, torch.Tensor) or X.ndim != 4 or (floating and not X.is_floating_point()):
        shape = tuple(X.shape) if isinstance(X, torch.Tensor) else type(X).__name__
        kind = "a float batch" if floating else "a batch"
        raise ValueError(f"expected {kind} of shape (B, C, H, W), got {shape}")


def transform(
    X: torch.Tensor,
    degrees: float | torch.Tensor = 0.0,
    dx: float | torch.Tensor = 0.0,
    dy: float | torch.Tensor = 0.0,
) -> torch.Tensor:
    """The batch `X` (B, C, H, W) rotated by `degrees` (anticlockwise, about the centre) and then
    shifted by `dx` pixels right and `dy` pixels down; each is one number for the whole batch or one
    per image (B,). Pixels that come in from outside are 0 (background in [0, 1] images).

    Whole-pixel shifts without rotation move pixels exactly; other moves interpolate bilinearly.
    """
    check_batch(X, floating=True)
    B, _, H, W = X.shape
    angle, dx, dy = (
        torch.as_tensor(v, dtype=X.dtype, device=X.device).expand(B)
        for v in (torch.as_tensor(degrees) * (math.pi / 180), dx, dy)
    )
    cos, sin = torch.cos(angle), torch.sin(angle)
    # affine_grid maps each output pixel to where it samples the input, in coordinates running
    # from -1 to 1 across the image: the inverse of the move. Its y axis points down.
    theta = torch.stack(
        [
            torch.stack([cos, -sin * H / W, -2 * dx / W], dim=1),
            torch.stack([sin * W / H, cos, -2 * dy / H], dim=1),
        ],
        dim=1,
    )
    theta[:, :, 2] = torch.einsum("bij,bj->bi", theta[:, :, :2], theta[:, :, 2])
    grid = F.affine_grid(theta, list(X.shape), align_corners=False)
    return F.grid_sample(X, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def random_moves(
    max_degrees: float = 10.0, max_shift: float = 2.0
) -> Callable[[torch.Tensor], torch.Tensor]:
    """A function for `InMemoryLoader(augment=...)`: it rotates each image of a batch by a random
    angle in [-max_degrees, max_degrees] and shifts it by up to `max_shift` pixels in x and in y,
    drawn uniformly from PyTorch's global generator (so `train.set_seed` fixes them)."""
    if max_degrees < 0 or max_shift < 0:
        raise ValueError(
            f"expected max_degrees >= 0 and max_shift >= 0, got {max_degrees} and {max_shift}"
        )

    def augment(X: torch.Tensor) -> torch.Tensor:
        B = len(X)
        degrees, dx, dy = (torch.rand(3, B, device=X.device) * 2 - 1) * torch.tensor(
            [[max_degrees], [max_shift], [max_shift]], device=X.device
        )
        return transform(X, degrees, dx, dy)

    return augment


def random_shifts(max_shift: int = 2) -> Callable[[torch.Tensor], torch.Tensor]:
    """A function for `InMemoryLoader(augment=...)`: it shifts each image of a batch by a whole
    number of pixels from -max_shift to max_shift in x and in y, drawn uniformly from PyTorch's
    global generator. The pixels move exactly (padding with 0 and cropping, no interpolation), which
    is cheaper than `random_moves` and keeps every stroke as sharp as it was."""
    if not isinstance(max_shift, int) or isinstance(max_shift, bool) or max_shift < 0:
        raise ValueError(f"expected a whole number of pixels >= 0, got {max_shift!r}")

    def augment(X: torch.Tensor) -> torch.Tensor:
        check_batch(X)
        B, _, H, W = X.shape
        m = max_shift
        padded = F.pad(X, (m, m, m, m))
        dx, dy = torch.randint(-m, m + 1, (2, B, 1), device=X.device)
        # The crop of image b starts m - dy rows and m - dx columns into its padded copy, so that
        # its content lands dy rows lower and dx columns further right.
        rows = torch.arange(H, device=X.device) + (m - dy)  # (B, H)
        cols = torch.arange(W, device=X.device) + (m - dx)  # (B, W)
        batch = torch.arange(B, device=X.device)[:, None, None]
        return padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(
            0, 3, 1, 2
        )

    return augment
