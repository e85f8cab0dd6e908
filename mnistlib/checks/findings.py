"""The homework checks' vocabulary: a `Finding` (right, wrong or not done yet), the helpers that run
a student's code and read its errors, and the global state a check leaves as it found it."""

from __future__ import annotations

import numbers
import random
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np
import torch

# Points of validation accuracy between two seeds of the same small MLP (notebook 04 measured
# 0.1 to 0.3): two runs closer than this are a tie, and either is a sound choice.
NOISE = 0.3


class Finding(NamedTuple):
    """One line of a check: `kind` is 'ok', 'wrong' or 'todo' (not done yet)."""

    kind: str
    text: str


def ok(text: str) -> Finding:
    """A finding that says what is right."""
    return Finding("ok", text)


def wrong(text: str) -> Finding:
    """A finding that says what is wrong and where to look, never what to write."""
    return Finding("wrong", text)


def todo(text: str) -> Finding:
    """A finding that says what is not filled in yet."""
    return Finding("todo", text)


def pending(value: Any) -> bool:
    """True for a placeholder: `...`, None, or an empty or `...`-holding list, tuple or dict."""
    if value is None or value is Ellipsis:
        return True
    if isinstance(value, Mapping):
        return not value or any(pending(v) or k is Ellipsis for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return not value or any(v is Ellipsis for v in value)
    return False


def attempt(fn: Callable, *args, **kwargs) -> tuple[Any, BaseException | None]:
    """`fn(*args, **kwargs)` and None, or None and the exception it raised."""
    try:
        return fn(*args, **kwargs), None
    except Exception as exc:  # the student's code may raise anything
        return None, exc


def unfinished(exc: BaseException | None) -> bool:
    """True when an exception comes from a `...` placeholder still in the code."""
    return exc is not None and "ellipsis" in str(exc).lower()


def not_filled_in(result: Any, exc: BaseException | None) -> bool:
    """True when a call of the student's code met a `...` placeholder or returned one."""
    return unfinished(exc) or exc is None and pending(result)


def error_text(call: str, exc: BaseException) -> str:
    """'call raised KindOfError: message', for a finding."""
    return f"{call} raised {type(exc).__name__}: {exc}"


def shape_mismatch(exc: BaseException) -> tuple[int, int, int] | None:
    """(rows, features given, features expected) from PyTorch's 'mat1 and mat2 shapes' error."""
    found = re.search(r"\((\d+)x(\d+) and (\d+)x(\d+)\)", str(exc))
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def number(value: Any) -> float | None:
    """`value` as a float when it is a real number (Python, NumPy or a one-element tensor)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_complex():
        return float(value)
    return None


@contextmanager
def as_found() -> Iterator[bool]:
    """Run a check with gradients on, generators seeded, warnings quiet; then restore them all."""
    grad = torch.is_grad_enabled()
    python_state, numpy_state = random.getstate(), np.random.get_state()
    cuda = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    try:
        with torch.random.fork_rng(devices=cuda), warnings.catch_warnings():
            warnings.simplefilter(
                "ignore"
            )  # the check's own runs of the answer: its verdict says more
            torch.set_grad_enabled(True)
            torch.manual_seed(0)
            random.seed(0)
            np.random.seed(0)
            yield grad  # the grad mode found, for the check to report
    finally:
        torch.set_grad_enabled(grad)
        random.setstate(python_state)
        np.random.set_state(numpy_state)
