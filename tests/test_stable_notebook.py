"""tools/stable_notebook.py: two runs that drew different widget ids give the same JSON."""

import importlib.util
import json
import uuid
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "stable_notebook", Path(__file__).resolve().parent.parent / "tools" / "stable_notebook.py"
)
stable_notebook = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(stable_notebook)


def run_with_random_ids() -> str:
    a, b = uuid.uuid4().hex, uuid.uuid4().hex
    return (
        f'{{"outputs": [{{"model_id": "{a}"}}], "state": {{"{a}": {{"model_module": "x", '
        f'"children": ["IPY_MODEL_{b}"]}}, "{b}": {{"model_module": "y"}}}}}}'
    )


def test_two_runs_become_identical_and_ids_stay_distinct():
    first = stable_notebook.stabilize(run_with_random_ids(), "01.ipynb")
    second = stable_notebook.stabilize(run_with_random_ids(), "01.ipynb")
    assert first == second
    ids = {uuid.uuid5(uuid.NAMESPACE_URL, f"01.ipynb#{n}").hex for n in (0, 1)}
    assert all(i in first for i in ids)


def test_ids_already_stable_in_another_order_stay_distinct():
    stable = [uuid.uuid5(uuid.NAMESPACE_URL, f"01.ipynb#{n}").hex for n in (0, 1)]
    # the second stable id now appears first, as after a rewrite with sorted keys
    text = (
        f'{{"outputs": [{{"model_id": "{stable[1]}"}}], "state": {{"{stable[1]}": '
        f'{{"model_module": "x", "children": ["IPY_MODEL_{stable[0]}"]}}, '
        f'"{stable[0]}": {{"model_module": "y"}}}}}}'
    )
    result = stable_notebook.stabilize(text, "01.ipynb")
    assert result.count(stable[0]) == 2 and result.count(stable[1]) == 2
    assert stable_notebook.stabilize(result, "01.ipynb") == result


def test_cell_times_are_read_and_removed_and_the_longest_named(tmp_path):
    def stamps(start, end):
        return {
            "iopub.execute_input": f"2026-01-01T10:00:{start}Z",
            "iopub.status.busy": f"2026-01-01T10:00:{start}Z",
            "iopub.status.idle": f"2026-01-01T10:00:{end}Z",
            "shell.execute_reply": f"2026-01-01T10:00:{end}Z",
        }

    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "# A"},
        {"cell_type": "code", "metadata": {"execution": stamps("01.000000", "03.500000")}},
        {"cell_type": "code", "metadata": {"execution": stamps("03.600000", "13.600000")}},
        {"cell_type": "code", "metadata": {"tags": ["x"], "execution": stamps("14.0", "14.25")}},
    ]
    path = tmp_path / "01.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}}))
    notebook = json.loads(path.read_text())
    seconds = stable_notebook.take_cell_seconds(notebook)
    assert seconds == {1: 2.5, 2: 10.0, 3: 0.25}
    assert stable_notebook.longest_cells(seconds, 2) == "c2 10.0 s, c1 2.5 s"
    stable_notebook.main([str(path)])
    written = json.loads(path.read_text())
    assert [c["metadata"] for c in written["cells"]] == [{}, {}, {}, {"tags": ["x"]}]
    assert path.read_text().endswith("}\n")
