"""Command line: `python -m mnistlib.fetch [--root DIR] [--from DIR]` fetches and verifies the
MNIST files (`make data` runs it)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mnistlib.fetch.fetching import FetchError, fetch
from mnistlib.fetch.places import data_root


def main(argv: list[str] | None = None) -> int:
    """Fetch and verify the MNIST files."""
    parser = argparse.ArgumentParser(prog="python -m mnistlib.fetch", description=main.__doc__)
    parser.add_argument("--root", default=None, help="data root (default: the checkout's data/)")
    parser.add_argument(
        "--from",
        dest="from_dir",
        default=None,
        metavar="DIR",
        help="a folder holding the four IDX files, raw or .gz",
    )
    args = parser.parse_args(argv)
    root = Path(args.root).expanduser() if args.root else data_root()
    start = time.perf_counter()
    try:
        raw = fetch(root, from_dir=args.from_dir)
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"MNIST verified in {raw} ({time.perf_counter() - start:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
