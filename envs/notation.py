"""Move names for people: what ``arena play`` accepts and replays show.

Every game accepts the action index (the number the agent protocol uses) and
its own notation:

* ``tictactoe_v3``: the cell number shown on the board (0-8, column by column).
* ``connect_four_v3``: the column number shown under the board, 0-6 (0-based,
  so the column number and the action index are the same thing).
* ``rps_v2``: ``rock``, ``paper``, ``scissors`` (or ``r``, ``p``, ``s``).
* hold'em (Leduc, limit Texas): ``call``, ``raise``, ``fold``, ``check``.
* ``chess_v6``: SAN (``e4``, ``Nf3``, ``O-O``, ``e8=Q``) or UCI (``e2e4``,
  ``e7e8q``), read by python-chess.

Like :mod:`envs.render`, nothing here imports a game library at import time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["NOTATIONS", "Chess", "Named", "Numbered"]


def _legal_actions(mask: Any, n: int) -> list[int]:
    if mask is None:
        return list(range(n))
    return [int(a) for a in np.flatnonzero(np.asarray(mask))]


def _n_actions(env: Any, seat: str) -> int:
    return int(env.action_space(seat).n)


class Numbered:
    """Games whose moves are the numbers shown on the board (cells, columns).

    Attributes:
        what: the word for a move in messages, e.g. ``cell`` or ``column``.
    """

    def __init__(self, what: str) -> None:
        self.what = what

    def legal(self, env: Any, seat: str, mask: Any) -> list[tuple[int, str]]:
        return [(a, str(a)) for a in _legal_actions(mask, _n_actions(env, seat))]

    def parse(self, env: Any, seat: str, text: str, mask: Any) -> int:
        try:
            action = int(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a {self.what} number") from None
        n = _n_actions(env, seat)
        if not 0 <= action < n:
            raise ValueError(f"there is no {self.what} {action} (0-{n - 1})")
        if action not in _legal_actions(mask, n):
            raise ValueError(f"{self.what} {action} is not playable now")
        return action

    def describe(self, env: Any, seat: str, action: Any) -> str:
        return f"{self.what} {action}"


class Named:
    """Games with a few named actions (poker, rock-paper-scissors).

    Attributes:
        names: the name of each action index, lower case.
        aliases: extra spellings, e.g. ``{"r": 0}``.
    """

    def __init__(self, names: Sequence[str], aliases: dict[str, int] | None = None) -> None:
        self.names = [n.lower() for n in names]
        self.aliases = {**{n: i for i, n in enumerate(self.names)}, **(aliases or {})}

    def legal(self, env: Any, seat: str, mask: Any) -> list[tuple[int, str]]:
        return [(a, self.names[a]) for a in _legal_actions(mask, len(self.names))]

    def parse(self, env: Any, seat: str, text: str, mask: Any) -> int:
        word = text.lower()
        if word.isdigit():
            action = int(word)
            if action >= len(self.names):
                raise ValueError(f"there is no action {action} (0-{len(self.names) - 1})")
        elif word in self.aliases:
            action = self.aliases[word]
        else:
            raise ValueError(f"'{text}' is not a move of this game")
        if action not in _legal_actions(mask, len(self.names)):
            raise ValueError(f"{self.names[action]} is not allowed now")
        return action

    def describe(self, env: Any, seat: str, action: Any) -> str:
        index = int(action)
        return self.names[index] if 0 <= index < len(self.names) else str(action)


class Chess:
    """``chess_v6``: SAN or UCI through python-chess, mapped to PettingZoo's 4672 actions.

    The action of a move is found by decoding every legal action with PettingZoo's
    own ``chess_utils.action_to_move`` (which mirrors the board for black), so the
    mapping cannot drift from the env's encoding.
    """

    def _moves(self, env: Any, seat: str, mask: Any) -> dict[Any, int]:
        from pettingzoo.classic.chess import chess_utils

        raw = env.unwrapped
        player = raw.possible_agents.index(seat)
        return {
            chess_utils.action_to_move(raw.board, a, player): a
            for a in _legal_actions(mask, _n_actions(env, seat))
        }

    def legal(self, env: Any, seat: str, mask: Any) -> list[tuple[int, str]]:
        board = env.unwrapped.board
        moves = self._moves(env, seat, mask)
        return sorted(((a, board.san(m)) for m, a in moves.items()), key=lambda x: x[1])

    def parse(self, env: Any, seat: str, text: str, mask: Any) -> int:
        import chess

        board = env.unwrapped.board
        moves = self._moves(env, seat, mask)
        if text.isdigit():
            if int(text) in moves.values():
                return int(text)
            raise ValueError(f"action {text} is not a legal move now")
        try:
            move = chess.Move.from_uci(text.lower())
        except chess.InvalidMoveError:
            try:
                move = board.parse_san(text)
            except chess.IllegalMoveError:
                raise ValueError(f"{text} is not a legal move in this position") from None
            except chess.AmbiguousMoveError:
                raise ValueError(f"{text} is ambiguous: name the piece's file or rank") from None
            except chess.InvalidMoveError:
                raise ValueError(f"'{text}' is not a move in SAN (e4, Nf3) or UCI (e2e4)") from None
        if move not in moves:
            raise ValueError(f"{text} is not a legal move in this position")
        return moves[move]

    def describe(self, env: Any, seat: str, action: Any) -> str:
        from pettingzoo.classic.chess import chess_utils

        raw = env.unwrapped
        move = chess_utils.action_to_move(raw.board, int(action), raw.possible_agents.index(seat))
        return raw.board.san(move) if raw.board.is_legal(move) else move.uci()


_POKER = ("call", "raise", "fold", "check")

NOTATIONS: dict[str, Any] = {
    "tictactoe_v3": Numbered("cell"),
    "connect_four_v3": Numbered("column"),
    "rps_v2": Named(("rock", "paper", "scissors"), {"r": 0, "p": 1, "s": 2}),
    "leduc_holdem_v4": Named(_POKER),
    "texas_holdem_v4": Named(_POKER),
    "chess_v6": Chess(),
}
