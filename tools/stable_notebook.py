"""Make an executed notebook's JSON the same from run to run: widget model ids, which Jupyter draws
at random, become ids derived from the notebook's name and their order of appearance, and the
timestamps of each cell's run are taken out, after printing the cells that ran longest.

Usage: python tools/stable_notebook.py notebooks/01_data.ipynb [...]
"""

import json
import re
import sys
import uuid
from datetime import datetime
from pathlib import Path

MODEL_ID = re.compile(r'"model_id": "([0-9a-f]{32})"|"([0-9a-f]{32})": \{\s*"model_module"')
LONGEST = 3  # cells named in the printed line


def stabilize(text: str, name: str) -> str:
    """`text` with every widget model id replaced by a stable one, in order of first appearance."""
    ids = dict.fromkeys(a or b for a, b in MODEL_ID.findall(text))
    ids.update(dict.fromkeys(re.findall(r'"IPY_MODEL_([0-9a-f]{32})"', text)))
    new = {old: uuid.uuid5(uuid.NAMESPACE_URL, f"{name}#{n}").hex for n, old in enumerate(ids)}
    # One pass: an id already stable must not be replaced a second time by a later one.
    return re.sub(r"[0-9a-f]{32}", lambda m: new.get(m.group(0), m.group(0)), text)


def take_cell_seconds(notebook: dict) -> dict[int, float]:
    """Remove the timestamps nbconvert's `record_timing` writes into each cell's metadata, and
    return the seconds each cell ran, by its index, from the start of its input to its reply."""
    seconds = {}
    for index, cell in enumerate(notebook["cells"]):
        stamps = cell.get("metadata", {}).pop("execution", None)
        if stamps and {"iopub.execute_input", "shell.execute_reply"} <= stamps.keys():
            start, end = (
                datetime.fromisoformat(stamps[k])
                for k in ("iopub.execute_input", "shell.execute_reply")
            )
            seconds[index] = (end - start).total_seconds()
    return seconds


def longest_cells(seconds: dict[int, float], count: int = LONGEST) -> str:
    """One line naming the `count` cells that ran longest, longest first ("c12 3.4 s, ...")."""
    ranked = sorted(seconds.items(), key=lambda item: -item[1])[:count]
    return ", ".join(f"c{index} {s:.1f} s" for index, s in ranked)


def main(paths: list[str]) -> None:
    """Rewrite each notebook in place, printing its longest cells when it holds their times."""
    for path in map(Path, paths):
        text = path.read_text()
        notebook = json.loads(text)
        seconds = take_cell_seconds(notebook)
        if seconds:  # written as nbformat writes, keys sorted as they were, so ids keep their order
            print(f"   longest cells of {path.name}: {longest_cells(seconds)}")
            text = json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        path.write_text(stabilize(text, path.name))


if __name__ == "__main__":
    main(sys.argv[1:])
