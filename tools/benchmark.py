"""Seconds per training epoch of the notebooks' models with the standard pipeline
(`DataLoader` + `ToTensor()`) and with `InMemoryLoader`, measured in the same run.

The two pipelines take turns (standard, in-memory, standard, ...) so that a change in the machine's
load affects both alike; each model is timed `--repeats` times per pipeline, and the table gives
the median and the spread (lowest to highest) of the speed-up over those pairs. A second table
compares the convolutional networks with their weights and inputs stored channels-last, a third
gives the seconds of training notebook 05's three recipes need to reach 99.0% test accuracy and
their final test accuracy (and the two-digit CNN's accuracy on each digit), and a fourth times
an epoch alone against beside two busy processes, as on a shared machine.

Run with `make bench` or `python tools/benchmark.py [--batch-size 128] [--repeats 5]`;
`--only shared` (or `pipelines`, `layouts`, `accuracy`) prints one table.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import statistics
import subprocess
import sys
import time

from mnistlib import threads  # before torch: how its threads wait is read once, when it loads

# isort: split
import torch
from torch import nn
from torch.utils.data import DataLoader

from mnistlib import augment, data, models, train, two_digits

MODELS = {
    "SoftmaxRegression": models.SoftmaxRegression,
    "MLP(50, 50, 50)": lambda: models.MLP(50, 50, 50, dropout=(0.2, 0, 0)),
    "MLP(128)": lambda: models.MLP(128),
    "SmallCNN(4, 8)": lambda: models.SmallCNN((4, 8)),
    "ConvNet (32, 64)": models.ConvNet,
    "RNN(128)": lambda: models.DigitRNN("rnn", 128),
    "LSTM(128)": lambda: models.DigitRNN("lstm", 128),
}
TABLES = ("pipelines", "layouts", "accuracy", "shared")
# Notebook 05's recipes, trained as there: Adam with a one-cycle schedule up to the peak learning
# rate, batches of 128, channels-last. Each: (model, peak learning rate, epochs, label smoothing,
# the augmentation of the training batches or None).
RECIPES = {
    "fast recipe": (models.ConvNet, 0.003, 3, 0.0, None),
    "under-10-s recipe": (lambda: models.ConvNet((16, 32), dropout=0.0), 0.01, 2, 0.1, None),
    "best recipe": (lambda: models.ConvNet(dropout=0.0), 0.005, 5, 0.1, augment.random_shifts(2)),
}
TWO_DIGIT_PAIRINGS = (1, 4, 5, 6, 7)  # notebook 05's seeds of make_two_digits for training canvases
CONVNET_BATCHES = 100  # the shared-machine table times ConvNet on this many batches, not an epoch


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
    train_ds,
    test_ds,
    recipe: str = "fast recipe",
    target: float = 99.0,
    batch_size: int = 128,
    seed: int = 0,
    epochs: int | None = None,
) -> tuple[float | None, list[float], float]:
    """Training seconds until a recipe of notebook 05 (`RECIPES`; `epochs` replaces its own)
    first reaches `target`% test accuracy, or None; the test accuracy after each epoch; and the
    seconds of the whole training."""
    make_model, peak, recipe_epochs, smoothing, moves = RECIPES[recipe]
    epochs = epochs or recipe_epochs
    train.set_seed(seed)
    model = channels_last(make_model())
    loader = data.InMemoryLoader(
        train_ds, batch_size=batch_size, shuffle=True, normalize=True, augment=moves
    )
    test_loader = data.InMemoryLoader(test_ds, batch_size=1000, normalize=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=peak)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, peak, epochs * len(loader))
    history = train.fit(
        model,
        loader,
        test_loader,  # evaluated after each epoch, outside the seconds fit records
        epochs=epochs,
        optimizer=optimizer,
        loss_fn=nn.CrossEntropyLoss(label_smoothing=smoothing),
        scheduler=scheduler,
        step_every="batch",
        progress=False,
    )
    elapsed = itertools.accumulate(history.seconds)  # seconds of training up to each epoch's end
    reached = (s for s, acc in zip(elapsed, history.val_acc, strict=True) if acc >= target)
    return next(reached, None), history.val_acc, sum(history.seconds)


def range_of(values: list[float], unit: str = "", decimals: int = 2) -> str:
    """'median (lowest-highest)' of `values`, with `decimals` decimals, each followed by `unit`."""
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:.{decimals}f}{unit} ({low:.{decimals}f}-{high:.{decimals}f}{unit})"


def two_digit_recipe(
    train_ds, test_ds, seed: int = 0, pairings=TWO_DIGIT_PAIRINGS, batch_size: int = 128
) -> tuple[float, float, float]:
    """Notebook 05's two-digit CNN, trained as there (no dropout, channels-last, one pass over the
    canvases of every pairing, Adam one-cycle up to 0.005, label smoothing 0.1): its test accuracy
    (%) on the top and on the bottom digit, and its seconds of training."""
    pairs = [two_digits.make_two_digits(train_ds, seed=s) for s in pairings]
    canvases, labels = (torch.cat(parts) for parts in zip(*pairs, strict=True))
    train.set_seed(seed)
    model = models.TwoDigitCNN(dropout=0).to(memory_format=torch.channels_last)
    loader = two_digits.TwoDigitLoader(canvases, labels, batch_size, shuffle=True, normalize=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.005)
    history = train.fit(
        model,
        loader,
        epochs=1,
        optimizer=optimizer,
        loss_fn=nn.CrossEntropyLoss(label_smoothing=0.1),
        scheduler=torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.005, len(loader)),
        step_every="batch",
        progress=False,
    )
    test = two_digits.TwoDigitLoader(
        *two_digits.make_two_digits(test_ds, seed=3), 1000, normalize=True
    )
    top, bottom = two_digits.digit_accuracies(model, test)
    return top, bottom, sum(history.seconds)


def print_two_digit_recipe(train_ds, test_ds, repeats: int) -> None:
    """Run `two_digit_recipe` with seeds 0 to repeats - 1; print each run and the medians."""
    runs = []
    for seed in range(repeats):
        runs.append(two_digit_recipe(train_ds, test_ds, seed))
        top, bottom, seconds = runs[-1]
        print(
            f"two-digit CNN, seed {seed}: top digit {top:.2f}%, bottom digit {bottom:.2f}% "
            f"after {seconds:.1f} s of training",
            flush=True,
        )
    top, bottom, seconds = (list(column) for column in zip(*runs, strict=True))
    print(
        f"two-digit CNN: top digit {range_of(top, '%')}, bottom digit {range_of(bottom, '%')} "
        f"after {range_of(seconds, ' s')} of training\n"
    )


def print_seconds_to_accuracy(train_ds, test_ds, repeats: int, target: float = 99.0) -> None:
    """For each recipe, run `seconds_to_accuracy` with seeds 0 to repeats - 1 and print each run,
    the median seconds, and the median final test accuracy with the median seconds of training."""
    for recipe in RECIPES:
        times, finals, totals = [], [], []
        for seed in range(repeats):
            reached, accuracies, total = seconds_to_accuracy(
                train_ds, test_ds, recipe, target, seed=seed
            )
            per_epoch = ", ".join(f"{a:.2f}%" for a in accuracies)
            when = "not reached" if reached is None else f"{reached:.1f} s"
            print(
                f"{recipe}, seed {seed}: test accuracy after each epoch {per_epoch}; "
                f"{target}%: {when}",
                flush=True,
            )
            times += [reached] if reached is not None else []
            finals.append(accuracies[-1])
            totals.append(total)
        final = (
            f"final test accuracy median {range_of(finals, '%')} "
            f"after median {range_of(totals, ' s')} of training"
        )
        if times:
            print(
                f"{recipe}: median {range_of(times, ' s', 1)}, "
                f"{len(times)} of {repeats} runs; {final}\n"
            )
        else:
            print(f"{recipe}: {target}% not reached; {final}\n")


def interleaved(baseline: tuple, candidate: tuple, repeats: int) -> list[tuple[float, float]]:
    """`repeats` pairs of epoch seconds of two (make_model, loader) set-ups, taking turns."""
    return [(epoch_seconds(*baseline), epoch_seconds(*candidate)) for _ in range(repeats)]


def print_pair_table(rows: dict, titles: tuple[str, str], ratio_name: str, measure, ratio) -> None:
    """Time each row's (first, second) seconds with `measure(row)` and print, a line per row as
    soon as it is timed, their medians and the median and range of `ratio(first, second)`."""
    header = (
        f"{'model':<20} {titles[0]:>20} {titles[1]:>15} "
        f"{ratio_name + ': median':>18} {'(lowest-highest)':>17}"
    )
    print(header)
    print("-" * len(header))
    for name, row in rows.items():
        pairs = measure(row)
        ratios = [ratio(first, second) for first, second in pairs]
        spread = f"({min(ratios):.1f}-{max(ratios):.1f})"
        print(
            f"{name:<20} {statistics.median(f for f, _ in pairs):>18.2f} s "
            f"{statistics.median(s for _, s in pairs):>13.2f} s "
            f"{statistics.median(ratios):>17.1f}× {spread:>17}",
            flush=True,
        )


def print_rows(rows: dict, repeats: int, titles: tuple[str, str]) -> None:
    """Time each {name: (baseline, candidate)} row, taking turns; print medians and speed-up."""
    print_pair_table(
        rows,
        titles,
        "speed-up",
        lambda row: interleaved(*row, repeats),
        lambda slow, fast: slow / fast,
    )


@contextlib.contextmanager
def busy_processes(count: int = 2):
    """Run `count` Python processes that keep a core busy each, for the `with` block's duration."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        time.sleep(0.2)  # let them start spinning before the timing starts
        yield busy
    finally:
        for process in busy:
            process.kill()
            process.wait()


