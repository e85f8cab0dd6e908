"""Where the MNIST files go: the data root and its MNIST/raw folder, the per-user cache; and what a
failure to write there means, in words, with what the user can do about it."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

ELSEWHERE = (
    "set MNISTLIB_DATA_ROOT to a folder you can write to, "
    "or pass --root DIR to `python -m mnistlib.fetch`"
)


class Unwritable(Exception):
    """The destination cannot be written, so no source can help; `fix` says what the user can do."""

    def __init__(self, fact: str, fix: str = ELSEWHERE):
        super().__init__(fact)
        self.fix = fix


def data_root() -> Path:
    """Where MNIST lives: `MNISTLIB_DATA_ROOT`, else the checkout's `data/`, else `./data`."""
    if os.environ.get("MNISTLIB_DATA_ROOT"):
        return Path(os.environ["MNISTLIB_DATA_ROOT"]).expanduser()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "data").is_dir():
        return checkout / "data"
    return Path.cwd() / "data"


def raw_folder(root: str | os.PathLike) -> Path:
    """The folder `torchvision.datasets.MNIST(root=root)` reads the IDX files from; `~` expanded."""
    return Path(root).expanduser() / "MNIST" / "raw"


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
                goal = "" if path == folder else f" (the files go in {folder})"
                raise Unwritable(
                    f"{path} is a file, where a folder should be{goal}",
                    "move or rename that file, or give another data root "
                    "(`load_mnist(root=...)`, `--root DIR` or MNISTLIB_DATA_ROOT)",
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
