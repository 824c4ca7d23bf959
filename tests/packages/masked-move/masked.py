"""Plays the first masked-out action if there is one, else action 0."""

import numpy as np


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        illegal = np.flatnonzero(np.asarray(action_mask) == 0)
        return int(illegal[0]) if illegal.size else 0


def make_agent(ctx):
    return Agent()
