"""The parts of a notebook marked optional (cells tagged "optional", under a heading that says
so) can be skipped: the notebook runs to the end without them, in quick mode. The first test shows
that the run does find a cell that needs a skipped one."""

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
WITH_OPTIONAL_PARTS = [
    nb for nb in sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))
    if any("optional" in c["metadata"].get("tags", []) for c in json.loads(nb.read_text())["cells"])
]  # fmt: skip


def run_without_optional(notebook: nbformat.NotebookNode) -> None:
    """Execute `notebook` without its optional cells, from the notebooks folder (the caller sets
    quick mode)."""
    notebook.cells = [c for c in notebook.cells if "optional" not in c.metadata.get("tags", [])]
    NotebookClient(
        notebook, timeout=600, resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()


def test_a_cell_that_needs_a_skipped_one_fails_the_run(monkeypatch):
    monkeypatch.setenv("MNISTLIB_QUICK", "1")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["optional"]}),
        nbformat.v4.new_code_cell("print(x)"),
    ]
    with pytest.raises(CellExecutionError, match="NameError"):
        run_without_optional(notebook)


@pytest.mark.parametrize("path", WITH_OPTIONAL_PARTS, ids=lambda p: p.stem)
def test_the_notebook_runs_without_its_optional_parts(path, monkeypatch):
    monkeypatch.setenv("MNISTLIB_QUICK", "1")
    notebook = nbformat.from_dict(json.loads(path.read_text()))
    for cell in notebook.cells:
        cell.source = "".join(cell.source)
    headings = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    assert any("(optional)" in h for h in headings), "an optional part must say so in its heading"
    run_without_optional(notebook)


def test_the_series_has_optional_parts():
    assert [p.stem for p in WITH_OPTIONAL_PARTS] == ["04_regularization"]
