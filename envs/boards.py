"""Board views for the web pages: ``(env) -> dict``, JSON-ready.

Like :mod:`envs.render`, each reads game state from ``env.unwrapped`` and none
imports a game library at import time. The browser draws a view as SVG
(``server/static/boards.js``); the replay viewer and browser play share it.

Every view has:

* ``kind``: ``tictactoe``, ``connect_four``, ``chess`` or ``cards``;
* ``to_move``: the seat to move, or None once the game is over;
* ``cells``: one entry per board square, each ``{"action": int | None, ...}``,
  the action index that plays there (None when no single action does; card
  games have no squares, so an empty list).

Hidden information stays hidden as in :mod:`envs.render`: a poker view shows
only the hand of the seat to move until the hand is over (other hands are
None). The replay page reveals them afterwards (see ``server/views.py``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["chess", "connect_four", "holdem", "tictactoe"]


def _game_over(raw: Any) -> bool:
    # PettingZoo removes agents after their last step; until then, all are terminated.
    agents = raw.agents
    return not agents or all(raw.terminations[a] or raw.truncations[a] for a in agents)


def _to_move(raw: Any) -> str | None:
    return None if _game_over(raw) else str(raw.agent_selection)


def tictactoe(env: Any) -> dict[str, Any]:
    """View of ``tictactoe_v3``: 9 cells in reading order (row by row).

    PettingZoo numbers cells column by column, so cell (row r, col c) is action
    ``3 * c + r``; ``X`` is the first seat, ``O`` the second.

    Returns:
        ``{"kind": "tictactoe", "to_move", "marks": {seat: mark}, "cells": [{"row",
        "col", "mark": "X" | "O" | "", "action"}]}``; ``action`` is None on a
        taken square.
    """
    raw = env.unwrapped
    squares = raw.board.squares
    marks = {1: "X", 2: "O"}
    cells = []
    for r in range(3):
        for c in range(3):
            action = 3 * c + r
            mark = marks.get(squares[action], "")
            cells.append({"row": r, "col": c, "mark": mark, "action": None if mark else action})
    first, second = raw.possible_agents
    return {
        "kind": "tictactoe",
        "to_move": _to_move(raw),
        "marks": {first: "X", second: "O"},
        "cells": cells,
    }


def connect_four(env: Any) -> dict[str, Any]:
    """View of ``connect_four_v3``: 6 rows x 7 columns, top row first.

    Every cell of a column carries that column's action (the column index);
    the first seat plays red, the second yellow.

    Returns:
        ``{"kind": "connect_four", "to_move", "rows": 6, "cols": 7, "discs":
        {seat: colour}, "cells": [{"row", "col", "disc": "red" | "yellow" | "",
        "action"}]}``.
    """
    raw = env.unwrapped
    board = raw.board
    discs = {0: "", 1: "red", 2: "yellow"}
    rows, cols = 6, 7
    cells = [
        {"row": r, "col": c, "disc": discs[int(board[cols * r + c])], "action": c}
        for r in range(rows)
        for c in range(cols)
    ]
    first, second = raw.possible_agents
    return {
        "kind": "connect_four",
        "to_move": _to_move(raw),
        "rows": rows,
        "cols": cols,
        "discs": {first: "red", second: "yellow"},
        "cells": cells,
    }


def chess(env: Any) -> dict[str, Any]:
    """View of ``chess_v6``: the FEN, 64 squares from a8 to h1, and the legal moves.

    A chess action is a from-to move, so squares carry ``action: None``; the
    ``moves`` map gives each legal move's action (UCI -> action index; a pawn
    reaching the last rank has one entry per promotion, ``e7e8q`` ...). It is
    empty once the game is over. Actions are decoded with PettingZoo's own
    ``chess_utils`` (which mirrors the board for black), so they cannot drift
    from the env's encoding.

    Returns:
        ``{"kind": "chess", "to_move", "colours": {seat: colour}, "fen", "check",
        "last_move", "cells": [{"square", "row", "col", "piece", "action"}],
        "moves"}``; ``piece`` is a FEN letter (upper case white) or "".
    """
    from pettingzoo.classic.chess import chess_utils

    raw = env.unwrapped
    board = raw.board
    cells = []
    for r in range(8):
        for c in range(8):
            square = 8 * (7 - r) + c  # python-chess: a1 = 0, h8 = 63
            piece = board.piece_at(square)
            cells.append(
                {
                    "square": "abcdefgh"[c] + str(8 - r),
                    "row": r,
                    "col": c,
                    "piece": piece.symbol() if piece is not None else "",
                    "action": None,
                }
            )
    to_move = _to_move(raw)
    moves: dict[str, int] = {}
    if to_move is not None:
        player = raw.possible_agents.index(to_move)
        for action in chess_utils.legal_moves(board):
            moves[chess_utils.action_to_move(board, action, player).uci()] = int(action)
    first, second = raw.possible_agents
    return {
        "kind": "chess",
        "to_move": to_move,
        "colours": {first: "white", second: "black"},
        "fen": board.fen(),
        "check": bool(board.is_check()),
        "last_move": board.peek().uci() if board.move_stack else None,
        "cells": cells,
        "moves": moves,
    }


def _card_list(cards: Any) -> list[str]:
    # RLCard's index: suit then rank, e.g. "HK" (king of hearts), "ST" (ten of spades).
    if cards is None:
        return []
    if not isinstance(cards, list):
        cards = [cards]
    return [str(card.get_index()) for card in cards]


def _action_names(raw: Any) -> list[str]:
    # Limit games list names; no-limit hold'em has an Action enum (FOLD, CHECK_CALL, ...).
    names = raw.env.actions
    return [n if isinstance(n, str) else n.name.lower() for n in names]


def holdem(env: Any) -> dict[str, Any]:
    """View of the RLCard poker games (Leduc, limit and no-limit Texas hold'em).

    Cards are RLCard's strings, suit then rank (``HK``, ``S9``, ``DT``).
    ``hands`` maps every seat to its cards, or to None while it is hidden: only
    the seat to move sees its hand, until the hand is over (as in
    :func:`envs.render.holdem`). Betting has no squares: ``cells`` is empty and
    ``actions`` lists every action index with its name (``call``, ``raise`` ...).

    Returns:
        ``{"kind": "cards", "game", "to_move", "hands", "board", "chips",
        "stacks" (no-limit only, else None), "pot", "actions", "cells": []}``.
    """
    raw = env.unwrapped
    game = raw.env.game
    # Leduc has one public card, Texas a list.
    public = game.public_cards if hasattr(game, "public_cards") else game.public_card
    to_move = _to_move(raw)
    hands: dict[str, list[str] | None] = {}
    chips: dict[str, int] = {}
    stacks: dict[str, int] = {}
    for index, seat in enumerate(raw.possible_agents):
        player = game.players[index]
        shown = to_move is None or seat == to_move
        hands[seat] = _card_list(player.hand) if shown else None
        chips[seat] = int(player.in_chips)
        stack = getattr(player, "remained_chips", None)
        if stack is not None:
            stacks[seat] = int(stack)
    return {
        "kind": "cards",
        "game": "leduc" if hasattr(game, "public_card") else "holdem",
        "to_move": to_move,
        "hands": hands,
        "board": _card_list(public),
        "chips": chips,
        "stacks": stacks or None,
        "pot": sum(chips.values()),
        "actions": [{"action": i, "name": n} for i, n in enumerate(_action_names(raw))],
        "cells": [],
    }
