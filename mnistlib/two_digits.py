"""Two overlapping MNIST digits on one canvas: the generator, a batch loader that yields both
labels, and the accuracy on each of the two digits. Their networks are in `mnistlib.models`, and
`train.fit` trains them as it trains any classifier.

A canvas is `28 + offset` pixels high and 28 wide (42 × 28 with the default offset of 14). The
first digit fills rows 0–27, the second is pasted `offset` rows lower, so that rows offset–27 hold
both; where they overlap, each pixel keeps the darker ink of the two (the larger value).
"""

from __future__ import annotations

import torch
from torch import nn

from mnistlib import data, train

OFFSET = 14  # rows between the tops of the two digits: a 42 × 28 canvas, half of each overlapping


def make_two_digits(
    dataset, n: int | None = None, offset: int = OFFSET, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` canvases as uint8 images (n, 28 + offset, 28) and their int64 labels (n, 2):
    (top digit, bottom digit). Both digits come from `dataset` (an MNIST split or an (images,
    labels) pair). By default n is the size of the split: image i is the top digit of canvas i,
    and the bottom digit is another image of the split, drawn at random with `seed`."""
    images, labels = data.to_tensors(dataset)
    N = len(images)
    n = N if n is None else n
    if not isinstance(n, int) or not 1 <= n <= N or N < 2:
        raise ValueError(
            f"expected 1 <= n <= {N} canvases from a split of {N} images (at least 2), got {n!r}; "
            "pass n=None for one canvas per image"
        )
    if not isinstance(offset, int) or not 1 <= offset <= 27:
        raise ValueError(
            f"offset must be a whole number of rows from 1 to 27, so that the digits overlap, "
            f"got {offset!r}"
        )
    rng = torch.Generator().manual_seed(seed)
    top = torch.randperm(N, generator=rng)[:n] if n < N else torch.arange(N)
    bottom = (top + torch.randint(1, N, (n,), generator=rng)) % N  # never the top image itself
    canvas = torch.zeros(n, 28 + offset, 28, dtype=torch.uint8)
    canvas[:, :28] = images[top]
    canvas[:, offset:] = torch.maximum(canvas[:, offset:], images[bottom])
    return canvas, torch.stack([labels[top], labels[bottom]], dim=1)


class TwoDigitLoader(data.InMemoryLoader):
    """Batches (X, y) of two-digit canvases, as `data.InMemoryLoader` gives single digits: X is
    float (B, 1, H, 28), scaled to [0, 1] (or normalized with `data.MEAN`, `data.STD`); y holds
    one label per digit, (2B,): the top and bottom digit of canvas 0, then of canvas 1, and so on,
    the order in which the two-digit models return their logits. `augment` changes each float
    batch in [0, 1] before normalization, as in `data.InMemoryLoader`."""

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int = 64,
        *,
        shuffle: bool = False,
        normalize: bool = False,
        seed: int | None = None,
        device=None,
        augment=None,
    ):
        super().__init__(
            (images, labels),
            batch_size,
            shuffle,
            normalize,
            seed=seed,
            device=device,
            augment=augment,
        )

    def check_data(self, images, labels) -> None:
        """Raise unless `images` are uint8 canvases (N, H, 28) with labels (N, 2)."""
        if images.dtype != torch.uint8 or images.ndim != 3 or images.shape[2] != 28:
            raise ValueError(
                "expected uint8 canvases of shape (N, H, 28), as make_two_digits returns, "
                f"got {images.dtype} of shape {tuple(images.shape)}"
            )
        if labels.shape != (len(images), 2):
            raise ValueError(f"expected labels of shape ({len(images)}, 2), got {labels.shape}")

    def __iter__(self):
        for X, y in super().__iter__():
            yield X, y.flatten()


def digit_accuracies(model: nn.Module, loader: TwoDigitLoader) -> tuple[float, float]:
    """Accuracy (%) on the top digit and on the bottom digit of every canvas in `loader`."""
    preds, labels = train.predict(model, loader)
    right = (preds == labels).view(-1, 2).float()
    top, bottom = (100 * right.mean(dim=0)).tolist()
    return top, bottom