def quiet_and_loaded(make_model, loader, repeats: int, busy: int = 2) -> list[tuple[float, float]]:
    """`repeats` pairs of epoch seconds, alone and beside `busy` busy processes, taking turns."""
    pairs = []
    for _ in range(repeats):
        quiet = epoch_seconds(make_model, loader)
        with busy_processes(busy):
            pairs.append((quiet, epoch_seconds(make_model, loader)))
    return pairs


def shared_rows(train_ds, convnet_batches: int = CONVNET_BATCHES) -> dict:
    """{name: (make_model, loader)} of the shared-machine table: an MLP, SmallCNN and ConvNet."""
    loader = data.InMemoryLoader(train_ds, batch_size=128, shuffle=True, normalize=True)
    return {
        "MLP(10), batch 32": (
            lambda: models.MLP(10),
            data.InMemoryLoader(train_ds, batch_size=32, shuffle=True, normalize=True),
        ),
        "SmallCNN(4, 8)": (lambda: models.SmallCNN((4, 8)), loader),
        f"ConvNet, {convnet_batches} batches": (
            models.ConvNet,
            list(itertools.islice(loader, convnet_batches)),
        ),
    }


def print_shared(rows: dict, repeats: int, busy: int = 2) -> None:
    """Time each {name: (make_model, loader)} row alone and loaded; print medians and slow-down."""
    print_pair_table(
        rows,
        ("alone", f"beside {busy} busy"),
        "slow-down",
        lambda row: quiet_and_loaded(*row, repeats, busy),
        lambda quiet, loaded: loaded / quiet,
    )


