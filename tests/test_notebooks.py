"""The committed notebooks: Run All goes to the end in every front-end, whatever it does with tags.

Colab and VS Code stop Run All at the first exception and ignore cell tags, so no committed cell
may raise, and no tag may excuse one: a lesson shows an error with `source.show_error`.
"""

import json
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
