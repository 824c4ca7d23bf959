"""The ``heuristic`` built-in: a deterministic positional one-ply searcher.

Rules, in order, for the acting seat:

1. win now if a legal move wins;
2. else block: play where the opponent would win next move;
3. else play the move whose resulting position scores best under the
   positional evaluation (connect four: :func:`agents.connect_four_eval.evaluate`,
   centre control and open lines; tic-tac-toe: :func:`ttt_evaluate`).

Every choice scans the moves in a fixed order (connect four: centre-first
columns 3, 2, 4, 1, 5, 0, 6; tic-tac-toe: centre, corners, edges) and keeps the
first best one, so there is no randomness at all: the same position always gets
the same move, whatever the seed. The board is read from the observation alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents import connect_four_eval as c4
from agents.one_ply import ttt_winning_moves
from arena.protocol import AgentContext

ENVS = ("connect_four_v3", "tictactoe_v3")

# Tic-tac-toe: cells row-major (the action order), centre first, then corners.
TTT_ORDER = (4, 0, 2, 6, 8, 1, 3, 5, 7)
_TTT_LINES = (
    (0, 1, 2), (3, 4, 5), (6, 7, 8),
    (0, 3, 6), (1, 4, 7), (2, 5, 8),
    (0, 4, 8), (2, 4, 6),
)  # fmt: skip
TTT_CENTRE_WEIGHT = 2
TTT_TWO_WEIGHT = 5  # a line with two of a player's marks and the third cell empty
TTT_ONE_WEIGHT = 1  # a line with one mark and two empty cells


def ttt_evaluate(own: np.ndarray, opp: np.ndarray) -> int:
    """Tic-tac-toe's positional score for ``own`` (flat boolean boards, row-major).

    ``CENTRE * (own centre - opp centre) + sum over open lines of TWO or ONE``,
    each line counted for the one player who has marks in it (a line holding
    both players' marks is dead), positive for ``own`` and negative for ``opp``.
    """
    score = TTT_CENTRE_WEIGHT * (int(own[4]) - int(opp[4]))
    for line in _TTT_LINES:
        mine = sum(bool(own[i]) for i in line)
        theirs = sum(bool(opp[i]) for i in line)
        if mine and not theirs:
            score += TTT_TWO_WEIGHT if mine == 2 else TTT_ONE_WEIGHT if mine == 1 else 0
        elif theirs and not mine:
            score -= TTT_TWO_WEIGHT if theirs == 2 else TTT_ONE_WEIGHT if theirs == 1 else 0
    return score


def c4_move(own: int, opp: int, legal: list[int]) -> int:
    """The heuristic's column for bitboards ``own``/``opp``; ``legal`` in centre-first order."""
    occupied = own | opp
    for pieces in (own, opp):  # win, else block
        for col in legal:
            if c4.is_win(pieces | c4.drop(occupied, col)):
                return col
    best, best_score = legal[0], None
    for col in legal:
        score = c4.evaluate(own | c4.drop(occupied, col), opp)
        if best_score is None or score > best_score:  # strict: the first best stays
            best, best_score = col, score
    return best


def ttt_move(own: np.ndarray, opp: np.ndarray, legal: list[int]) -> int:
    """The heuristic's cell (row-major index) for flat boards; ``legal`` in :data:`TTT_ORDER`."""
    empty = ~(own | opp)
    for pieces in (own, opp):
        wins = ttt_winning_moves(pieces, empty, np.array(legal))
        if wins:
            return wins[0]
    best, best_score = legal[0], None
    for a in legal:
        after = own.copy()
        after[a] = True
        score = ttt_evaluate(after, opp)
        if best_score is None or score > best_score:
            best, best_score = a, score
    return best


class HeuristicAgent:
    """Win, block, else the best move by the positional evaluation; fully deterministic.

    Args:
        env_id: ``connect_four_v3`` or ``tictactoe_v3``.
    """

    def __init__(self, env_id: str) -> None:
        if env_id not in ENVS:
            raise ValueError(f"heuristic plays {', '.join(ENVS)}, not '{env_id}'")
        self.env_id = env_id

    def reset(self, *, seed: int | None = None) -> None:
        """Nothing to reset: the agent has no state and no randomness."""

    def act(self, observation: Any, *, action_mask: Any = None) -> int:
        """Return the heuristic's move for the observed position."""
        if self.env_id == "connect_four_v3":
            own, opp = c4.from_observation(observation)
            legal = c4.legal_columns(own | opp, action_mask)
            if not legal:
                raise ValueError("no legal move in the observation or action_mask")
            return c4_move(own, opp, legal)
        obs = np.asarray(observation).astype(bool)
        own_flat, opp_flat = obs[..., 0].reshape(-1), obs[..., 1].reshape(-1)
        if action_mask is None:
            allowed = ~(own_flat | opp_flat)
        else:
            allowed = np.asarray(action_mask).astype(bool)
        cells = [a for a in TTT_ORDER if allowed[a]]
        if not cells:
            raise ValueError("no legal move in the observation or action_mask")
        return ttt_move(own_flat, opp_flat, cells)


def make_agent(ctx: AgentContext) -> HeuristicAgent:
    """Entry point: a heuristic agent for the seat described by ``ctx``."""
    return HeuristicAgent(ctx.env_id)
