"""Seconds per training epoch of the notebooks' models with the standard pipeline
(`DataLoader` + `ToTensor()`) and with `InMemoryLoader`, measured in the same run.

Run with `make bench` or `python -m mnistlib.benchmark [--batch-size 128] [--repeats 2]`.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn
from torch.utils.data import DataLoader

from mnistlib import data, models, train

MODELS = {
    "SoftmaxRegression": models.SoftmaxRegression,
    "MLP(50, 50, 50)": lambda: models.MLP(50, 50, 50, dropout=(0.2, 0, 0)),
    "MLP(128)": lambda: models.MLP(128),
}


def epoch_seconds(make_model, loader, repeats: int) -> float:
    """Best of `repeats` timings of one training epoch of a fresh model over `loader`."""
    times = []
    for _ in range(repeats):
        train.set_seed(0)
        model = make_model()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        start = time.perf_counter()
        train.train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer)
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    """Print a table of seconds per epoch for each model and pipeline, with their ratio."""
    parser = argparse.ArgumentParser(prog="python -m mnistlib.benchmark", description=main.__doc__)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2, help="timings per cell; the best counts")
    args = parser.parse_args(argv)
    train_ds, _, _ = data.load_mnist()
    standard = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True)
    in_memory = data.InMemoryLoader(train_ds, batch_size=args.batch_size, shuffle=True)
    print(
        f"{len(train_ds):,} training images, batch size {args.batch_size}, "
        f"{torch.get_num_threads()} threads, best of {args.repeats}\n"
    )
    header = f"{'model':<20} {'DataLoader+ToTensor':>20} {'InMemoryLoader':>16} {'speed-up':>9}"
    print(header)
    print("-" * len(header))
    for name, make_model in MODELS.items():
        slow = epoch_seconds(make_model, standard, args.repeats)
        fast = epoch_seconds(make_model, in_memory, args.repeats)
        print(f"{name:<20} {slow:>18.2f} s {fast:>14.2f} s {slow / fast:>8.1f}×")


if __name__ == "__main__":
    main()
