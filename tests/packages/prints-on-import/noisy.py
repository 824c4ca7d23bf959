"""Prints while being imported, then plays the first legal action."""

import sys

import numpy as np

print("prints-on-import: stdout at import")
print("prints-on-import: stderr at import", file=sys.stderr)


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        return int(np.flatnonzero(action_mask)[0])


def make_agent(ctx):
    return Agent()
