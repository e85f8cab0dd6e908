"""Show mnistlib itself in a notebook: its code, highlighted and cut to the part a lesson needs,
and the error a call raises, printed, so that Run All carries on in every front-end."""

from __future__ import annotations

import contextlib
import inspect
import textwrap
from collections.abc import Iterator

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


@contextlib.contextmanager
def show_error(expected: type[BaseException] = Exception) -> Iterator[None]:
    """Run the block and print the `expected` error it raises; AssertionError if none came.

    A lesson that shows an error on purpose writes `with show_error(ValueError): model(X)`: the
    cell prints `ValueError: ...` and succeeds, so Run All goes on in JupyterLab, Colab, VS Code
    and nbconvert alike. A block that no longer raises fails loudly, so the lesson cannot rot.
    """
    try:
        yield
    except expected as error:
        print(f"{type(error).__name__}: {error}")
    else:
        raise AssertionError(f"the code was expected to raise {expected.__name__}, and did not")
