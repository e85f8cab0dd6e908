"""The four MNIST files: their SHA-256 and sizes, checking the files in a folder, and installing a
candidate file in place, atomically, read no further than a byte past the size it must have."""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from mnistlib.fetch.places import describe, unwritable
from mnistlib.fetch.temporary import part_path

SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
SIZE = {  # bytes; a candidate is read no further than one byte more
    "train-images-idx3-ubyte": 47_040_016,
    "train-labels-idx1-ubyte": 60_008,
    "t10k-images-idx3-ubyte": 7_840_016,
    "t10k-labels-idx1-ubyte": 10_008,
}
BLOCK = 1 << 20


class Rejected(Exception):
    """A candidate file that cannot be used; the message says why."""


def amount(size: int) -> str:
    """A number of bytes in round figures: '47 MB', '9.9 MB', '60 kB', '512 bytes'."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    return f"{size} bytes"


# Checking files


def sha256(path: Path) -> str:
    """Hex SHA-256 digest of a file."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def problem(path: Path) -> str | None:
    """What is wrong with the MNIST file `path` ('missing', 'corrupt ...'), None if it verifies."""
    try:
        return None if sha256(path) == SHA256[path.name] else "corrupt (SHA-256 does not match)"
    except FileNotFoundError:
        return "missing"
    except IsADirectoryError as exc:
        raise unwritable(exc, path.parent) from exc
    except OSError as exc:
        return f"unreadable ({describe(exc)})"


def check_files(folder: Path) -> dict[str, str]:
    """Problems with the files in `folder` by name ('missing', 'corrupt ...'); {} if all verify."""
    return {name: why for name in SHA256 if (why := problem(folder / name))}


# Installing a file


def known_file(name: str) -> str:
    """The MNIST file `name` and its size in words: "MNIST's train-labels file (60,008 bytes)"."""
    return f"MNIST's {name.rsplit('-', 2)[0]} file ({SIZE[name]:,} bytes)"


def blocks(source_file: Path, name: str) -> Iterator[bytes]:
    """The content of `source_file` (raw or .gz) for `name`; Rejected if unreadable or mis-sized."""
    size, got, gz = SIZE[name], 0, source_file.suffix == ".gz"
    try:
        with (gzip.open if gz else open)(source_file, "rb") as src:
            if not gz and (whole := os.fstat(src.fileno()).st_size) != size:
                relation = "larger" if whole > size else "smaller"
                raise Rejected(f"{relation} than {known_file(name)}: it holds {whole:,} bytes")
            while block := src.read(min(BLOCK, size + 1 - got)):
                got += len(block)
                if got > size:
                    raise Rejected(f"larger than {known_file(name)}: stopped after {amount(got)}")
                yield block
    except EOFError as exc:
        raise Rejected("truncated (the gzip data ends early)") from exc
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise Rejected(f"bad gzip data ({exc})") from exc
    except OSError as exc:
        raise Rejected(f"cannot read it: {describe(exc)}") from exc
    if got < size:
        raise Rejected(f"smaller than {known_file(name)}: it holds {got:,} bytes")


def copy_hashed(source: Iterable[bytes], out: BinaryIO) -> str:
    """Write every block of `source` to `out`; return the SHA-256 of what was written."""
    digest = hashlib.sha256()
    for block in source:
        digest.update(block)
        out.write(block)
    return digest.hexdigest()


def install(source_file: Path, dest: Path) -> None:
    """Copy `source_file` (raw or .gz) to `dest` if its content verifies; atomic, no half-file.

    Rejected if the file is unreadable or not the right one (read no further than its size and one
    byte more); Unwritable if `dest` can't be written.
    """
    tmp = part_path(dest)
    try:
        with open(tmp, "xb") as out:  # mode 0o666 less the umask, as for any download
            digest = copy_hashed(blocks(source_file, dest.name), out)
        if digest != SHA256[dest.name]:
            raise Rejected("SHA-256 does not match")
        os.replace(tmp, dest)
    except OSError as exc:
        raise unwritable(exc, dest.parent) from exc
    finally:
        tmp.unlink(missing_ok=True)
