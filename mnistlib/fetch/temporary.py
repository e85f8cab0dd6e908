"""The temporary files and folders a fetch makes, named so that their owner can be told.

Each name carries the process id and host of the fetch that made it (`owner_tag`) and a random
token; each temporary folder holds a marker file that names its owner too. The `leftovers` module
reads these names to remove what a killed fetch left, and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

HOST = re.sub(r"[^\w-]", "-", socket.gethostname())
# The names of temporary files and folders, and the owner tag and random token in them as written.
PART = re.compile(r"\.(?P<name>[\w-]+)\.(?P<tag>.*)\.part")
SCRATCH = re.compile(r"mnistlib-(?P<tag>\d+@.*)")
TAG = re.compile(r"(?P<owner>(?P<pid>\d{1,9})@(?P<host>[\w-]+))\.[0-9a-f]{8}")
MARKER = ".mnistlib-fetch"  # put in each temporary folder as it is made, naming its owner


def owner_tag() -> str:
    """Who makes a temporary file or folder, as its name says: process id and host."""
    return f"{os.getpid()}@{HOST}"


def part_path(dest: Path) -> Path:
    """A new name for the hidden temporary file that becomes `dest`: `.NAME.PID@HOST.TOKEN.part`."""
    return dest.with_name(f".{dest.name}.{owner_tag()}.{secrets.token_hex(4)}.part")


def marker_text(owner: str) -> bytes:
    """What the marker in a temporary folder made by fetch `owner` says."""
    return f"a temporary folder of mnistlib's fetch, made by process {owner}\n".encode()


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """A temporary folder for one source, named with `owner_tag`, marked, removed when done."""
    owner = owner_tag()
    path = Path(tempfile.gettempdir()) / f"mnistlib-{owner}.{secrets.token_hex(4)}"
    path.mkdir(mode=0o700)
    try:
        (path / MARKER).write_bytes(marker_text(owner))
        yield path
    finally:
        with contextlib.suppress(OSError):
            for item in sorted(path.iterdir(), key=lambda item: item.name == MARKER):  # marker last
                if item.is_dir() and not item.is_symlink():
                    shutil.rmtree(item)
                else:
                    item.unlink()
            path.rmdir()
