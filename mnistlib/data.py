"""MNIST for the series: the train/validation/test splits, quick mode for CI, and an in-memory
batch loader that replaces `DataLoader` + `ToTensor()`. `mnistlib.fetch` puts the verified files in
place first; its command line, `python -m mnistlib.fetch`, also runs as `python -m mnistlib.data`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

from mnistlib.fetch import data_root, fetch

MEAN, STD = 0.1307, 0.3081  # pixel mean and standard deviation of the training set, in [0, 1]
SPLIT_SEED = 55
QUICK_SIZES = {"train": 2000, "val": 500, "test": 500}  # images per split in quick mode


def is_quick() -> bool:
    """True when `MNISTLIB_QUICK` is set to anything but '', '0' or 'false' (CI's subsets)."""
    return os.environ.get("MNISTLIB_QUICK", "").strip().lower() not in ("", "0", "false")


def balanced_subset(dataset, size: int):
    """A fixed, class-balanced `Subset` of `size` images: the first size//10 of each digit (in
    quick mode, as many as the small split holds when it holds fewer)."""
    import torch
    from torch.utils.data import Subset

    if not isinstance(size, int) or size < 10 or size % 10:
        raise ValueError(
            f"size must be a positive multiple of 10 (as many of each digit), got {size!r}"
        )
    _, labels = to_tensors(dataset)
    per_class = size // 10
    picks = [torch.nonzero(labels == c).flatten()[:per_class] for c in range(10)]
    short = [c for c, pick in enumerate(picks) if len(pick) < per_class]
    if short and not is_quick():
        raise ValueError(
            f"asked for {per_class} images of each digit, but the dataset has fewer of {short}; "
            f"it holds {len(labels)} images: ask for a smaller size"
        )
    return Subset(dataset, torch.sort(torch.cat(picks)).values.tolist())


def load_mnist(root: str | os.PathLike | None = None, transform=None, quick: bool | None = None):
    """(train, val, test) datasets of 48,000 / 12,000 / 10,000 images; small in quick mode.

    The validation set is 20% of the 60,000 training images, split with seed 55.

    `transform` defaults to `ToTensor()`. The files are fetched first if they are not in place.
    """
    import torch
    from torch.utils.data import random_split
    from torchvision import datasets, transforms

    root = Path(root).expanduser() if root is not None else data_root()
    fetch(root, log=lambda msg: print(msg, file=sys.stderr))
    transform = transform if transform is not None else transforms.ToTensor()
    full_train = datasets.MNIST(root, train=True, download=False, transform=transform)
    test = datasets.MNIST(root, train=False, download=False, transform=transform)
    split_rng = torch.Generator().manual_seed(SPLIT_SEED)
    train, val = random_split(full_train, [0.8, 0.2], split_rng)
    if is_quick() if quick is None else quick:
        train, val, test = (
            balanced_subset(ds, QUICK_SIZES[name])
            for ds, name in ((train, "train"), (val, "val"), (test, "test"))
        )
    return train, val, test


def to_tensors(dataset):
    """The uint8 images (N, 28, 28) and int64 labels (N,) of an MNIST dataset or a Subset of one."""
    import torch
    from torch.utils.data import Subset
    from torchvision.datasets import MNIST

    if isinstance(dataset, Subset):
        images, labels = to_tensors(dataset.dataset)
        index = torch.as_tensor(dataset.indices, dtype=torch.long)
        return images[index], labels[index]
    if isinstance(dataset, MNIST):
        return dataset.data, dataset.targets
    if isinstance(dataset, tuple) and len(dataset) == 2:
        return torch.as_tensor(dataset[0]), torch.as_tensor(dataset[1])
    raise TypeError(
        "expected a torchvision MNIST dataset, a Subset of one or an (images, labels) pair, "
        f"got {type(dataset).__name__}"
    )


def sorted_by_label(dataset) -> tuple:
    """The images and labels of a dataset, sorted by digit with all 0s first: a training set in
    the worst order, ready for `InMemoryLoader`."""
    import torch

    images, labels = to_tensors(dataset)
    order = torch.argsort(labels, stable=True)
    return images[order], labels[order]


def _normalization(dataset) -> bool:
    """Whether the transform of an MNIST dataset (or Subset) normalizes: True for
    ToTensor + Normalize(MEAN, STD), False for ToTensor alone; anything else is refused, since
    `InMemoryLoader` reads the stored pixels and would silently skip it."""
    from torch.utils.data import Subset
    from torchvision import transforms

    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    steps = getattr(dataset, "transform", None)
    steps = steps.transforms if isinstance(steps, transforms.Compose) else [steps]
    kinds = [type(t) for t in steps if t is not None]
    if kinds in ([], [transforms.ToTensor]):
        return False
    if kinds == [transforms.ToTensor, transforms.Normalize]:
        norm = steps[-1]
        if tuple(norm.mean) == (MEAN,) and tuple(norm.std) == (STD,):
            return True
    raise ValueError(
        f"InMemoryLoader applies ToTensor, and Normalize((MEAN,), (STD,)) with normalize=True, "
        f"but this dataset's transform is {dataset.transform}; use a DataLoader for other "
        "transforms, or the loader's `augment` for random changes to each batch"
    )


class InMemoryLoader:
    """Batches `(X, y)` from uint8 images held in memory, as `DataLoader` + `ToTensor()` gives them.

    X is float32 of shape (B, 1, 28, 28) with values in [0, 1] (or normalized with `MEAN`, `STD`
    when `normalize=True`, or when the dataset's transform normalizes); y is int64 of shape (B,).
    Shuffling draws from PyTorch's global generator, as `DataLoader` does, so `train.set_seed`
    fixes the batch order too; give `seed` for an order of the loader's own. `augment`, when given,
    maps each float batch in [0, 1] (B, 1, 28, 28) to a changed one, before normalization.
    """

    def __init__(
        self,
        data,
        batch_size: int = 64,
        shuffle: bool = False,
        normalize: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        device=None,
        augment=None,
    ):
        import torch

        images, labels = to_tensors(data)
        normalize = normalize or (not isinstance(data, tuple) and _normalization(data))
        self.check_data(images, labels)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a whole number of at least 1, got {batch_size!r}")
        self.images = images.to(device) if device is not None else images
        self.labels = labels.to(self.images.device, torch.long)
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.normalize, self.augment = normalize, augment
        self.generator = None if seed is None else torch.Generator().manual_seed(seed)

    def check_data(self, images, labels) -> None:
        """Raise unless `images` are uint8 (N, 28, 28) with one label each (a subclass that holds
        other images says which it takes)."""
        import torch

        if images.dtype != torch.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(
                "expected uint8 images of shape (N, 28, 28), "
                f"got {images.dtype} of shape {tuple(images.shape)}"
            )
        if len(labels) != len(images):
            raise ValueError(f"got {len(images)} images but {len(labels)} labels")

    def __len__(self) -> int:
        full, rest = divmod(len(self.images), self.batch_size)
        return full if self.drop_last or rest == 0 else full + 1

    def __iter__(self) -> Iterator:
        import torch

        n = len(self.images)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        order = order.to(self.images.device)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            index = order[start : start + self.batch_size]
            X = self.images[index].unsqueeze(1).float().div_(255)
            if self.augment is not None:
                X = self.augment(X)
            if self.normalize:
                X = X.sub_(MEAN).div_(STD)
            yield X, self.labels[index]


if __name__ == "__main__":  # the command line's earlier name
    from mnistlib.fetch.__main__ import main

    sys.exit(main())
