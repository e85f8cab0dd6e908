"""Seconds per training epoch of the notebooks' models with the standard pipeline
(`DataLoader` + `ToTensor()`) and with `InMemoryLoader`, measured in the same run.

The two pipelines take turns (standard, in-memory, standard, ...) so that a change in the machine's
load affects both alike; each model is timed `--repeats` times per pipeline, and the table gives
the median and the spread (lowest to highest) of the speed-up over those pairs.

Run with `make bench` or `python -m mnistlib.benchmark [--batch-size 128] [--repeats 5]`.
"""

from __future__ import annotations

import argparse
import statistics
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


def epoch_seconds(make_model, loader) -> float:
    """Seconds of one training epoch of a freshly seeded model over `loader`."""
    train.set_seed(0)
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    start = time.perf_counter()
    train.train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer)
    return time.perf_counter() - start


def interleaved(make_model, baseline, candidate, repeats: int) -> list[tuple[float, float]]:
    """`repeats` pairs of epoch seconds (baseline, candidate), the two taking turns."""
    return [
        (epoch_seconds(make_model, baseline), epoch_seconds(make_model, candidate))
        for _ in range(repeats)
    ]


def main(argv: list[str] | None = None) -> None:
    """Print a table of seconds per epoch for each model and pipeline, with their ratio."""
    parser = argparse.ArgumentParser(prog="python -m mnistlib.benchmark", description=main.__doc__)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5, help="timed pairs per model (>= 1)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    train_ds, _, _ = data.load_mnist()
    standard = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True)
    in_memory = data.InMemoryLoader(train_ds, batch_size=args.batch_size, shuffle=True)
    print(
        f"{len(train_ds):,} training images, batch size {args.batch_size}, "
        f"{torch.get_num_threads()} threads, {args.repeats} interleaved pairs per model\n"
    )
    header = (
        f"{'model':<18} {'DataLoader+ToTensor':>20} {'InMemoryLoader':>15} "
        f"{'speed-up: median':>17} {'(lowest-highest)':>17}"
    )
    print(header)
    print("-" * len(header))
    for name, make_model in MODELS.items():
        pairs = interleaved(make_model, standard, in_memory, args.repeats)
        slow = statistics.median(s for s, _ in pairs)
        fast = statistics.median(f for _, f in pairs)
        ratios = [s / f for s, f in pairs]
        spread = f"({min(ratios):.1f}-{max(ratios):.1f})"
        print(
            f"{name:<18} {slow:>18.2f} s {fast:>13.2f} s "
            f"{statistics.median(ratios):>16.1f}× {spread:>17}",
            flush=True,
        )


if __name__ == "__main__":
    main()
