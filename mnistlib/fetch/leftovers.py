"""Removing what killed fetches left, and nothing else; and a fetch's own cleanup on SIGTERM.

A temporary file or folder is removed only when its name says a fetch on this host made it
(`mnistlib.fetch.temporary`), that fetch's process has ended, and it belongs to this user; a
folder only when it holds its fetch's marker and nothing but what a source writes. What looks like
a fetch's but cannot be told to be one stays, and is named, with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from mnistlib.fetch.files import SHA256
from mnistlib.fetch.places import cache_folder, describe
from mnistlib.fetch.sources import NPM_CACHE, scratch_paths
from mnistlib.fetch.temporary import HOST, MARKER, PART, SCRATCH, TAG, marker_text


class Terminated(BaseException):
    """SIGTERM arrived during a fetch; raised so that every `finally` cleans up on the way out."""


def temp_places(raw: Path) -> list[Path]:
    """The folders fetches make temporary files in: `raw`, the temp folder, the cache."""
    places = [raw, Path(tempfile.gettempdir())]
    with contextlib.suppress(LookupError):
        places.append(cache_folder())
    return places


def process_alive(pid: int) -> bool:
    """True if process `pid` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and belongs to another user
        pass
    return True


def is_marked(folder: Path, owner: str) -> bool:
    """True if `folder` holds the marker that fetch `owner` puts in a folder it makes."""
    marker, expected = folder / MARKER, marker_text(owner)
    try:
        if not stat.S_ISREG(marker.lstat().st_mode):
            return False
        with open(marker, "rb") as f:
            return f.read(len(expected) + 1) == expected
    except OSError:
        return False


def remove_part(path: Path, st: os.stat_result) -> str | None:
    """Remove the temporary file `path` of a fetch that ended; None, or why it stays."""
    if not stat.S_ISREG(st.st_mode):
        return "not a file"
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        return f"cannot remove it: {describe(exc)}"
    return None


def remove_scratch(path: Path, st: os.stat_result, owner: str, keep: list[Path]) -> str | None:
    """Remove the temporary folder `path` of `owner`, a fetch that ended; None, or why it stays."""
    if not stat.S_ISDIR(st.st_mode):
        return "not a folder"
    if any(path == place or path in place.parents for place in keep):
        return "the data or the cache is in it"
    if not is_marked(path, owner):
        return f"no {MARKER} file of its fetch in it"
    for relative in scratch_paths(SHA256):
        item = path / relative
        if item.parent.resolve() != item.parent:
            continue  # reached through a link, so not in the folder
        with contextlib.suppress(OSError):
            mode = item.lstat().st_mode
            if stat.S_ISREG(mode):
                item.unlink()
            elif stat.S_ISDIR(mode) and relative == NPM_CACHE:
                shutil.rmtree(item)
            elif stat.S_ISDIR(mode):
                item.rmdir()  # only if empty
    try:
        rest = sorted(set(os.listdir(path)) - {MARKER})
        if not rest:
            (path / MARKER).unlink()
            path.rmdir()
    except OSError as exc:
        return f"cannot remove it: {describe(exc)}"
    return f"it holds what a fetch does not write: {', '.join(rest)}" if rest else None


def sweep(place: Path, own_too: bool, keep: list[Path]) -> list[str]:
    """Remove from `place` what fetches that ended left; what looks like it but stays, and why."""
    try:
        entries = sorted(os.scandir(place), key=lambda entry: entry.name)
    except OSError:
        return []
    doubts = []
    for entry in entries:
        part, scratch = PART.fullmatch(entry.name), SCRATCH.fullmatch(entry.name)
        if not (scratch or (part and part["name"] in SHA256)):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if st.st_uid != os.geteuid():
            continue  # another user's, for their own fetches to remove
        path, tag = Path(entry.path), TAG.fullmatch((part or scratch)["tag"])
        if tag is None:
            why = "no owner tag of a fetch in its name"
        elif tag["host"] != HOST:
            why = f"made on host {tag['host']}, where it may still be in use"
        elif process_alive(pid := int(tag["pid"])) and not (own_too and pid == os.getpid()):
            continue  # a running fetch's
        elif part:
            why = remove_part(path, st)
        else:
            why = remove_scratch(path, st, tag["owner"], keep)
        if why:
            doubts.append(f"{path} ({why})")
    return doubts


def remove_leftovers(places: list[Path], own_too: bool = False) -> list[str]:
    """Remove what killed fetches left in `places`, nothing else; what stays that looks like it."""
    keep = list(dict.fromkeys(place.resolve() for place in places))
    return [doubt for place in keep for doubt in sweep(place, own_too, keep)]


def raise_terminated(signum: int, frame: object) -> None:
    """SIGTERM handler during a fetch."""
    raise Terminated


@contextlib.contextmanager
def cleanup_on_sigterm(places: list[Path]) -> Iterator[None]:
    """While fetching, SIGTERM unwinds the fetch (temp files go, npm is killed), then ends us.

    Only in the main thread, and only where SIGTERM has its default action, which it gets back.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL
    ):
        yield
        return
    signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    except Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends us at once
        remove_leftovers(places, own_too=True)  # in case SIGTERM came in the middle of a `finally`
        signal.raise_signal(signal.SIGTERM)  # ends the process the way SIGTERM does
        raise  # only reached if SIGTERM is blocked
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
