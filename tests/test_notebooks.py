"""The committed notebooks: Run All goes to the end in every front-end, whatever it does with tags;
and a reader with a screen reader gets every figure in words and a page that is easy to navigate.

Colab and VS Code stop Run All at the first exception and ignore cell tags, so no committed cell
may raise, and no tag may excuse one: a lesson shows an error with `source.show_error`.
Every figure's output carries alt text in its image/png metadata; each notebook has one H1 and
headings that go down one level at a time; a link's text says where it goes; every image in the
markdown has alt text. Each check is first shown to reject a bad notebook.
"""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9]*.ipynb"))
EXCUSES = {"raises-exception", "nbval-raises-exception", "nbval-skip", "skip-execution"}


def cells(notebook: Path) -> list[dict]:
    return json.loads(notebook.read_text())["cells"]


def test_the_series_is_there():
    assert len(NOTEBOOKS) >= 8


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_cell_holds_an_error_output(notebook):
    errors = [
        (i, o.get("ename"))
        for i, cell in enumerate(cells(notebook))
        for o in cell.get("outputs", [])
        if o["output_type"] == "error"
        or (o.get("name") == "stderr" and "Traceback" in "".join(o.get("text", "")))
    ]
    assert errors == [], f"{notebook.name}: cells with an error output {errors}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_cell_is_excused_from_running(notebook):
    excused = [
        (i, sorted(set(cell["metadata"].get("tags", [])) & EXCUSES))
        for i, cell in enumerate(cells(notebook))
        if set(cell["metadata"].get("tags", [])) & EXCUSES
    ]
    assert excused == [], f"{notebook.name}: cells tagged to raise or be skipped {excused}"


FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*)")
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]*)[^)]*\)")
VAGUE = {"here", "click here", "this", "this link", "link", "more", "read more"}


def markdown_lines(cell: dict):
    """The lines of a markdown cell outside code blocks."""
    inside = False
    for line in "".join(cell["source"]).splitlines():
        if FENCE.match(line.strip()):
            inside = not inside
        elif not inside:
            yield line


def heading_problems(notebook_cells: list[dict]) -> list[str]:
    """Headings out of order: not exactly one H1, or a level skipped on the way down."""
    problems, level, h1 = [], 0, 0
    for i, cell in enumerate(notebook_cells):
        if cell["cell_type"] != "markdown":
            continue
        for line in markdown_lines(cell):
            if match := HEADING.match(line):
                depth = len(match.group(1))
                h1 += depth == 1
                if depth > level + 1:
                    problems.append(f"cell {i}: H{depth} after H{level}: {match.group(2)[:40]}")
                level = depth
    return problems + ([] if h1 == 1 else [f"{h1} H1 headings, not one"])


def link_problems(notebook_cells: list[dict]) -> list[str]:
    """Links whose text does not say where they go, and markdown images without alt text."""
    problems = []
    for i, cell in enumerate(notebook_cells):
        if cell["cell_type"] != "markdown":
            continue
        for image, text, target in LINK.findall("\n".join(markdown_lines(cell))):
            if image and not text.strip():
                problems.append(f"cell {i}: image {target} without alt text")
            elif not image and (text.strip().lower() in VAGUE or text.startswith("http")):
                problems.append(f"cell {i}: link text {text!r} does not say where {target} goes")
    return problems


def figures_without_alt_text(notebook_cells: list[dict]) -> list[int]:
    """The code cells with a PNG output that carries no alt text in its metadata."""
    return [
        i
        for i, cell in enumerate(notebook_cells)
        for o in cell.get("outputs", [])
        if "image/png" in o.get("data", {})
        and len(o.get("metadata", {}).get("image/png", {}).get("alt", "").strip()) < 20
    ]


def md(text: str) -> dict:
    return {"cell_type": "markdown", "source": [text], "metadata": {}}


def test_the_reading_checks_reject_bad_notebooks():
    assert heading_problems([md("# A"), md("### C")]) == ["cell 1: H3 after H1: C"]
    assert heading_problems([md("## A")]) == ["cell 0: H2 after H0: A", "0 H1 headings, not one"]
    assert heading_problems([md("# A"), md("```\n# a comment\n```\n## B")]) == []
    assert link_problems([md("See [here](https://pytorch.org).")]) == [
        "cell 0: link text 'here' does not say where https://pytorch.org goes"
    ]
    assert link_problems([md("![](../images/x.png)")]) == [
        "cell 0: image ../images/x.png without alt text"
    ]
    assert link_problems([md("the [PyTorch docs](https://pytorch.org), ![a digit](x.png)")]) == []
    png = {"output_type": "display_data", "data": {"image/png": "iVBO"}}
    assert figures_without_alt_text(
        [{"cell_type": "code", "outputs": [{**png, "metadata": {}}]}]
    ) == [0]
    alt = {"image/png": {"alt": "A line chart of the loss against the epoch."}}
    assert (
        figures_without_alt_text([{"cell_type": "code", "outputs": [{**png, "metadata": alt}]}])
        == []
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_headings_links_and_figures_reach_a_screen_reader(notebook):
    notebook_cells = cells(notebook)
    assert heading_problems(notebook_cells) == [], notebook.name
    assert link_problems(notebook_cells) == [], notebook.name
    assert figures_without_alt_text(notebook_cells) == [], (
        f"{notebook.name}: figures without alt text"
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_cell_has_its_own_id(notebook):
    ids = [cell.get("id") for cell in cells(notebook)]
    assert None not in ids, f"{notebook.name}: a cell without an id (nbformat 4.5 needs one)"
    assert len(set(ids)) == len(ids), f"{notebook.name}: two cells share an id"
