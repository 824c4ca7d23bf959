"""Uniform random moves from a generator seeded by the arena: the same seed, the same moves."""

import numpy as np


class RandomMoves:
    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.rng = np.random.default_rng(seed)

    def reset(self, *, seed=None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)

    def act(self, observation, *, action_mask=None):
        return int(self.rng.integers(self.n))


def make_agent(ctx):
    return RandomMoves(int(ctx.action_space.n), ctx.seed)
