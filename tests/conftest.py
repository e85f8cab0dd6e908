"""Synthetic MNIST for the unit tests: small IDX files written by the tests themselves."""

import gzip
import hashlib
import os
import stat
import struct

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from mnistlib import fetch

matplotlib.use("Agg")

N_TRAIN, N_TEST = 600, 100


def idx_images(n: int, seed: int) -> bytes:
    """An IDX3 file of `n` random 28×28 uint8 images."""
    pixels = np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    return struct.pack(">IIII", 0x803, n, 28, 28) + pixels.tobytes()


def idx_labels(n: int) -> bytes:
    """An IDX1 file of labels 0, 1, ..., 9, 0, 1, ... (n of them)."""
    return struct.pack(">II", 0x801, n) + (np.arange(n) % 10).astype(np.uint8).tobytes()


@pytest.fixture
def synthetic_files(tmp_path, monkeypatch):
    """A folder with the four synthetic IDX files (raw and .gz); SHA256 and SIZE made to match."""
    contents = {
        "train-images-idx3-ubyte": idx_images(N_TRAIN, seed=1),
        "train-labels-idx1-ubyte": idx_labels(N_TRAIN),
        "t10k-images-idx3-ubyte": idx_images(N_TEST, seed=2),
        "t10k-labels-idx1-ubyte": idx_labels(N_TEST),
    }
    folder = tmp_path / "downloads"
    folder.mkdir()
    for name, content in contents.items():
        (folder / name).write_bytes(content)
        (folder / f"{name}.gz").write_bytes(gzip.compress(content))
    hashes = {name: hashlib.sha256(c).hexdigest() for name, c in contents.items()}
    monkeypatch.setattr(fetch.files, "SHA256", hashes)
    monkeypatch.setattr(fetch.files, "SIZE", {name: len(c) for name, c in contents.items()})
    monkeypatch.setenv("MNISTLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MNISTLIB_DATA_FROM", raising=False)
    monkeypatch.delenv("MNISTLIB_QUICK", raising=False)
    return folder


@pytest.fixture
def synthetic_root(tmp_path, synthetic_files):
    """A data root whose MNIST/raw folder holds the synthetic files, as torchvision reads them."""
    root = tmp_path / "data"
    fetch.fetch(root, sources=[("test folder", fetch.folder_source(synthetic_files))], log=print)
    return root


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure a test drew."""
    yield
    plt.close("all")


def tiny_mnist(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` random uint8 images with labels 0, 1, ..., 9, 0, 1, ..., as InMemoryLoader takes them."""
    images = torch.randint(0, 256, (n, 28, 28), generator=torch.Generator().manual_seed(seed))
    return images.to(torch.uint8), torch.arange(n) % 10


@pytest.fixture
def spy():
    """A source that has nothing; the lists of names asked of it are in `spy.asked`."""

    def source(names, scratch):
        source.asked.append(list(names))
        raise FileNotFoundError("nothing here")

    source.asked = []
    return source


@pytest.fixture
def fake_npm(tmp_path, monkeypatch):
    """Put an `npm` on PATH that runs the given shell script (its arguments are in "$@")."""

    def make(script: str):
        npm = tmp_path / "bin" / "npm"
        npm.parent.mkdir(exist_ok=True)
        npm.write_text(f"#!/bin/sh\n{script}\n")
        npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("PATH", f"{npm.parent}{os.pathsep}{os.environ['PATH']}")
        return npm

    return make
