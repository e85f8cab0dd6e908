"""Set every cell's slide type from the cell's content, so each notebook presents as a slide deck.

    python tools/slide_metadata.py notebooks/*.ipynb          # write (only what changed)
    python tools/slide_metadata.py --check notebooks/*.ipynb  # exit 1 if a notebook is stale

The rules (reveal.js via `jupyter nbconvert --to slides`, and RISE, read `metadata.slideshow`):
- a markdown cell with the title (`# `) or a section heading (`## `) starts a new slide;
- one with a `### ` heading starts a sub-slide (reveal.js: one step down);
- inside a long section, a markdown cell starts a sub-slide once the current (sub)slide is full;
- the Colab install cell (the code cell that mentions `google.colab`) is skipped;
- every other cell continues the current slide ("-").

The slide types follow from the cells' sources only (not from their outputs), so the result is the
same before and after `make book`, and running it twice changes nothing. It touches nothing but
`metadata.slideshow`, and writes a notebook in the layout Jupyter itself writes, only if a slide
type changed. Standard library only: it runs without mnistlib.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# About what one 960 × 700 reveal.js slide holds at the deck's font size, in lines of text.
SLIDE_LINES = 24
# A code cell's output is not known from its source: a cell that draws is counted as a figure.
FIGURE_LINES = 14
TEXT_OUTPUT_LINES = 3
DRAWS = ("plt.", "plots.", "fig", "show", "widgets.", "display(", "imshow", "plot(")
WRAP = 100  # characters per line of markdown on a slide


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


def height(cell: dict) -> int:
    """Lines a cell takes on a slide, estimated from its source."""
    text = source_of(cell)
    lines = text.splitlines() or [""]
    if cell.get("cell_type") == "markdown":
        return sum(1 + len(line) // WRAP for line in lines)
    drawn = any(word in text for word in DRAWS)
    return len(lines) + (FIGURE_LINES if drawn else TEXT_OUTPUT_LINES)


def slide_types(cells: list[dict]) -> list[str]:
    """The slide type of every cell, from the rules in this module's docstring."""
    types, filled = [], 0
    for cell in cells:
        level = heading_level(cell)
        if is_colab_install(cell):
            types.append("skip")
            continue
        if level in (1, 2):
            kind = "slide"
        elif level == 3 or (cell.get("cell_type") == "markdown" and filled >= SLIDE_LINES):
            kind = "subslide"
        else:
            kind = "-"
        filled = 0 if kind in ("slide", "subslide") else filled
        filled += height(cell)
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
