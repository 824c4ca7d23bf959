"""Connect four by depth-limited negamax with alpha-beta pruning (numpy only).

The board comes from the observation: plane 0 holds our pieces, plane 1 the
opponent's, row 0 is the top. Negamax scores a position from the side to move:
``v(s) = max_a -v(s')``; alpha-beta skips moves that cannot change the result.
Leaves are scored by counting open windows of four (3 in a row counts 9, 2
counts 2), a common hand-made evaluation. Centre columns are searched first,
which makes the pruning bite.
"""

from __future__ import annotations

from typing import Any

import numpy as np

ROWS, COLS = 6, 7
DEPTH = 4
WIN = 1_000_000
ORDER = (3, 2, 4, 1, 5, 0, 6)


def _windows() -> np.ndarray:
    """Every line of four cells as flat indices, shape (69, 4)."""
    lines = []
    for r in range(ROWS):
        for c in range(COLS):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                cells = [(r + i * dr, c + i * dc) for i in range(4)]
                if all(0 <= rr < ROWS and 0 <= cc < COLS for rr, cc in cells):
                    lines.append([rr * COLS + cc for rr, cc in cells])
    return np.array(lines)


WINDOWS = _windows()


def _score(me: np.ndarray, them: np.ndarray) -> int:
    mine = me[WINDOWS].sum(axis=1)
    theirs = them[WINDOWS].sum(axis=1)
    if (mine == 4).any():
        return WIN
    if (theirs == 4).any():
        return -WIN
    open_mine = theirs == 0
    open_theirs = mine == 0
    return int(
        9 * np.sum(open_mine & (mine == 3)) + 2 * np.sum(open_mine & (mine == 2))
        - 9 * np.sum(open_theirs & (theirs == 3)) - 2 * np.sum(open_theirs & (theirs == 2))
    )


def _drop(occupied: np.ndarray, col: int) -> int:
    """Flat index where a piece dropped in ``col`` lands, or -1 if full."""
    for row in range(ROWS - 1, -1, -1):
        if not occupied[row * COLS + col]:
            return row * COLS + col
    return -1


def _negamax(me: np.ndarray, them: np.ndarray, depth: int, alpha: int, beta: int) -> int:
    score = _score(me, them)
    if depth == 0 or abs(score) == WIN:
        return score
    occupied = me | them
    best = -WIN - 1
    moved = False
    for col in ORDER:
        cell = _drop(occupied, col)
        if cell < 0:
            continue
        moved = True
        me[cell] = 1
        value = -_negamax(them, me, depth - 1, -beta, -alpha)
        me[cell] = 0
        if value > best:
            best = value
        alpha = max(alpha, value)
        if alpha >= beta:
            break
    return best if moved else 0


class NegamaxAgent:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def reset(self, *, seed: int | None = None) -> None:
        if seed is not None:
            self.rng = np.random.default_rng(seed)

    def act(self, observation: Any, *, action_mask: Any = None) -> int:
        me = np.asarray(observation[:, :, 0], dtype=np.int8).ravel().copy()
        them = np.asarray(observation[:, :, 1], dtype=np.int8).ravel().copy()
        occupied = me | them
        best_value, best_cols = -WIN - 2, []
        for col in ORDER:
            if action_mask is not None and not action_mask[col]:
                continue
            cell = _drop(occupied, col)
            if cell < 0:
                continue
            me[cell] = 1
            value = -_negamax(them, me, DEPTH - 1, -WIN - 1, WIN + 1)
            me[cell] = 0
            if value > best_value:
                best_value, best_cols = value, [col]
            elif value == best_value:
                best_cols.append(col)
        # Ties broken by the seeded generator: deterministic given the seed.
        return int(best_cols[int(self.rng.integers(len(best_cols)))])


def make_agent(ctx: Any) -> NegamaxAgent:
    return NegamaxAgent(ctx.seed)
