"""A connect-four heuristic agent that depends only on numpy: copy it and adapt it.

Rules, in order:

1. win now if a move wins;
2. block the opponent's immediate win;
3. otherwise play the most central *safe* column (3, then 2 and 4, ...), where
   a move is unsafe when it lets the opponent win by playing on top of it; among
   equally central safe moves, prefer the one that makes the most open threes.

Observation (PettingZoo ``connect_four_v3``): an int8 array of shape (6, 7, 2);
plane 0 holds the acting player's pieces, plane 1 the opponent's; row 0 is the
top and pieces fall to the highest-numbered empty row. Action ``c`` drops a
piece in column ``c``; ``action_mask[c] == 1`` when column ``c`` is not full.
"""

from __future__ import annotations

from typing import Any

import numpy as np

ROWS, COLS = 6, 7
# Columns from the centre outwards: central pieces take part in more lines.
CENTRE_DISTANCE = (3, 2, 1, 0, 1, 2, 3)
DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))


def landing_row(occupied: np.ndarray, col: int) -> int:
    """Row where a piece dropped in ``col`` lands, or -1 when the column is full."""
    for row in range(ROWS - 1, -1, -1):
        if not occupied[row, col]:
            return row
    return -1


def line_length(pieces: np.ndarray, row: int, col: int, dr: int, dc: int) -> int:
    """Length of the run of ``pieces`` through ``(row, col)`` along ``(dr, dc)``,
    counting a piece at ``(row, col)`` itself."""
    count = 1
    for sign in (1, -1):
        r, c = row + sign * dr, col + sign * dc
        while 0 <= r < ROWS and 0 <= c < COLS and pieces[r, c]:
            count += 1
            r, c = r + sign * dr, c + sign * dc
    return count


def wins_at(pieces: np.ndarray, row: int, col: int) -> bool:
    """True when a piece at ``(row, col)`` completes four in a row for ``pieces``."""
    return any(line_length(pieces, row, col, dr, dc) >= 4 for dr, dc in DIRECTIONS)


def open_threes(pieces: np.ndarray, occupied: np.ndarray) -> int:
    """Number of empty cells that would complete four for ``pieces`` (threats)."""
    threats = 0
    for row in range(ROWS):
        for col in range(COLS):
            if not occupied[row, col] and wins_at(pieces, row, col):
                threats += 1
    return threats


class HeuristicAgent:
    """Win, block, then the most central safe column.

    Args:
        seed: seed of the generator that breaks exact ties between moves.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

    def reset(self, *, seed: int | None = None) -> None:
        """Called before every match; a given seed replaces the generator's state."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)

    def act(self, observation: Any, *, action_mask: Any = None) -> int:
        """Choose a column for the position in ``observation``."""
        obs = np.asarray(observation).astype(bool)
        own, opp = obs[:, :, 0], obs[:, :, 1]
        occupied = own | opp
        if action_mask is None:
            legal = [c for c in range(COLS) if not occupied[0, c]]
        else:
            legal = [int(c) for c in np.flatnonzero(np.asarray(action_mask))]
        rows = {col: landing_row(occupied, col) for col in legal}

        for pieces in (own, opp):  # win, else block
            moves = [col for col in legal if wins_at(pieces, rows[col], col)]
            if moves:
                return self._tie_break(moves)

        best: list[int] = []
        best_key: tuple[int, int, int] | None = None
        for col in legal:
            row = rows[col]
            # Unsafe: the opponent could win on the cell this move uncovers.
            unsafe = row > 0 and wins_at(opp, row - 1, col)
            own_after = own.copy()
            own_after[row, col] = True
            occupied_after = occupied.copy()
            occupied_after[row, col] = True
            threats = open_threes(own_after, occupied_after)
            key = (int(unsafe), CENTRE_DISTANCE[col], -threats)
            if best_key is None or key < best_key:
                best, best_key = [col], key
            elif key == best_key:
                best.append(col)
        return self._tie_break(best)

    def _tie_break(self, moves: list[int]) -> int:
        return int(moves[int(self._rng.random() * len(moves))])


def make_agent(ctx: Any) -> HeuristicAgent:
    """Entry point named in ``agent.toml``: one agent per seat.

    Args:
        ctx: the arena's context; only ``ctx.seed`` is used here.
    """
    return HeuristicAgent(seed=ctx.seed)
