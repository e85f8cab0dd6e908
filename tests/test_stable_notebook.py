"""tools/stable_notebook.py: two runs that drew different widget ids give the same JSON."""

import importlib.util
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
