"""Alt text for every figure: what a figure shows, in words, for a reader who cannot see it.

A figure function of the series says what it drew with `set_alt_text`; a figure made by hand gets
a description built from its axes (`describe`). In Jupyter the text travels with the picture: the
PNG formatter for matplotlib figures is wrapped so that every figure's output carries
`{"alt": text}` in its `image/png` metadata, which nbconvert's HTML export, nbsphinx and other
renderers put on the image."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle

ATTRIBUTE = "mnistlib_alt_text"  # where set_alt_text keeps a figure's text


def set_alt_text(fig: Figure, text: str) -> Figure:
    """Give `fig` the alt text `text`, a few sentences on what it shows; returns `fig`."""
    if not isinstance(fig, Figure):
        raise TypeError(f"expected a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"alt text must be a non-empty string, got {text!r}")
    setattr(fig, ATTRIBUTE, " ".join(text.split()))
    add_alt_text_to_outputs()  # before a `plt.show()` in the cell that set up the inline backend
    return fig


def alt_text(fig: Figure) -> str:
    """The alt text of `fig`: the one given with `set_alt_text`, else a description of its axes."""
    return getattr(fig, ATTRIBUTE, None) or describe(fig)


def listing(items: Sequence, most: int = 8) -> str:
    """'a, b and c' from `items`, the first `most` of them and a count of the rest."""
    items = [str(item) for item in items]
    if len(items) > most:
        items = [*items[:most], f"{len(items) - most} more"]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _number(value: float) -> str:
    """A value short enough to read aloud: 3 significant digits."""
    return f"{value:.3g}"


def _describe_axes(ax: Axes) -> str | None:
    """One sentence on what `ax` draws, or None when it draws nothing (a hidden or empty panel)."""
    images = [a for a in ax.get_children() if isinstance(a, AxesImage)]
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) > 1]
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() and p.get_height()]
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    title = ax.get_title() or ax.get_ylabel()
    if images:
        shape = images[0].get_array().shape
        return f"an image{f' ({title})' if title else ''}, {shape[0]} × {shape[1]} pixels"
    if not (lines or bars or points):
        return None
    kind = "line chart" if lines else "bar chart" if bars else "scatter plot"
    what = ax.get_ylabel() or "values"
    against = f" against {ax.get_xlabel()}" if ax.get_xlabel() else ""
    sentence = f"a {kind} of {what}{against}"
    named = [a.get_label() for a in (*lines, *points) if not a.get_label().startswith("_")]
    if named:
        sentence += (
            f", {len(named)} series: {listing(named)}" if len(named) > 1 else f" ({named[0]})"
        )
    low, high = ax.get_ylim()
    return f"{sentence} (vertical axis from {_number(low)} to {_number(high)})"


def describe(fig: Figure) -> str:
    """A description of what `fig` draws, built from its axes: the kind of each panel, what it
    plots against what, its named series and its range."""
    parts = [p for p in (_describe_axes(ax) for ax in fig.axes if ax.get_visible()) if p]
    images = sum(p.startswith("an image") for p in parts)
    if images > 2:
        others = [p for p in parts if not p.startswith("an image")]
        parts = [f"{images} images side by side", *others]
    if not parts:
        return "An empty figure."
    text = f"{len(parts)} panels: " + "; ".join(parts) if len(parts) > 1 else parts[0]
    return text[0].upper() + text[1:] + "."


def _with_alt_text(previous):
    """A PNG formatter that does what `previous` does and adds the figure's alt text."""

    def format_png(fig: Figure):
        data = previous(fig)
        if data is None:
            return None
        data, metadata = data if isinstance(data, tuple) else (data, {})
        return data, {**(metadata or {}), "alt": alt_text(fig)}

    format_png.adds_alt_text = True
    return format_png


def add_alt_text_to_outputs() -> None:
    """In IPython with a PNG formatter for figures (the inline backend), make that formatter put
    each figure's alt text in its output's metadata, now and after each cell; elsewhere, nothing."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    # The inline backend sets its formatter when the first figure is made, after this package is
    # imported; its figures are shown after the cell runs, after the callbacks registered earlier.
    if add_alt_text_to_outputs not in shell.events.callbacks["post_execute"]:
        shell.events.register("post_execute", add_alt_text_to_outputs)
    png = shell.display_formatter.formatters["image/png"]
    try:
        current = png.lookup_by_type(Figure)
    except KeyError:
        return  # no PNG for figures here (another backend): nothing to add alt text to
    if not getattr(current, "adds_alt_text", False):
        png.for_type(Figure, _with_alt_text(current))
