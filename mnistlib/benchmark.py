"""Seconds per training epoch of the notebooks' models with the standard pipeline
(`DataLoader` + `ToTensor()`) and with `InMemoryLoader`, measured in the same run.

The two pipelines take turns (standard, in-memory, standard, ...) so that a change in the machine's
load affects both alike; each model is timed `--repeats` times per pipeline, and the table gives
the median and the spread (lowest to highest) of the speed-up over those pairs. A second table
compares the convolutional networks with their weights and inputs stored channels-last, and a
third gives the seconds of training notebook 05's fast recipe needs to reach 99.0% test accuracy.

Run with `make bench` or `python -m mnistlib.benchmark [--batch-size 128] [--repeats 5]`.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn
from torch.utils.data import DataLoader

from mnistlib import data, models, recurrent, train

MODELS = {
    "SoftmaxRegression": models.SoftmaxRegression,
    "MLP(50, 50, 50)": lambda: models.MLP(50, 50, 50, dropout=(0.2, 0, 0)),
    "MLP(128)": lambda: models.MLP(128),
    "SmallCNN(4, 8)": lambda: models.SmallCNN((4, 8)),
    "ConvNet (32, 64)": models.ConvNet,
    "RNN(128)": lambda: recurrent.DigitRNN("rnn", 128),
    "LSTM(128)": lambda: recurrent.DigitRNN("lstm", 128),
}


def channels_last(model: nn.Module) -> nn.Module:
    """`model` with its convolution weights stored channels-last, and its input made so."""
    model = model.to(memory_format=torch.channels_last)
    model.register_forward_pre_hook(
        lambda _, args: (args[0].contiguous(memory_format=torch.channels_last),)
    )
    return model


def epoch_seconds(make_model, loader) -> float:
    """Seconds of one training epoch (Adam, lr 0.001) of a freshly seeded model over `loader`."""
    train.set_seed(0)
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    start = time.perf_counter()
    train.train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer)
    return time.perf_counter() - start


def seconds_to_accuracy(
    train_ds, test_ds, target: float = 99.0, epochs: int = 3, batch_size: int = 128, seed: int = 0
) -> tuple[float | None, list[float]]:
    """Training seconds until notebook 05's fast recipe (`ConvNet`, Adam, one-cycle up to 0.003)
    first reaches `target`% test accuracy, or None; and the test accuracy after each epoch."""
    train.set_seed(seed)
    model = models.ConvNet()
    loader = data.InMemoryLoader(train_ds, batch_size=batch_size, shuffle=True, normalize=True)
    test_loader = data.InMemoryLoader(test_ds, batch_size=1000, normalize=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.003)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.003, epochs * len(loader))
    seconds, reached, accuracies = 0.0, None, []
    for _ in range(epochs):
        start = time.perf_counter()
        train.train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer, scheduler=scheduler)
        seconds += time.perf_counter() - start
        accuracies.append(train.evaluate(model, test_loader)[0])  # not timed
        if reached is None and accuracies[-1] >= target:
            reached = seconds
    return reached, accuracies


def print_seconds_to_accuracy(train_ds, test_ds, repeats: int, target: float = 99.0) -> None:
    """Run `seconds_to_accuracy` with seeds 0 to repeats - 1 and print each run and the median."""
    times = []
    for seed in range(repeats):
        reached, accuracies = seconds_to_accuracy(train_ds, test_ds, target, seed=seed)
        per_epoch = ", ".join(f"{a:.2f}%" for a in accuracies)
        when = "not reached" if reached is None else f"{reached:.1f} s"
        print(
            f"seed {seed}: test accuracy after each epoch {per_epoch}; {target}%: {when}",
            flush=True,
        )
        times += [reached] if reached is not None else []
    if times:
        spread = f"{min(times):.1f}-{max(times):.1f} s"
        print(f"median {statistics.median(times):.1f} s ({spread}), {len(times)} of {repeats} runs")


def interleaved(baseline: tuple, candidate: tuple, repeats: int) -> list[tuple[float, float]]:
    """`repeats` pairs of epoch seconds of two (make_model, loader) set-ups, taking turns."""
    return [(epoch_seconds(*baseline), epoch_seconds(*candidate)) for _ in range(repeats)]


def print_rows(rows: dict, repeats: int, titles: tuple[str, str]) -> None:
    """Time each {name: (baseline, candidate)} row and print its medians and speed-up."""
    header = (
        f"{'model':<18} {titles[0]:>20} {titles[1]:>15} "
        f"{'speed-up: median':>17} {'(lowest-highest)':>17}"
    )
    print(header)
    print("-" * len(header))
    for name, (baseline, candidate) in rows.items():
        pairs = interleaved(baseline, candidate, repeats)
        slow = statistics.median(s for s, _ in pairs)
        fast = statistics.median(f for _, f in pairs)
        ratios = [s / f for s, f in pairs]
        spread = f"({min(ratios):.1f}-{max(ratios):.1f})"
        print(
            f"{name:<18} {slow:>18.2f} s {fast:>13.2f} s "
            f"{statistics.median(ratios):>16.1f}× {spread:>17}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    """Print tables of seconds per epoch for each model and set-up, with their ratio."""
    parser = argparse.ArgumentParser(prog="python -m mnistlib.benchmark", description=main.__doc__)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5, help="timed pairs per model (>= 1)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    train_ds, _, test_ds = data.load_mnist()
    standard = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True)
    in_memory = data.InMemoryLoader(train_ds, batch_size=args.batch_size, shuffle=True)
    print(
        f"{len(train_ds):,} training images, batch size {args.batch_size}, "
        f"{torch.get_num_threads()} threads, {args.repeats} interleaved pairs per model\n"
    )
    pipelines = {name: ((m, standard), (m, in_memory)) for name, m in MODELS.items()}
    print_rows(pipelines, args.repeats, ("DataLoader+ToTensor", "InMemoryLoader"))
    print("\nIn-memory batches; convolutions stored as usual against channels-last:\n")
    convnets = {n: m for n, m in MODELS.items() if "CNN" in n or "Conv" in n}
    layouts = {
        n: ((m, in_memory), (lambda m=m: channels_last(m()), in_memory))
        for n, m in convnets.items()
    }
    print_rows(layouts, args.repeats, ("channels first", "channels last"))
    print("\nSeconds of training to 99.0% test accuracy, notebook 05's fast recipe, 3 epochs:\n")
    print_seconds_to_accuracy(train_ds, test_ds, min(args.repeats, 3))


if __name__ == "__main__":
    main()
