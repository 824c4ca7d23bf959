"""Starves everyone else: forks children that leave the session and spin forever.

make_agent and reset each fork HOGS/2 children; each calls setsid() and execs a
Python busy loop with ``<marker>-hog`` in its argv (``marker.txt`` next to this
file). The agent itself plays the first legal move at once.
"""

import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
MARKER = (
    (_HERE / "marker.txt").read_text().strip()
    if (_HERE / "marker.txt").exists()
    else "hostile-setsid-hogs-marker"
)
HOGS = int((_HERE / "hogs.txt").read_text()) if (_HERE / "hogs.txt").exists() else 14
LOOP = "while True:\n    pass\n"


def spawn(n, tag):
    for _ in range(n):
        try:
            pid = os.fork()
        except OSError:
            return
        if pid == 0:
            try:
                os.setsid()
                os.execv(sys.executable, [sys.executable, "-c", LOOP, f"{MARKER}-hog-{tag}"])
            finally:
                os._exit(1)


class Agent:
    def reset(self, *, seed=None):
        spawn(HOGS - HOGS // 2, "reset")

    def act(self, observation, *, action_mask=None):
        return next(i for i, ok in enumerate(action_mask) if ok)


def make_agent(ctx):
    spawn(HOGS // 2, "make")
    return Agent()
