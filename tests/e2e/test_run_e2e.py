"""run_e2e: what the browser shows after Run All is judged cell by cell, with no exemptions."""

import run_e2e


class NoImages:
    """A page with no output images (the blank-figure check then has nothing to look at)."""

    def locator(self, selector):
        return self

    def all(self):
        return []


def cell(prompt="[1]:", errors=(), stderr=()):
    """A code cell as the page reports it."""
    return {
        "code": True,
        "prompt": prompt,
        "folded": False,
        "errors": list(errors),
        "stderr": list(stderr),
        "widgetErrors": [],
        "texts": [],
        "images": [],
        "bars": [],
    }


def problems(cells, expected=None):
    report = run_e2e.Report("nb")
    count = len(cells) if expected is None else expected
    run_e2e.check_cells(NoImages(), cells, count, report, local="http://127.0.0.1:1")
    return report.problems


def test_a_clean_run_passes():
    assert problems([cell("[1]:"), cell("[2]:")]) == []


def test_an_error_output_fails_whatever_the_cell():
    found = problems([cell("[1]:"), cell("[2]:", errors=["ValueError: expected images"])])
    assert found == ["cell 1 shows an error:\nValueError: expected images"]


def test_a_traceback_on_stderr_is_an_error():
    found = problems([cell("[1]:", stderr=["Traceback (most recent call last):\n..."])])
    assert found and found[0].startswith("cell 0 shows an error")


def test_cells_that_never_ran_are_named():
    assert problems([cell("[1]:"), cell("[ ]:"), cell("[ ]:")]) == [
        f"cells [1, 2] {run_e2e.STOPPED}"
    ]


def test_a_page_with_missing_cells_is_reported():
    assert problems([cell("[1]:")], expected=3) == ["the page shows 1 cells, the notebook has 3"]
