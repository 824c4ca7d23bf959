"""The ``one-ply`` built-in: win now if possible, else block, else play at random.

It looks one move ahead from the observation alone, for connect four and
tic-tac-toe. Observation facts it relies on (checked against PettingZoo 1.27 by
``tests/unit/test_one_ply.py``):

- Both games give the acting seat an ``(rows, cols, 2)`` int8 array: plane 0
  holds its own pieces, plane 1 the opponent's, whichever seat it plays.
- Connect four ``(6, 7, 2)``: row 0 is the top and row 5 the bottom; a piece
  dropped in column ``c`` lands on the highest-numbered empty row of ``c``.
  Action ``c`` is column ``c``.
- Tic-tac-toe ``(3, 3, 2)``: action ``a`` is cell ``obs[a // 3, a % 3]``, that
  is the row-major flattening of the first two axes (the Board class comments
  draw the squares column-major, but ``observe`` reshapes them row-major).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from arena.protocol import AgentContext

ENVS = ("connect_four_v3", "tictactoe_v3")

# Every tic-tac-toe line as flat (row-major) cell indices; the set is the same
# whether the board is read row- or column-major.
_TTT_LINES = (
    (0, 1, 2), (3, 4, 5), (6, 7, 8),
    (0, 3, 6), (1, 4, 7), (2, 5, 8),
    (0, 4, 8), (2, 4, 6),
)  # fmt: skip
_TTT_LINES_THROUGH = tuple(tuple(ln for ln in _TTT_LINES if a in ln) for a in range(9))

_C4_ROWS, _C4_COLS = 6, 7
_C4_DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))


def c4_landing_row(occupied: np.ndarray, col: int) -> int:
    """Row where a piece dropped in ``col`` lands, or -1 when the column is full.

    Args:
        occupied: boolean ``(6, 7)`` board of filled cells, row 0 on top.
        col: column index.
    """
    empty = np.flatnonzero(~occupied[:, col])
    return int(empty[-1]) if empty.size else -1


def c4_wins_at(pieces: np.ndarray, row: int, col: int) -> bool:
    """True when a piece at ``(row, col)`` completes four in a row for ``pieces``.

    Args:
        pieces: boolean ``(6, 7)`` board of one player's pieces (without the new one).
        row: row of the new piece.
        col: column of the new piece.
    """
    for dr, dc in _C4_DIRECTIONS:
        count = 1
        for sign in (1, -1):
            r, c = row + sign * dr, col + sign * dc
            while 0 <= r < _C4_ROWS and 0 <= c < _C4_COLS and pieces[r, c]:
                count += 1
                r += sign * dr
                c += sign * dc
        if count >= 4:
            return True
    return False


def c4_winning_moves(pieces: np.ndarray, occupied: np.ndarray, legal: np.ndarray) -> list[int]:
    """Legal columns where ``pieces``' owner would win by dropping a piece now."""
    wins = []
    for col in legal:
        row = c4_landing_row(occupied, int(col))
        if row >= 0 and c4_wins_at(pieces, row, int(col)):
            wins.append(int(col))
    return wins


def ttt_winning_moves(pieces: np.ndarray, empty: np.ndarray, legal: np.ndarray) -> list[int]:
    """Legal cells (flat, row-major) that complete a line of ``pieces`` now."""
    wins = []
    for a in legal:
        a = int(a)
        if empty[a] and any(
            sum(bool(pieces[i]) for i in line if i != a) == 2 for line in _TTT_LINES_THROUGH[a]
        ):
            wins.append(a)
    return wins


class OnePlyAgent:
    """Wins when it can, blocks an immediate loss, and otherwise plays randomly.

    Args:
        env_id: ``connect_four_v3`` or ``tictactoe_v3``.
        seed: seed of the generator used for the random choices.
    """

    def __init__(self, env_id: str, *, seed: int | None = None) -> None:
        if env_id not in ENVS:
            raise ValueError(f"one-ply plays {', '.join(ENVS)}, not '{env_id}'")
        self.env_id = env_id
        self._rng = np.random.default_rng(seed)

    def reset(self, *, seed: int | None = None) -> None:
        """Start a new match; a given seed replaces the generator's state."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)

    def act(self, observation: Any, *, action_mask: Any = None) -> int:
        """Return a winning move, else a blocking move, else a random legal move."""
        obs = np.asarray(observation).astype(bool)
        own, opp = obs[..., 0], obs[..., 1]
        if self.env_id == "connect_four_v3":
            occupied = own | opp
            legal = (
                np.flatnonzero(~occupied[0])
                if action_mask is None
                else np.flatnonzero(np.asarray(action_mask))
            )
            for pieces in (own, opp):
                moves = c4_winning_moves(pieces, occupied, legal)
                if moves:
                    return self._pick(moves)
        else:
            own, opp = own.reshape(-1), opp.reshape(-1)
            empty = ~(own | opp)
            legal = (
                np.flatnonzero(empty)
                if action_mask is None
                else np.flatnonzero(np.asarray(action_mask))
            )
            for pieces in (own, opp):
                moves = ttt_winning_moves(pieces, empty, legal)
                if moves:
                    return self._pick(moves)
        if legal.size == 0:
            raise ValueError("no legal move in the observation or action_mask")
        return self._pick(legal)

    def _pick(self, moves: Any) -> int:
        return int(moves[int(self._rng.random() * len(moves))])


def make_agent(ctx: AgentContext) -> OnePlyAgent:
    """Entry point: a one-ply agent for the seat described by ``ctx``."""
    return OnePlyAgent(ctx.env_id, seed=ctx.seed)
