"""Leaves a marker in its own folder when imported, then plays legal moves.

Inside the sandbox the folder is read-only, so the marker can only appear when
the arena imports this module in its own process: that is what the test checks.
The marker holds the importing process's pid.
"""

import os
from pathlib import Path

MARKER = Path(__file__).resolve().with_name("IMPORTED_OUTSIDE_SANDBOX")
try:
    MARKER.write_text(f"{os.getpid()}\n")
except OSError:
    pass


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        return next(i for i, ok in enumerate(action_mask) if ok)


def make_agent(ctx):
    return Agent()
