"""The ``minimax`` built-in: perfect tic-tac-toe by exhaustive negamax.

Tic-tac-toe has 5,478 legal positions, so every value is computed exactly and
cached. The player picks uniformly (with its seeded generator) among the moves
of optimal value, so over many games it tries every optimal line: a learner that
"never loses to minimax" must hold against all of them.

Values are from the side to move: +1 win, 0 draw, -1 loss. A position is a
9-tuple in row-major cell order (the action order of ``tictactoe_v3``) with
+1 for the mover's marks, -1 for the opponent's and 0 for empty.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from arena.protocol import AgentContext

ENVS = ("tictactoe_v3",)
LINES = (
    (0, 1, 2), (3, 4, 5), (6, 7, 8),
    (0, 3, 6), (1, 4, 7), (2, 5, 8),
    (0, 4, 8), (2, 4, 6),
)  # fmt: skip

Board = tuple[int, ...]


def board_from_observation(observation: Any) -> Board:
    """``(3, 3, 2)`` observation (plane 0 own, plane 1 opponent) -> mover's 9-tuple."""
    obs = np.asarray(observation).reshape(9, 2)
    return tuple(int(own) - int(opp) for own, opp in obs)


def winner(board: Board) -> int:
    """+1 if the mover's marks make a line, -1 if the opponent's do, else 0."""
    for a, b, c in LINES:
        s = board[a] + board[b] + board[c]
        if s == 3:
            return 1
        if s == -3:
            return -1
    return 0


def play(board: Board, action: int) -> Board:
    """The position after the mover marks ``action``, seen by the other player."""
    return (*tuple(-v for v in board[:action]), -1, *tuple(-v for v in board[action + 1 :]))


@functools.cache
def value(board: Board) -> int:
    """Negamax value of ``board`` for the side to move."""
    w = winner(board)
    if w:
        return w  # only the player who just moved can have a line: always -1 here
    moves = [a for a in range(9) if board[a] == 0]
    if not moves:
        return 0
    return max(-value(play(board, a)) for a in moves)


def action_values(board: Board) -> dict[int, int]:
    """The exact value of every legal action for the side to move."""
    return {a: -value(play(board, a)) for a in range(9) if board[a] == 0}


class Minimax:
    """Plays a uniformly chosen optimal move."""

    def __init__(self, ctx: AgentContext) -> None:
        self.seed = ctx.seed
        self.rng = np.random.default_rng(ctx.seed)

    def reset(self, *, seed: int | None = None) -> None:
        self.rng = np.random.default_rng([self.seed, seed if seed is not None else 0])

    def act(self, observation: Any, *, action_mask: Any = None) -> int:
        values = action_values(board_from_observation(observation))
        best = max(values.values())
        optimal = sorted(a for a, v in values.items() if v == best)
        return int(optimal[self.rng.integers(len(optimal))])


def make_agent(ctx: AgentContext) -> Minimax:
    if ctx.env_id not in ENVS:
        raise ValueError(f"minimax plays {', '.join(ENVS)}, not {ctx.env_id}")
    return Minimax(ctx)


def observation_from_board(board: Board) -> np.ndarray:
    """The ``(3, 3, 2)`` int8 observation the mover of ``board`` receives."""
    obs = np.zeros((3, 3, 2), dtype=np.int8)
    for a, v in enumerate(board):
        if v:
            obs[a // 3, a % 3, 0 if v > 0 else 1] = 1
    return obs


def guaranteed_value(policy: Any, *, first: bool) -> int:
    """What ``policy`` guarantees against every possible opponent: +1, 0 or -1.

    ``policy.act(observation, action_mask=...)`` is asked at every position it
    can reach; the opponent tries every legal move. A policy that never loses
    from this seat returns 0 (the game's value), whatever the opponent does.
    """

    @functools.cache
    def learner_to_move(board: Board) -> int:
        if winner(board) or 0 not in board:
            return winner(board)
        mask = np.array([v == 0 for v in board], dtype=np.int8)
        action = int(policy.act(observation_from_board(board), action_mask=mask))
        if board[action] != 0:
            return -1  # an illegal move forfeits
        return -opponent_to_move(play(board, action))

    @functools.cache
    def opponent_to_move(board: Board) -> int:
        if winner(board) or 0 not in board:
            return winner(board)
        # The opponent picks its best reply for itself: the learner's worst case.
        return max(-learner_to_move(play(board, a)) for a in range(9) if board[a] == 0)

    empty: Board = (0,) * 9
    return learner_to_move(empty) if first else -opponent_to_move(empty)
