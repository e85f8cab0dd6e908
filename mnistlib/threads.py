"""How PyTorch's threads wait for work, set before PyTorch loads.

PyTorch trains with one thread per core, and the OpenMP runtime it ships on Linux (libgomp) keeps
each thread spinning for up to 300,000 turns (milliseconds) after an operation, waiting for the
next one. When other programs keep the cores busy, the spinning threads fight them and each other,
and training runs many times slower. `import mnistlib` before `import torch` sets the spin to 1,000
turns, libgomp's own value for when it knows it has more threads than cores; then a thread sleeps
until there is work. The README's "If training is suddenly very slow" has the measurements.
"""

from __future__ import annotations

import os
import sys

SETTING = ("GOMP_SPINCOUNT", "1000")
# Either one, set by the user, says how long threads spin; theirs is kept, ours is not added.
USER_SETTINGS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
HINT = (
    "mnistlib: torch was imported first, so its threads spin while they wait and train many "
    "times slower on a busy CPU; restart the kernel and import mnistlib before torch"
)


def environment_setting() -> str | None:
    """The environment's setting of how threads wait, as 'NAME=value', or None."""
    for name in USER_SETTINGS:
        if name in os.environ:
            return f"{name}={os.environ[name]}"
    return None


def configure() -> bool:
    """Set `SETTING` unless the user set theirs or PyTorch has loaded (then hint); True if set."""
    if environment_setting() is not None:
        return False
    if "torch" not in sys.modules:
        os.environ[SETTING[0]] = SETTING[1]
        return True
    if sys.modules["torch"].get_num_threads() > 1:
        print(HINT, file=sys.stderr)
    return False
