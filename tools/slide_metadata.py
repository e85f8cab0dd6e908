"""Set every cell's slide type from the cell's content, so each notebook presents as a slide deck.

    python tools/slide_metadata.py notebooks/*.ipynb          # write (only what changed)
    python tools/slide_metadata.py --check notebooks/*.ipynb  # exit 1 if a notebook is stale

The rules (reveal.js via `jupyter nbconvert --to slides`, and RISE, read `metadata.slideshow`):
- a markdown cell with the title (`# `) or a section heading (`## `) starts a new slide;
- one with a `### ` heading starts a sub-slide (reveal.js: one step down);
- any other cell starts a sub-slide when it would not fit below what the current (sub)slide
  holds, or when it shows a figure and the current one already has one: one figure per slide;
- the Colab install cell (the code cell that mentions `google.colab`) is skipped;
- every other cell continues the current slide ("-").

Whether a cell fits is worked out in pixels of the deck (build_slides.py: 1200 × 900, shown
scaled on a 1024 × 768 screen), from its source and its saved outputs (a figure's own height, the
lines of text printed), with sizes measured on the decks; the browser test measures the real
slides. So it runs after `make book`, which calls it, and running it twice changes nothing. It
touches nothing but `metadata.slideshow`, and writes a notebook in the layout Jupyter itself
writes, only if a slide type changed. Standard library only: it runs without mnistlib.
"""

from __future__ import annotations

import argparse
import base64
import json
import struct
import sys
from pathlib import Path

# Pixels of a deck's slide, with a margin for the errors of the estimate below (about 60 px at
# most for nine cells in ten, measured against the rendered decks).
SLIDE_HEIGHT = 900 - 60
# Pixels, fitted on the rendered decks of the series: a markdown cell takes MD_LINE per line of
# MD_WRAP characters, MD_PARAGRAPH per paragraph and MD_HEADING per heading; a code cell CODE_CELL,
# CODE_LINE per line of source and per line of text output (which wraps at OUTPUT_WRAP
# characters), OUTPUT per output, and its figures their own height, at most FIGURE_MAX (the decks'
# style, tools/offline.html.j2, shrinks taller ones to that height).
MD_WRAP, MD_LINE, MD_PARAGRAPH, MD_HEADING = 90, 16, 33, 18
CODE_CELL, CODE_LINE, OUTPUT_WRAP, OUTPUT = 38, 23, 88, 22
FIGURE_MAX = 420
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET = 700  # an ipywidgets panel (the playground's is the tallest): its saved state has no size


def source_of(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def heading_level(cell: dict) -> int:
    """The highest level (1 for `# `) of the headings in a markdown cell; 0 when it has none."""
    if cell.get("cell_type") != "markdown":
        return 0
    levels, fenced = [], False
    for line in source_of(cell).splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            marks = len(line) - len(line.lstrip("#"))
            if line[marks : marks + 1] == " ":
                levels.append(marks)
    return min(levels, default=0)


def is_colab_install(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and "google.colab" in source_of(cell)


def figure_heights(cell: dict) -> list[int]:
    """The heights in pixels of the PNG figures among a code cell's outputs, as the deck shows
    them."""
    heights = []
    for output in cell.get("outputs", []):
        png = output.get("data", {}).get("image/png")
        if png:
            header = base64.b64decode("".join(png)[:32])  # the IHDR chunk: width, then height
            heights.append(min(struct.unpack(">I", header[20:24])[0], FIGURE_MAX))
    return heights


def text_lines(output: dict) -> int:
    """Lines of text an output prints on a slide, long ones wrapped (a figure's text stand-in not
    counted)."""
    if "image/png" in output.get("data", {}):
        return 0
    text = output.get("text") or output.get("data", {}).get("text/plain", "")
    lines = ("".join(text) if isinstance(text, list) else text).splitlines()
    return sum(1 + len(line) // OUTPUT_WRAP for line in lines)


def height(cell: dict) -> int:
    """Pixels a cell takes on a slide, estimated from its source and its saved outputs."""
    lines = source_of(cell).splitlines() or [""]
    if cell.get("cell_type") == "markdown":
        wrapped = sum(1 + len(line) // MD_WRAP for line in lines if line.strip())
        paragraphs = source_of(cell).strip().count("\n\n") + 1
        headings = sum(line.startswith("#") for line in lines)
        return MD_LINE * wrapped + MD_PARAGRAPH * paragraphs + MD_HEADING * headings
    outputs = cell.get("outputs", [])
    printed = sum(text_lines(o) for o in outputs if WIDGET_VIEW not in o.get("data", {}))
    panels = sum(WIDGET_VIEW in o.get("data", {}) for o in outputs)
    return (
        CODE_CELL + CODE_LINE * (len(lines) + printed) + OUTPUT * len(outputs)
        + sum(figure_heights(cell)) + WIDGET * panels
    )  # fmt: skip


def slide_types(cells: list[dict]) -> list[str]:
    """The slide type of every cell, from the rules in this module's docstring. A code cell that
    must start a sub-slide takes the markdown cell just before it along (its introduction) when
    both fit on one."""
    types, filled, figure, last = [], 0, False, 0  # last: the height of the cell before
    for i, cell in enumerate(cells):
        level = heading_level(cell)
        if is_colab_install(cell):
            types.append("skip")
            continue
        size, draws = height(cell), bool(figure_heights(cell))
        if level in (1, 2):
            kind = "slide"
        elif level == 3 or (filled and (filled + size > SLIDE_HEIGHT or draws and figure)):
            kind = "subslide"
        else:
            kind = "-"
        introduced = i and types[-1] == "-" and cells[i - 1]["cell_type"] == "markdown"
        together = introduced and last + size <= SLIDE_HEIGHT  # the introduction comes along
        if kind == "subslide" and cell["cell_type"] == "code" and together:
            types[-1], kind, filled, figure = "subslide", "-", last, False
        if kind != "-":
            filled, figure = 0, False
        filled += size
        figure = figure or draws
        last = size
        types.append(kind)
    return types


def apply(notebook: dict) -> int:
    """Set `metadata.slideshow.slide_type` on every cell; return how many cells changed."""
    changed = 0
    for cell, kind in zip(notebook["cells"], slide_types(notebook["cells"]), strict=True):
        metadata = cell.setdefault("metadata", {})
        slideshow = metadata.get("slideshow") or {}
        if slideshow.get("slide_type") != kind:
            metadata["slideshow"] = {**slideshow, "slide_type": kind}
            changed += 1
    return changed


def dumps(notebook: dict) -> str:
    """The notebook as Jupyter (nbformat) writes it: sorted keys, one-space indent, UTF-8."""
    return json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    stale = []
    for path in args.notebooks:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        changed = apply(notebook)
        if changed and args.check:
            stale.append(f"{path} ({changed} cells)")
        elif changed:
            path.write_text(dumps(notebook), encoding="utf-8")
            print(f"{path}: slide types set on {changed} cells")
    if stale:
        print("slide metadata out of date in " + ", ".join(stale) + ": run `make slides`")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
