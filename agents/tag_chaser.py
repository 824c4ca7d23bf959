"""``tag-chaser``: a scripted simple_tag predator that heads straight for the prey.

The yardstick for trained prey (``bench/mpe_tag.py``): a prey that learned
anything should be caught less than a random prey by chasers that never hesitate.
A predator's observation (mpe2 ``simple_tag_v3``, default sizes) is
``[vel 2, pos 2, 2 landmarks 4, 2 other predators 4, prey 2, prey vel 2]``;
the prey's position relative to the predator is entries 12 and 13.
The discrete moves are 0 stay, 1 -x, 2 +x, 3 -y, 4 +y: the chaser takes the
axis on which the prey is farther away. Seated as the prey (14 numbers: its
velocity 0-1, position 2-3, the three predators' relative positions 8 to 13), it
flees all three at once and keeps inside the arena, so the built-in fills both
roles and is no pushover in either.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from arena.protocol import AgentContext

ENVS = ("simple_tag_v3",)
PREY = slice(12, 14)


def chase(observations: np.ndarray) -> np.ndarray:
    """Moves for predators' observations ``[..., 16]`` (vectorised for the bench)."""
    rel = observations[..., PREY]
    dx, dy = rel[..., 0], rel[..., 1]
    along_x = np.abs(dx) >= np.abs(dy)
    return np.where(along_x, np.where(dx > 0, 2, 1), np.where(dy > 0, 4, 3))


#: The five discrete moves as directions (0 stay, 1 -x, 2 +x, 3 -y, 4 +y).
MOVES = np.array([[0.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])
#: Past this distance from the middle on an axis, the prey is pulled back in: a prey
#: that runs out of the arena is cornered (and penalised by simple_tag's bound).
EDGE = 0.6


def flee(observation: np.ndarray) -> int:
    """The prey's move: away from every predator, weighted by 1 / distance², seen from
    where its velocity takes it in a quarter second, plus a pull back to the middle
    past ``EDGE`` on an axis; the move closest to that direction."""
    observation = np.asarray(observation, dtype=float)
    shift = 0.25 * observation[0:2]
    position = observation[2:4] + shift
    want = np.zeros(2)
    for rel in observation[8:14].reshape(3, 2) - shift:
        want -= rel / max(float(rel @ rel), 1e-3)
    for axis in range(2):
        over = abs(position[axis]) - EDGE
        if over > 0:
            want[axis] -= np.sign(position[axis]) * 8.0 * over * (1.0 + np.linalg.norm(want))
    return int(np.argmax(MOVES @ want))


class TagChaser:
    def __init__(self, role: str) -> None:
        self.prey = role != "adversary"

    def reset(self, *, seed: int | None = None) -> None:
        pass

    def act(self, observation: Any, *, action_mask: Any = None) -> int:
        if self.prey:
            return flee(observation)
        return int(chase(np.asarray(observation)))


def make_agent(ctx: AgentContext) -> TagChaser:
    if ctx.env_id not in ENVS:
        raise ValueError(f"tag-chaser plays simple_tag_v3 only (got {ctx.env_id})")
    return TagChaser(ctx.role)
