"""The self-play league: who the learner plays in each new game.

A trainer's ``opponents`` key is a table of shares by opponent name, e.g.
``opponents = {self = 0.5, past = 0.3, heuristic = 0.1, random = 0.1}``:

- ``self``: the learner plays both seats (and learns from both);
- ``past``: a frozen past self, drawn uniformly from a pool of the last
  ``pool_size`` snapshots; a snapshot of the learner joins the pool every
  ``snapshot_every`` env steps (checked at the end of each rollout);
- ``random``, ``one-ply``, ``heuristic``: the built-ins of the same names,
  played on the lockstep boards (``random`` and ``one-ply`` vectorised;
  ``heuristic`` calls :class:`agents.heuristic.HeuristicAgent` once per game
  and move, cheap at the shares a league gives it).

**The rule.** Shares are non-negative and sum to 1 (checked, one error line
naming the file and key). When a game starts, one uniform draw ``u`` in [0, 1)
from the run's generator picks the first opponent, in the order the names are
written, whose cumulative share exceeds ``u``. While the pool is still empty,
``past`` games are played as ``self``. Against any opponent but ``self`` the
learner's seat is a second fair draw (0 or 1), and ``past`` draws the snapshot
index uniformly. Only the learner's own moves are trained on.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping

import numpy as np
import torch
from torch import nn

from agents.common.boards import Boards, random_choice
from agents.heuristic import HeuristicAgent
from arena.errors import ArenaError

SELF, PAST = "self", "past"


def _random(boards: Boards, obs: np.ndarray, mask: np.ndarray, rng: np.random.Generator,
            games: np.ndarray) -> np.ndarray:  # fmt: skip
    return random_choice(mask[games], rng)


def _one_ply(boards: Boards, obs: np.ndarray, mask: np.ndarray, rng: np.random.Generator,
             games: np.ndarray) -> np.ndarray:  # fmt: skip
    return boards.one_ply_actions(rng)[games]


def _heuristic(boards: Boards, obs: np.ndarray, mask: np.ndarray, rng: np.random.Generator,
               games: np.ndarray) -> np.ndarray:  # fmt: skip
    agent = HeuristicAgent(boards.env_id)  # stateless and deterministic
    return np.array([agent.act(obs[g], action_mask=mask[g]) for g in games], np.int64)


# name -> actions for the given games (observations and masks of every game).
Scripted = Callable[[Boards, np.ndarray, np.ndarray, np.random.Generator, np.ndarray], np.ndarray]
SCRIPTED: dict[str, Scripted] = {"random": _random, "one-ply": _one_ply, "heuristic": _heuristic}
NAMES = (SELF, PAST, *SCRIPTED)


def check_shares(shares: Mapping[str, float], source: str) -> None:
    """Known names, shares >= 0 summing to 1; else one line naming ``source`` and the key."""
    for name, share in shares.items():
        if name not in NAMES:
            raise ArenaError(
                f"{source}: key 'opponents.{name}': unknown opponent "
                f"(choose from: {', '.join(NAMES)})"
            )
        if share < 0:
            raise ArenaError(f"{source}: key 'opponents.{name}': share must not be negative")
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        raise ArenaError(f"{source}: key 'opponents': shares must sum to 1 (got {total:g})")


class League:
    """Each game's opponent, and the pool of past selves.

    Attributes:
        kind: (n,) index into :attr:`names` of each game's opponent.
        learner_seat: (n,) the learner's seat (ignored in ``self`` games).
        past: (n,) the pool index a ``past`` game plays.
    """

    def __init__(self, shares: Mapping[str, float], n_games: int, pool_size: int,
                 rng: np.random.Generator) -> None:  # fmt: skip
        drawn = [name for name, share in shares.items() if share > 0] or [SELF]
        self.cumulative = np.cumsum([shares.get(name, 1.0) for name in drawn])
        # Kinds index this list: the drawn names in order, then self (past games wait as self).
        self.names = drawn + ([SELF] if SELF not in drawn else [])
        self.pool_size = pool_size
        self.pool: list[nn.Module] = []
        self.rng = rng
        self.kind = np.zeros(n_games, np.int64)
        self.learner_seat = np.zeros(n_games, np.int64)
        self.past = np.zeros(n_games, np.int64)

    def index(self, name: str) -> int:
        """The kind index of ``name`` (-1 when its share is 0)."""
        return self.names.index(name) if name in self.names else -1

    def assign(self, games: np.ndarray) -> None:
        """Draw the opponents of the games that start now (the documented rule)."""
        u = self.rng.random(len(games))
        last = len(self.cumulative) - 1  # rounding: u beyond the last sum takes the last name
        kind = np.minimum(np.searchsorted(self.cumulative, u, side="right"), last)
        if not self.pool and PAST in self.names:
            kind[kind == self.names.index(PAST)] = self.names.index(SELF)
        self.kind[games] = kind
        self.learner_seat[games] = self.rng.integers(0, 2, len(games))
        self.past[games] = self.rng.integers(0, max(len(self.pool), 1), len(games))

    def learner_moves(self, to_move: np.ndarray) -> np.ndarray:
        """(n,) bool: the learner moves now (self games, or its own seat)."""
        return (self.kind == self.names.index(SELF)) | (to_move == self.learner_seat)

    def add_snapshot(self, net: nn.Module) -> None:
        """Freeze a copy of ``net`` into the pool; the oldest leaves when it is full."""
        frozen = copy.deepcopy(net).eval()
        frozen.requires_grad_(False)
        self.pool.append(frozen)
        if len(self.pool) > self.pool_size:
            self.pool.pop(0)
            self.past = np.maximum(self.past - 1, 0)  # games on the dropped one shift down

    def pool_states(self) -> list[dict[str, torch.Tensor]]:
        return [net.state_dict() for net in self.pool]
