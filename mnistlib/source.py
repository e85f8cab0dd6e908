"""Show the code of mnistlib itself in a notebook, highlighted, and only the part a lesson needs."""

from __future__ import annotations

import inspect
import textwrap

from IPython.display import Code


def source_lines(obj, start: str | None = None, stop: str | None = None) -> str:
    """The source of a function or class; with `start` and `stop`, only the lines from the first
    that contains `start` through the first line after it that contains `stop`."""
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
        raise TypeError(f"expected a function or a class, got {type(obj).__name__}")
    lines = inspect.getsource(obj).splitlines()
    first = 0 if start is None else _find(lines, start, 0, obj)
    last = len(lines) - 1 if stop is None else _find(lines, stop, first, obj)
    return textwrap.dedent("\n".join(lines[first : last + 1]))


def _find(lines: list[str], text: str, begin: int, obj) -> int:
    """Index of the first line from `begin` on that contains `text`."""
    for i in range(begin, len(lines)):
        if text in lines[i]:
            return i
    raise ValueError(f"no line of {obj.__qualname__} contains {text!r}")


def show_source(obj, start: str | None = None, stop: str | None = None) -> Code:
    """The source of `obj` (or the part from `start` to `stop`) as syntax-highlighted code."""
    return Code(source_lines(obj, start, stop), language="python")
