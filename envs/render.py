"""Plain-text renderers for the terminal: ``(env) -> str``.

Each reads game state from ``env.unwrapped``, so it accepts the AEC env returned
by :func:`envs.make` or, for ``rps_v2``, the parallel env too. None imports a game
library. Hidden information stays hidden: poker shows only the hand of the seat
to move, until the hand is over.
"""

from __future__ import annotations

from typing import Any

__all__ = ["chess", "connect_four", "go", "holdem", "rps", "tictactoe"]


def _game_over(raw: Any) -> bool:
    # PettingZoo removes agents after their last step; until then, all are terminated.
    agents = raw.agents
    return not agents or all(raw.terminations[a] or raw.truncations[a] for a in agents)


def _footer(raw: Any, marks: dict[str, str] | None = None) -> str:
    if _game_over(raw):
        return "game over"
    agent = raw.agent_selection
    mark = f" ({marks[agent]})" if marks else ""
    return f"to move: {agent}{mark}"


def tictactoe(env: Any) -> str:
    """Render ``tictactoe_v3`` as a 3x3 grid.

    ``X`` is player_1, ``O`` player_2. An empty cell shows the action index that
    plays there; PettingZoo numbers cells column by column::

         0 | 3 | 6
        ---+---+---
         1 | 4 | 7
        ---+---+---
         2 | 5 | 8

    Args:
        env: a ``tictactoe_v3`` env.

    Returns:
        The grid and a line naming the seat to move (or ``game over``).
    """
    raw = env.unwrapped
    squares = raw.board.squares
    marks = {1: "X", 2: "O"}
    # Cell (row r, column c) is action 3 * c + r.
    rows = [
        " " + " | ".join(marks.get(squares[3 * c + r], str(3 * c + r)) for c in range(3))
        for r in range(3)
    ]
    grid = "\n---+---+---\n".join(rows)
    first, second = raw.possible_agents
    return f"{grid}\n{_footer(raw, {first: 'X', second: 'O'})}"


def connect_four(env: Any) -> str:
    """Render ``connect_four_v3`` as a 6x7 grid with column numbers (the actions).

    ``X`` is player_0, ``O`` player_1, ``.`` an empty cell.

    Args:
        env: a ``connect_four_v3`` env.

    Returns:
        Six rows top to bottom, the column numbers 0-6, and the seat to move.
    """
    raw = env.unwrapped
    marks = {0: ".", 1: "X", 2: "O"}
    board = raw.board
    rows = [" ".join(marks[board[7 * r + c]] for c in range(7)) for r in range(6)]
    rows.append(" ".join(str(c) for c in range(7)))
    first, second = raw.possible_agents
    return "\n".join(rows) + f"\n{_footer(raw, {first: 'X', second: 'O'})}"


def rps(env: Any) -> str:
    """Render ``rps_v2``: the round count and the moves of the last round.

    Args:
        env: an ``rps_v2`` env, AEC or parallel.

    Returns:
        One line, e.g. ``round 2/15: player_0 ROCK, player_1 PAPER``.
    """
    raw = env.unwrapped
    first, second = raw.possible_agents
    head = f"round {raw.num_moves}/{raw.max_cycles}"
    # history holds the latest round first: (player_0 move, player_1 move, older...).
    last = raw.history[:2]
    if raw.num_moves == 0 or last[0] < 0:
        return f"{head}: no moves yet"
    names = raw._moves
    return f"{head}: {first} {names[last[0]]}, {second} {names[last[1]]}"


def _cards(cards: Any) -> str:
    if cards is None:
        return "-"
    if not isinstance(cards, list):
        cards = [cards]
    return " ".join(card.get_index() for card in cards) or "-"


def holdem(env: Any) -> str:
    """Render the RLCard poker games (Leduc, limit and no-limit Texas hold'em).

    Shows the public cards, every seat's chips in the pot (and remaining stack in
    no-limit), and the hand of the seat to move only; all hands once it is over.

    Args:
        env: a ``leduc_holdem_v4``, ``texas_holdem_v4`` or
            ``texas_holdem_no_limit_v6`` env.

    Returns:
        A few lines of text.
    """
    raw = env.unwrapped
    game = raw.env.game
    # Leduc has one public card, Texas a list.
    public = game.public_cards if hasattr(game, "public_cards") else game.public_card
    over = _game_over(raw)
    lines = [f"board: {_cards(public)}"]
    pot = 0
    for index, agent in enumerate(raw.possible_agents):
        player = game.players[index]
        pot += player.in_chips
        shown = over or agent == raw.agent_selection
        hand = _cards(player.hand) if shown else "??"
        stack = getattr(player, "remained_chips", None)
        stack_text = f", stack {stack}" if stack is not None else ""
        lines.append(f"{agent}: hand {hand}, bet {player.in_chips}{stack_text}")
    lines.append(f"pot: {pot}")
    lines.append(_footer(raw))
    return "\n".join(lines)


def chess(env: Any) -> str:
    """Render ``chess_v6`` with python-chess: white upper case at the bottom, with coordinates.

    Ranks 8 to 1 run down the left, files a to h along the bottom, so squares
    read as in SAN and UCI (``e4``, ``e2e4``)::

        8 r n b q k b n r
        ...
        1 R N B Q K B N R
          a b c d e f g h

    Args:
        env: a ``chess_v6`` env.

    Returns:
        The 8x8 board with coordinates and the seat to move (player_0 is white).
    """
    raw = env.unwrapped
    rows = str(raw.board).splitlines()
    lines = [f"{8 - r} {row}" for r, row in enumerate(rows)]
    lines.append("  a b c d e f g h")
    first, second = raw.possible_agents
    return "\n".join(lines) + f"\n{_footer(raw, {first: 'white', second: 'black'})}"


def go(env: Any) -> str:
    """Render ``go_v5``: ``X`` black, ``O`` white, with row and column numbers.

    The action for a point is ``row * N + col``; passing is ``N * N``.

    Args:
        env: a ``go_v5`` env.

    Returns:
        The board, the action rule and the seat to move.
    """
    raw = env.unwrapped
    board = raw._go.board
    size = len(board)
    marks = {1: "X", -1: "O"}
    lines = ["   " + "".join(f"{c:>3}" for c in range(size))]
    for r in range(size):
        cells = "".join(f"{marks.get(int(board[r][c]), '.'):>3}" for c in range(size))
        lines.append(f"{r:>3}{cells}")
    lines.append(f"action = row * {size} + col, pass = {size * size}")
    first, second = raw.possible_agents
    lines.append(_footer(raw, {first: "X", second: "O"}))
    return "\n".join(lines)
