"""An honest agent that thinks hard: each act burns CPU, then plays a legal move.

The CPU seconds per act are 0.15, or the number in ``burn_s.txt`` next to this
file. The move is drawn from the legal ones with the seat's own seeded generator.
"""

import time
from pathlib import Path

import numpy as np

_BURN_FILE = Path(__file__).resolve().with_name("burn_s.txt")
BURN_S = float(_BURN_FILE.read_text()) if _BURN_FILE.exists() else 0.15


def burn(seconds):
    end = time.thread_time() + seconds
    x = 0
    while time.thread_time() < end:
        for i in range(1000):
            x += i * i
    return x


class Agent:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def reset(self, *, seed=None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)

    def act(self, observation, *, action_mask=None):
        burn(BURN_S)
        return int(self.rng.choice(np.flatnonzero(action_mask)))


def make_agent(ctx):
    return Agent(ctx.seed)
