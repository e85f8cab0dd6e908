"""The homework checks' vocabulary: a `Finding` (right, wrong or not done yet) and the helpers
that run a student's code and read its errors."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple


class Finding(NamedTuple):
    """One line of a check: `kind` is 'ok', 'wrong' or 'todo' (not done yet)."""

    kind: str
    text: str


def ok(text: str) -> Finding:
    return Finding("ok", text)


def wrong(text: str) -> Finding:
    return Finding("wrong", text)


def todo(text: str) -> Finding:
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


def attempt(fn: Callable, *args) -> tuple[Any, BaseException | None]:
    """`fn(*args)` and None, or None and the exception it raised."""
    try:
        return fn(*args), None
    except Exception as exc:  # the student's code may raise anything
        return None, exc


def unfinished(exc: BaseException | None) -> bool:
    """True when an exception comes from a `...` placeholder still in the code."""
    return exc is not None and "ellipsis" in str(exc).lower()


def not_filled_in(result: Any, exc: BaseException | None) -> bool:
    """True when a call of the student's code met a `...` placeholder or returned one."""
    return unfinished(exc) or exc is None and pending(result)


def error_text(call: str, exc: BaseException) -> str:
    return f"{call} raised {type(exc).__name__}: {exc}"


def shape_mismatch(exc: BaseException) -> tuple[int, int] | None:
    """(features given, features expected) from PyTorch's 'mat1 and mat2 shapes' error."""
    found = re.search(r"\((\d+)x(\d+) and (\d+)x(\d+)\)", str(exc))
    return (int(found[2]), int(found[3])) if found else None


def close_enough(a, b) -> bool:
    try:
        return len(a) == len(b) and all(
            math.isclose(float(x), y) for x, y in zip(a, b, strict=True)
        )
    except (TypeError, ValueError):
        return False
