"""Connect four on bitboards, and the positional evaluation of ``heuristic`` and ``negamax-N``.

**Bitboards.** A position is two Python ints, one per player. Column ``c``
owns bits ``7c .. 7c + 6``: bit ``7c + h`` is the cell at height ``h`` from
the bottom (``h`` in 0..5; bit ``7c + 6`` is an always-empty sentinel, so
shifting a line across a column edge never lands on a real cell). In the
observation's layout (row 0 on top, :mod:`agents.one_ply`) cell ``(r, c)`` is
bit ``7c + 5 - r``.

**Four in a row.** Shifting by ``s`` moves every cell one step along a
direction: 1 (vertical), 7 (horizontal), 6 and 8 (the diagonals).
``m = b & (b >> s)`` marks the cells that start a pair; ``m & (m >> 2s)``
is non-zero exactly when some cell starts four in a row.

**The evaluation**, from the side of ``own`` (both players scored alike):

    side(p, q) = CENTRE * (p's pieces in column 3)
               + THREE  * (windows of four holding 3 of p's pieces and 1 empty cell)
               + TWO    * (windows of four holding 2 of p's pieces and 2 empty cells)
    evaluate(own, opp) = side(own, opp) - side(opp, own)

A window is any of the 69 lines of four cells (24 horizontal, 21 vertical,
12 + 12 diagonal). A window holding a piece of each player can never become
four in a row for anyone, so it counts for neither. The evaluation is
antisymmetric, ``evaluate(a, b) == -evaluate(b, a)``, which negamax needs: one
function scores the position for whichever side is to move.

Centre pieces take part in the most windows (up to 16 of 69 for column 3,
3 for a corner); the open-line counts reward shapes that can still become four.
The weights are hand-set and small integers, so tests can compute a score by hand.
"""

from __future__ import annotations

from typing import Any

import numpy as np

ROWS, COLS = 6, 7
# Search and tie-break order: the centre first, then outwards, left before right.
CENTRE_FIRST = (3, 2, 4, 1, 5, 0, 6)

CENTRE_WEIGHT = 3
THREE_WEIGHT = 5
TWO_WEIGHT = 2

_HEIGHT = ROWS + 1  # bits per column, with the sentinel
_SHIFTS = (1, _HEIGHT, _HEIGHT - 1, _HEIGHT + 1)  # vertical, horizontal, two diagonals

BOTTOM = tuple(1 << (_HEIGHT * c) for c in range(COLS))  # the lowest cell of each column
TOP = tuple(1 << (_HEIGHT * c + ROWS - 1) for c in range(COLS))  # the highest real cell
COLUMN = tuple(((1 << ROWS) - 1) << (_HEIGHT * c) for c in range(COLS))
CENTRE_MASK = COLUMN[3]
FULL = sum(COLUMN)

# bit_of[r, c]: the bit of observation cell (r, c); int64 holds all 48 bits.
_BIT_OF = np.array(
    [[1 << (_HEIGHT * c + ROWS - 1 - r) for c in range(COLS)] for r in range(ROWS)], dtype=np.int64
)


def bit(row: int, col: int) -> int:
    """The bit of observation cell ``(row, col)`` (row 0 is the top)."""
    return 1 << (_HEIGHT * col + ROWS - 1 - row)


def _windows() -> tuple[int, ...]:
    """Every line of four cells as a bit mask (69 of them)."""
    masks = []
    for r in range(ROWS):
        for c in range(COLS):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                cells = [(r + i * dr, c + i * dc) for i in range(4)]
                if all(0 <= rr < ROWS and 0 <= cc < COLS for rr, cc in cells):
                    masks.append(sum(bit(rr, cc) for rr, cc in cells))
    return tuple(masks)


WINDOWS = _windows()


def from_observation(observation: Any) -> tuple[int, int]:
    """``(own, opp)`` bitboards of a ``(6, 7, 2)`` observation (plane 0 = the acting seat)."""
    obs = np.asarray(observation)
    own = int((_BIT_OF * (obs[:, :, 0] != 0)).sum())
    opp = int((_BIT_OF * (obs[:, :, 1] != 0)).sum())
    return own, opp


def playable(occupied: int, col: int) -> bool:
    """Whether column ``col`` still has an empty cell."""
    return not occupied & TOP[col]


def drop(occupied: int, col: int) -> int:
    """The bit where a piece dropped in a playable column ``col`` lands.

    Adding the column's bottom bit to its occupied cells carries through the
    filled stack into the first empty cell above it.
    """
    return (occupied + BOTTOM[col]) & COLUMN[col]


def is_win(pieces: int) -> bool:
    """Whether ``pieces`` hold four in a row (see the module's note)."""
    for s in _SHIFTS:
        m = pieces & (pieces >> s)
        if m & (m >> (2 * s)):
            return True
    return False


def side_terms(own: int, opp: int) -> tuple[int, int, int]:
    """``own``'s (centre pieces, open twos, open threes) against ``opp``."""
    twos = threes = 0
    for w in WINDOWS:
        if opp & w:
            continue
        n = (own & w).bit_count()
        if n == 3:
            threes += 1
        elif n == 2:
            twos += 1
    return (own & CENTRE_MASK).bit_count(), twos, threes


def evaluate(own: int, opp: int) -> int:
    """The positional score of a position for ``own`` (see the module's formula)."""
    score = CENTRE_WEIGHT * ((own & CENTRE_MASK).bit_count() - (opp & CENTRE_MASK).bit_count())
    # One pass over the windows for both sides: a window scores for a player
    # only when the other has no piece in it.
    for w in WINDOWS:
        a, b = own & w, opp & w
        if a and not b:
            n = a.bit_count()
            score += THREE_WEIGHT if n == 3 else TWO_WEIGHT if n == 2 else 0
        elif b and not a:
            n = b.bit_count()
            score -= THREE_WEIGHT if n == 3 else TWO_WEIGHT if n == 2 else 0
    return score


def legal_columns(occupied: int, action_mask: Any = None) -> list[int]:
    """Legal columns in centre-first order, from the mask when there is one."""
    if action_mask is None:
        return [c for c in CENTRE_FIRST if playable(occupied, c)]
    mask = np.asarray(action_mask)
    return [c for c in CENTRE_FIRST if mask[c]]
