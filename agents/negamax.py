"""The ``negamax-2`` and ``negamax-4`` built-ins: depth-limited negamax with alpha-beta.

**Negamax.** Connect four is zero-sum, so one value function serves both
players: the value of a position for the side to move is the best, over its
moves ``a``, of minus the value of the position after ``a`` for the opponent,

    v(s, d) = max_a  -v(s·a, d - 1)

searched ``d`` plies deep (``d`` = 2 or 4: the agent's move and the replies
after it). Below that a leaf is scored by the positional evaluation of
:mod:`agents.connect_four_eval` (antisymmetric, as negamax needs), from the
side to move.

**Terminal scores by depth.** A move that makes four in a row at ply ``p``
(the root's moves are ply 1) is worth ``WIN - p`` to its mover; a full board is
0. Faster wins score higher and slower losses less badly, so the agent takes
a win in one over a win in two, and delays a loss it cannot avoid.
``WIN`` is far above any evaluation (at most 69 windows of weight 5, plus
centre pieces), so a forced result always outranks a position.

**Alpha-beta.** ``alpha`` is the value the side to move is already sure of,
``beta`` the value beyond which the opponent (one level up) will never let
the game come here. Once a move reaches ``beta`` the remaining moves cannot
change the result above, so they are skipped (a cut-off). Children get the
window ``(-beta, -alpha)``: the same bounds seen from the other side. Moves are
tried centre-first (3, 2, 4, 1, 5, 0, 6): central moves are usually best,
which makes cut-offs come early. The result is the exact depth-``d`` negamax
value; pruning changes only the cost.

**Determinism.** The root keeps the first move of the best value in
centre-first order (strictly greater replaces), so there is no randomness: a
position always gets the same move. The board is read from the observation.
"""

from __future__ import annotations

from typing import Any

from agents import connect_four_eval as c4
from arena.protocol import AgentContext

ENVS = ("connect_four_v3",)
WIN = 1_000_000


def negamax(own: int, opp: int, depth: int, alpha: int, beta: int, ply: int) -> int:
    """The depth-``depth`` negamax value for ``own``, the side to move, at ``ply``.

    Args:
        own: bitboard of the side to move.
        opp: bitboard of the other side.
        depth: plies left to search; 0 scores the position.
        alpha: what the side to move is already guaranteed.
        beta: the most the opponent above allows; a value ``>= beta`` cuts off.
        ply: plies from the root to this position; a move played here is ply ``ply + 1``.
    """
    occupied = own | opp
    moves = [c for c in c4.CENTRE_FIRST if c4.playable(occupied, c)]
    if not moves:
        return 0  # full board: a draw
    if depth == 0:
        return c4.evaluate(own, opp)  # the horizon: no move is looked at, not even a win
    # A win now is the best outcome at this node: look for one before searching.
    for col in moves:
        if c4.is_win(own | c4.drop(occupied, col)):
            return WIN - (ply + 1)
    best = -WIN - 1
    for col in moves:
        value = -negamax(opp, own | c4.drop(occupied, col), depth - 1, -beta, -alpha, ply + 1)
        if value > best:
            best = value
        if best > alpha:
            alpha = best
        if alpha >= beta:
            break  # the opponent above already has a better line elsewhere
    return best


def best_move(own: int, opp: int, legal: list[int], depth: int) -> int:
    """The first column (in ``legal``'s order) of the best depth-``depth`` value."""
    occupied = own | opp
    for col in legal:  # win in one: nothing searches better
        if c4.is_win(own | c4.drop(occupied, col)):
            return col
    best, alpha = legal[0], -WIN - 1
    for col in legal:
        value = -negamax(opp, own | c4.drop(occupied, col), depth - 1, -WIN - 1, -alpha, 1)
        if value > alpha:  # strict: among equal values the earlier column stays
            best, alpha = col, value
    return best


class NegamaxAgent:
    """Depth-limited negamax with alpha-beta on connect four; deterministic.

    Args:
        depth: plies searched, at least 1.
    """

    def __init__(self, depth: int) -> None:
        if depth < 1:
            raise ValueError(f"negamax needs a depth of at least 1, not {depth}")
        self.depth = depth

    def reset(self, *, seed: int | None = None) -> None:
        """Nothing to reset: the agent has no state and no randomness."""

    def act(self, observation: Any, *, action_mask: Any = None) -> int:
        """Return the negamax move for the observed position."""
        own, opp = c4.from_observation(observation)
        legal = c4.legal_columns(own | opp, action_mask)
        if not legal:
            raise ValueError("no legal move in the observation or action_mask")
        return best_move(own, opp, legal, self.depth)


def make_agent(ctx: AgentContext, *, depth: int) -> NegamaxAgent:
    """Entry point: a depth-``depth`` negamax agent for the seat in ``ctx``."""
    if ctx.env_id not in ENVS:
        raise ValueError(f"negamax plays {', '.join(ENVS)}, not '{ctx.env_id}'")
    return NegamaxAgent(depth)
