"""tools/slide_metadata.py: the slide types `make slides` gives the cells."""

import base64
import copy
import importlib.util
import json
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location(
    "slide_metadata", ROOT / "tools" / "slide_metadata.py"
)
sm = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(sm)


def md(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def code(text: str, **metadata) -> dict:
    return {"cell_type": "code", "metadata": metadata, "source": text, "outputs": []}


COLAB = 'import sys\nif "google.colab" in sys.modules:\n    %pip install mnistlib'


def test_title_sections_and_subsections_start_slides_and_colab_is_skipped():
    cells = [md("# 01 · Title"), md("## Setup"), code(COLAB), code("import torch"),
             md("## 1. Data"), md("### Details"), code("x = 1")]  # fmt: skip
    assert sm.slide_types(cells) == ["slide", "slide", "skip", "-", "slide", "subslide", "-"]


def test_a_heading_inside_a_cell_counts_but_not_one_in_a_code_block():
    cells = [md("# Title"), md("Closing words.\n\n## 2. Next section"), md("```\n# a comment\n```")]
    assert sm.slide_types(cells) == ["slide", "slide", "-"]


def drawing(source: str, figure_height: int, printed: int = 0) -> dict:
    """A code cell whose saved outputs are `printed` lines of text and a PNG figure of that height
    (the PNG's header is all the height estimate reads)."""
    header = (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + b"IHDR"
        + struct.pack(">II", 880, figure_height)
    )
    png = base64.b64encode(header + bytes(8)).decode()
    outputs = (
        [{"output_type": "stream", "name": "stdout", "text": "x\n" * printed}] if printed else []
    )
    outputs.append({"output_type": "display_data", "data": {"image/png": png}, "metadata": {}})
    return {**code(source), "outputs": outputs}


def test_one_figure_per_slide_and_each_takes_its_introduction_along():
    cells = [md("## Section"), md("Look for this."), drawing("plot(a)", 300),
             md("Look for that."), drawing("plot(b)", 300), md("Reading it.")]  # fmt: skip
    assert sm.slide_types(cells) == ["slide", "-", "-", "subslide", "-", "-"]
    assert sm.figure_heights(cells[2]) == [300]
    assert sm.figure_heights(drawing("plot(c)", 2000)) == [sm.FIGURE_MAX]  # the deck shrinks it


def test_a_cell_that_would_overflow_starts_a_subslide():
    cells = [md("## Long")] + [drawing("train()", 100, printed=12)] * 4
    types = sm.slide_types(cells)
    assert types[:2] == ["slide", "-"] and types.count("subslide") >= 2
    assert sm.height(cells[1]) > sm.height(code("train()"))  # the printed lines count
    long_line = {**code("x"), "outputs": [{"output_type": "stream", "text": "y" * 300}]}
    short_line = {**code("x"), "outputs": [{"output_type": "stream", "text": "y"}]}
    assert sm.height(long_line) - sm.height(short_line) == 3 * sm.CODE_LINE  # wrapped


def test_apply_touches_only_slideshow_and_a_second_run_changes_nothing():
    notebook = {"cells": [md("# T"), code("x = 1", tags=["nbval-check-output"])], "metadata": {}}
    before = copy.deepcopy(notebook)
    assert sm.apply(notebook) == 2
    assert sm.apply(notebook) == 0
    for old, new in zip(before["cells"], notebook["cells"], strict=True):
        assert {k: v for k, v in new["metadata"].items() if k != "slideshow"} == old["metadata"]
        assert {k: v for k, v in new.items() if k != "metadata"} == {
            k: v for k, v in old.items() if k != "metadata"
        }


def test_check_reports_a_stale_notebook_and_writing_fixes_it(tmp_path, capsys):
    path = tmp_path / "nb.ipynb"
    path.write_text(sm.dumps({"cells": [md("# T")], "metadata": {}, "nbformat": 4}))
    assert sm.main(["--check", str(path)]) == 1
    assert "make slides" in capsys.readouterr().out
    assert sm.main([str(path)]) == 0
    assert sm.main(["--check", str(path)]) == 0
    assert json.loads(path.read_text())["cells"][0]["metadata"]["slideshow"] == {
        "slide_type": "slide"
    }
