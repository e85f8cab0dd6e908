"""threads: importing mnistlib before torch sets how PyTorch's threads wait, never over the user's
own setting; after torch it sets nothing and hints instead."""

import os
import subprocess
import sys

import pytest
import torch

from mnistlib import threads

NAME, VALUE = threads.SETTING


def child(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter whose environment has no wait setting but `env`'s."""
    clean = {k: v for k, v in os.environ.items() if k not in threads.USER_SETTINGS}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def openmp_report(stderr: str) -> list[str]:
    """The lines the OpenMP runtime prints about itself at start-up when OMP_DISPLAY_ENV is set."""
    return [line.strip() for line in stderr.splitlines() if " = " in line]


@pytest.fixture
def no_setting(monkeypatch):
    """No wait setting in the environment; whatever a test sets is undone afterwards."""
    for name in threads.USER_SETTINGS:
        monkeypatch.setenv(name, "")  # recorded first, so that the undo removes a value set later
        monkeypatch.delenv(name)


def test_importing_mnistlib_first_sets_the_wait_policy_for_the_process():
    show = f"import os, mnistlib, torch; print(os.environ.get({NAME!r}))"
    assert child(show).stdout.strip() == VALUE


def test_the_openmp_runtime_reads_the_setting_when_mnistlib_comes_first():
    ours = child("import mnistlib, torch", OMP_DISPLAY_ENV="VERBOSE").stderr
    if "OPENMP DISPLAY ENVIRONMENT" not in ours:
        pytest.skip("this PyTorch's OpenMP runtime does not report its settings")
    by_hand = child("import torch", OMP_DISPLAY_ENV="VERBOSE", **{NAME: VALUE}).stderr
    default = child("import torch", OMP_DISPLAY_ENV="VERBOSE").stderr
    assert openmp_report(ours) == openmp_report(by_hand) != openmp_report(default)


@pytest.mark.parametrize("name, value", [("OMP_WAIT_POLICY", "ACTIVE"), ("GOMP_SPINCOUNT", "5")])
def test_a_users_own_setting_is_kept_and_nothing_is_added(name, value):
    show = "import os, mnistlib, torch; print([os.environ.get(n) for n in {!r}])"
    out = child(show.format(threads.USER_SETTINGS), **{name: value}).stdout
    assert out.strip() == str([value if n == name else None for n in threads.USER_SETTINGS])


def test_before_torch_it_sets_the_setting_once(monkeypatch, no_setting):
    monkeypatch.delitem(sys.modules, "torch")
    assert threads.configure() is True and os.environ[NAME] == VALUE
    assert threads.configure() is False and threads.environment_setting() == f"{NAME}={VALUE}"


def test_after_torch_it_sets_nothing_and_hints_when_threads_would_spin(
    monkeypatch, capsys, no_setting
):
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    assert threads.configure() is False and NAME not in os.environ
    assert capsys.readouterr().err.strip() == threads.HINT


def test_no_hint_with_one_thread_or_the_users_own_setting(monkeypatch, capsys, no_setting):
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    assert threads.configure() is False
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert threads.configure() is False
    assert capsys.readouterr().err == "" and os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
