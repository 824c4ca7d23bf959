"""A fork bomb that stops at the first refusal (or 2,000 children) and reports.

In reset it forks children that sleep for ever, each with ``<marker>-child`` in
argv (``marker.txt`` next to this file), until fork fails; it prints
``hostile-pids: forked N children, then <error>`` and plays the first legal move.
"""

import shutil
import subprocess
from pathlib import Path

_HERE = Path(__file__).resolve().parent
MARKER = (
    (_HERE / "marker.txt").read_text().strip()
    if (_HERE / "marker.txt").exists()
    else "hostile-pids-marker"
)
SLEEP = shutil.which("sleep") or "/bin/sleep"
CHILDREN = []


class Agent:
    def reset(self, *, seed=None):
        if CHILDREN:
            return
        error = "no refusal"
        for _ in range(2000):
            try:
                CHILDREN.append(subprocess.Popen([f"{MARKER}-child", "10000"], executable=SLEEP))
            except OSError as exc:
                error = f"{type(exc).__name__}: {exc}"
                break
        print(f"hostile-pids: forked {len(CHILDREN)} children, then {error}", flush=True)

    def act(self, observation, *, action_mask=None):
        return next(i for i, ok in enumerate(action_mask) if ok)


def make_agent(ctx):
    return Agent()
