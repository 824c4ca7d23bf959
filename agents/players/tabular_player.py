"""Plays a table learned by ``arena train q-learning|sarsa|expected-sarsa|mc-control``.

Stand-alone: needs NumPy only. ``table.npz`` holds ``keys`` (one row of bytes
per state: the observation's values as float32) and ``values`` (one row of action
values per state); it is read with ``allow_pickle=False``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

TABLE = "table.npz"


def load_table(path: Path) -> dict[bytes, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {bytes(k): v for k, v in zip(data["keys"], data["values"], strict=False)}


class TabularPlayer:
    """Greedy on the table: the legal action of highest value, the lowest index on ties.

    A state the table never saw gets a uniformly random legal action from the
    seeded generator (seeded again by every ``reset``).
    """

    def __init__(self, table: dict[bytes, np.ndarray], ctx: Any) -> None:
        self.table = table
        self.n_actions = int(ctx.action_space.n)
        self.seed = int(ctx.seed)
        self.rng = np.random.default_rng(self.seed)

    def reset(self, *, seed: int | None = None) -> None:
        self.rng = np.random.default_rng([self.seed, 0 if seed is None else seed])

    def act(self, observation: Any, *, action_mask: Any = None) -> int:
        legal = (
            np.ones(self.n_actions, dtype=bool)
            if action_mask is None
            else np.asarray(action_mask, dtype=bool)
        )
        row = self.table.get(np.asarray(observation, dtype=np.float32).tobytes())
        if row is None:
            return int(self.rng.choice(np.flatnonzero(legal)))
        return int(np.argmax(np.where(legal, row, -np.inf)))


def make_agent(ctx: Any) -> TabularPlayer:
    return TabularPlayer(load_table(Path(ctx.package_dir) / TABLE), ctx)
