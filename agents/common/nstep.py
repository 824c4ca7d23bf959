"""n-step returns, accumulated per stream (one stream per game and seat).

A 1-step transition ``(s_t, a_t, r_t, s_{t+1})`` becomes, once ``n`` of them
are in hand,

    G_t = r_t + γ r_{t+1} + ... + γ^{n-1} r_{t+n-1},    bootstrap from s_{t+n} with γ^n,

so the learner's target is ``G_t + γ^n (1 - done) max_a Q(s_{t+n}, a)``. When
the episode ends inside the window the remaining transitions are flushed with
shorter horizons ``k < n`` (their ``done`` is true, so the bootstrap term
vanishes and only ``G`` counts).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Transition:
    """One (possibly multi-step) transition.

    Attributes:
        obs: observation where the action was taken.
        action: the action.
        reward: discounted sum of the rewards over the horizon.
        next_obs: observation the target bootstraps from.
        next_mask: legal actions at ``next_obs``.
        done: the episode ended within the horizon (no bootstrap).
        discount: ``γ^k`` for a horizon of ``k`` steps.
    """

    obs: Any
    action: int
    reward: float
    next_obs: Any
    next_mask: Any
    done: bool
    discount: float


class NStepAccumulator:
    """Turns 1-step transitions into n-step ones, stream by stream.

    Args:
        n: horizon (1 passes transitions through unchanged, with discount γ).
        gamma: discount factor.
    """

    def __init__(self, n: int, gamma: float) -> None:
        if n < 1:
            raise ValueError("n_step must be at least 1")
        self.n = n
        self.gamma = gamma
        self._queues: dict[int, deque[Transition]] = {}

    def push(
        self,
        stream: int,
        obs: Any,
        action: int,
        reward: float,
        next_obs: Any,
        next_mask: Any,
        done: bool,
    ) -> list[Transition]:
        """Add one 1-step transition of ``stream``; return the n-step ones now complete."""
        queue = self._queues.setdefault(stream, deque())
        queue.append(Transition(obs, action, reward, next_obs, next_mask, done, self.gamma))
        ready: list[Transition] = []
        if done:
            while queue:  # the episode is over: every pending start gets a short horizon
                ready.append(self._fold(queue))
                queue.popleft()
        elif len(queue) == self.n:
            ready.append(self._fold(queue))
            queue.popleft()
        return ready

    def _fold(self, queue: deque[Transition]) -> Transition:
        first, last = queue[0], queue[-1]
        ret = 0.0
        for k, t in enumerate(queue):
            ret += self.gamma**k * t.reward
        return Transition(
            first.obs,
            first.action,
            ret,
            last.next_obs,
            last.next_mask,
            last.done,
            self.gamma ** len(queue),
        )

    def clear(self) -> None:
        """Forget every partial window (e.g. when games are abandoned)."""
        self._queues.clear()
