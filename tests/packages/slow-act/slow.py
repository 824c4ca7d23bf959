"""Sleeps 0.3 s in every act, then plays the first legal action."""

import time

import numpy as np


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        time.sleep(0.3)
        return int(np.flatnonzero(action_mask)[0])


def make_agent(ctx):
    return Agent()
