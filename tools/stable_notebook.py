"""Make an executed notebook's JSON the same from run to run: widget model ids, which Jupyter draws
at random, become ids derived from the notebook's name and their order of appearance.

Usage: python tools/stable_notebook.py notebooks/01_data.ipynb [...]
"""

import re
import sys
import uuid
from pathlib import Path

MODEL_ID = re.compile(r'"model_id": "([0-9a-f]{32})"|"([0-9a-f]{32})": \{\s*"model_module"')


def stabilize(text: str, name: str) -> str:
    """`text` with every widget model id replaced by a stable one, in order of first appearance."""
    ids = dict.fromkeys(a or b for a, b in MODEL_ID.findall(text))
    ids.update(dict.fromkeys(re.findall(r'"IPY_MODEL_([0-9a-f]{32})"', text)))
    new = {old: uuid.uuid5(uuid.NAMESPACE_URL, f"{name}#{n}").hex for n, old in enumerate(ids)}
    # One pass: an id already stable must not be replaced a second time by a later one.
    return re.sub(r"[0-9a-f]{32}", lambda m: new.get(m.group(0), m.group(0)), text)


def main(paths: list[str]) -> None:
    """Rewrite each notebook in place."""
    for path in map(Path, paths):
        path.write_text(stabilize(path.read_text(), path.name))


if __name__ == "__main__":
    main(sys.argv[1:])