def wait_setting() -> str:
    """How PyTorch's threads wait in this process, in words, for the shared-machine table."""
    setting = threads.environment_setting()
    if setting is None:
        return "the OpenMP runtime's default"
    return setting + (" (mnistlib's)" if setting == "=".join(threads.SETTING) else " (your own)")


def main(argv: list[str] | None = None) -> None:
    """Print tables of seconds per epoch for each model and set-up, with their ratio."""
    parser = argparse.ArgumentParser(prog="python tools/benchmark.py", description=main.__doc__)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5, help="timed pairs per model (>= 1)")
    parser.add_argument("--only", choices=TABLES, help="print this table only")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    tables = [args.only] if args.only else TABLES
    train_ds, _, test_ds = data.load_mnist()
    standard = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True)
    in_memory = data.InMemoryLoader(train_ds, batch_size=args.batch_size, shuffle=True)
    print(
        f"{len(train_ds):,} training images, batch size {args.batch_size}, "
        f"{torch.get_num_threads()} threads, {args.repeats} interleaved pairs per model"
    )
    if "pipelines" in tables:
        print()
        pipelines = {name: ((m, standard), (m, in_memory)) for name, m in MODELS.items()}
        print_rows(pipelines, args.repeats, ("DataLoader+ToTensor", "InMemoryLoader"))
    if "layouts" in tables:
        print("\nIn-memory batches; convolutions stored as usual against channels-last:\n")
        convnets = {n: m for n, m in MODELS.items() if "CNN" in n or "Conv" in n}
        layouts = {
            n: ((m, in_memory), (lambda m=m: channels_last(m()), in_memory))
            for n, m in convnets.items()
        }
        print_rows(layouts, args.repeats, ("channels first", "channels last"))
    if "accuracy" in tables:
        print("\nSeconds of training to 99.0% test accuracy, notebook 05's recipes:\n")
        print_seconds_to_accuracy(train_ds, test_ds, min(args.repeats, 3))
        print("Two overlapping digits, notebook 05's CNN:\n")
        print_two_digit_recipe(train_ds, test_ds, min(args.repeats, 3))
    if "shared" in tables:
        print(
            "\nOne epoch alone and beside two busy processes (a shared machine), normalized "
            "in-memory batches\nof 128 unless named; ConvNet on its first "
            f"{CONVNET_BATCHES} batches, not a whole epoch.\nWaiting threads: {wait_setting()}.\n"
        )
        print_shared(shared_rows(train_ds), args.repeats)


if __name__ == "__main__":
    main()
