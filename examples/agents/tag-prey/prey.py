"""A scripted simple_tag prey that depends only on numpy: copy it and adapt it.

Each step it adds up where it wants to go and takes the move closest to that:

1. away from every predator, the nearer ones counting more (1 / distance^2);
2. back towards the middle once it is past ``SAFE`` on an axis, harder the
   further out (leaving the arena costs reward: 10 * (|x| - 0.9) from 0.9 on
   each axis, up to 10 per step past 1.0, see the README);
3. around the two obstacles when it is about to run into one.

Observation (mpe2 ``simple_tag_v3``, default sizes), 14 numbers for the prey:
``[vel x, vel y, pos x, pos y, 2 obstacles' positions relative to the prey (4),
3 predators' positions relative to the prey (6)]``. Action: 0 stay, 1 move -x,
2 move +x, 3 move -y, 4 move +y.
"""

from __future__ import annotations

from typing import Any

import numpy as np

VEL, POS, OBSTACLES, PREDATORS = slice(0, 2), slice(2, 4), slice(4, 8), slice(8, 14)
#: The unit direction of each discrete move (0 stays).
MOVES = np.array([[0.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])
SAFE = 0.6  # past this on an axis, the arena's edge starts to pull the prey back
EDGE_PULL = 8.0
LOOK_AHEAD = 0.25  # seconds of its own velocity the prey plans from
OBSTACLE_REACH = 0.35


def desired_direction(observation: np.ndarray) -> np.ndarray:
    """Where the prey wants to go: fleeing, the edge pull and obstacles, summed."""
    obs = np.asarray(observation, dtype=float)
    ahead = obs[POS] + LOOK_AHEAD * obs[VEL]
    shift = ahead - obs[POS]  # relative positions as seen from where it will be
    want = np.zeros(2)
    for rel in obs[PREDATORS].reshape(3, 2) - shift:
        want -= rel / max(float(rel @ rel), 1e-3)
    for axis in range(2):
        over = abs(ahead[axis]) - SAFE
        if over > 0:
            want[axis] -= np.sign(ahead[axis]) * EDGE_PULL * over * (1.0 + np.linalg.norm(want))
    for rel in obs[OBSTACLES].reshape(2, 2) - shift:
        distance = float(np.linalg.norm(rel))
        if distance < OBSTACLE_REACH:
            want -= rel / max(distance, 1e-3) * (OBSTACLE_REACH - distance) * 4.0
    return want


def best_move(want: np.ndarray) -> int:
    """The discrete move best aligned with ``want`` (stay when there is nowhere to go)."""
    if not np.any(want):
        return 0
    return int(np.argmax(MOVES @ want))


class TagPrey:
    """Flee, keep inside the arena, go round obstacles. Deterministic: no randomness."""

    def reset(self, *, seed: int | None = None) -> None:
        pass

    def act(self, observation: Any, *, action_mask: Any = None) -> int:
        return best_move(desired_direction(observation))


def make_agent(ctx: Any) -> TagPrey:
    """Entry point named in ``agent.toml``: one agent for the prey's seat."""
    if ctx.env_id != "simple_tag_v3":
        raise ValueError(f"tag-prey plays simple_tag_v3 only (got {ctx.env_id})")
    return TagPrey()
