"""The ``random`` built-in: uniform over legal actions, for every action space.

It is the baseline every other agent is measured against and the default
opponent of smoke matches, so ``act`` is on the hot path of benchmarks: the
masked ``Discrete`` case costs about one microsecond.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from gymnasium import spaces

from arena.protocol import AgentContext


class RandomAgent:
    """Picks actions uniformly at random from its own seeded generator.

    Args:
        action_space: the gymnasium space ``act`` must return an action of.
        seed: seed of the agent's generator; ``reset(seed=...)`` replaces it.
    """

    def __init__(self, action_space: Any, *, seed: int | None = None) -> None:
        self.action_space = action_space
        self._rng = np.random.default_rng(seed)
        self._seed, self._used = seed, False
        self._fallback_space: Any = None
        if isinstance(action_space, spaces.Discrete):
            self._n = int(action_space.n)
            self._start = int(action_space.start)
        elif isinstance(action_space, spaces.Box):
            self._init_box(action_space)
        elif not isinstance(action_space, (spaces.MultiDiscrete, spaces.MultiBinary)):
            # Dict, Tuple, ...: a private copy so seeding it never touches the
            # space other seats share.
            self._fallback_space = copy.deepcopy(action_space)
            self._fallback_space.seed(int(self._rng.integers(2**31)))
            self._used = True

    def _init_box(self, space: spaces.Box) -> None:
        low = np.asarray(space.low, dtype=np.float64)
        high = np.asarray(space.high, dtype=np.float64)
        self._low, self._high = low, high
        self._bounded = bool(np.all(np.isfinite(low)) and np.all(np.isfinite(high)))

    def reset(self, *, seed: int | None = None) -> None:
        """Start a new match; a given seed replaces the generator's state."""
        # Rebuilding a generator costs more than a connect-four move: skip it when
        # the seed is the one this fresh generator was built from.
        if seed is not None and (seed != self._seed or self._used):
            self._seed, self._used = seed, False
            self._rng = np.random.default_rng(seed)
            if self._fallback_space is not None:
                self._fallback_space.seed(int(self._rng.integers(2**31)))

    def act(self, observation: Any, *, action_mask: Any = None) -> Any:
        """Return a uniformly random (legal) action; the observation is ignored."""
        self._used = True
        if self._fallback_space is None and isinstance(self.action_space, spaces.Discrete):
            if action_mask is None:
                return self._start + int(self._rng.random() * self._n)
            if type(action_mask) is not np.ndarray:
                action_mask = np.asarray(action_mask)
            # nonzero() + random() is ~6x cheaper than rng.choice(np.flatnonzero(mask)).
            legal = action_mask.nonzero()[0]
            if legal.size == 0:
                raise ValueError("action_mask has no legal action")
            return self._start + int(legal[int(self._rng.random() * legal.size)])
        if isinstance(self.action_space, spaces.Box):
            return self._sample_box(self.action_space)
        if isinstance(self.action_space, spaces.MultiDiscrete):
            nvec = self.action_space.nvec
            start = self.action_space.start
            return (self._rng.integers(0, nvec) + start).astype(self.action_space.dtype)
        if isinstance(self.action_space, spaces.MultiBinary):
            n = self.action_space.n
            return self._rng.integers(0, 2, size=n).astype(self.action_space.dtype)
        return self._fallback_space.sample(action_mask)

    def _sample_box(self, space: spaces.Box) -> np.ndarray:
        low, high = self._low, self._high
        if np.issubdtype(space.dtype, np.integer):
            # Integer boxes have finite bounds in practice; both ends are inclusive.
            ints = self._rng.integers(low.astype(np.int64), high.astype(np.int64), endpoint=True)
            return ints.astype(space.dtype)
        sample: np.ndarray
        if self._bounded:
            sample = self._rng.uniform(low, high)
        else:
            # Unbounded dimensions: normal / shifted exponential, as gymnasium does.
            lo_inf, hi_inf = ~np.isfinite(low), ~np.isfinite(high)
            shape = low.shape
            sample = self._rng.uniform(np.where(lo_inf, 0.0, low), np.where(hi_inf, 1.0, high))
            sample = np.where(lo_inf & hi_inf, self._rng.normal(size=shape), sample)
            sample = np.where(~lo_inf & hi_inf, low + self._rng.exponential(size=shape), sample)
            sample = np.where(lo_inf & ~hi_inf, high - self._rng.exponential(size=shape), sample)
        # Casting to float32 may round up to ``high``, which is still inside the box.
        return np.clip(sample, low, high).astype(space.dtype)


def make_agent(ctx: AgentContext) -> RandomAgent:
    """Entry point: a random agent for the seat described by ``ctx``."""
    return RandomAgent(ctx.action_space, seed=ctx.seed)
