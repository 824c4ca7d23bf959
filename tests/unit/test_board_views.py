"""envs/boards.py: the board views the web pages draw, after known moves."""

from __future__ import annotations

import json
from typing import Any

import envs
from arena.registry import get_env
from envs import boards


def _play(env: Any, actions: list[int]) -> None:
    for action in actions:
        env.step(action)


def test_tictactoe_marks_and_actions_in_reading_order() -> None:
    env = envs.make("tictactoe_v3")
    env.reset(seed=0)
    _play(env, [0, 4, 3])  # X top-left, O centre, X top-middle (cells go column by column)
    view = boards.tictactoe(env)
    assert view["kind"] == "tictactoe" and view["to_move"] == "player_2"
    assert [c["mark"] for c in view["cells"]] == ["X", "X", "", "", "O", "", "", "", ""]
    # A taken square plays nothing; a free one plays 3 * col + row.
    assert [c["action"] for c in view["cells"]] == [None, None, 6, 1, None, 7, 2, 5, 8]
    assert view["cells"][5] == {"row": 1, "col": 2, "mark": "", "action": 7}
    _play(env, [1, 6])  # X completes the top row
    assert boards.tictactoe(env)["to_move"] is None


def test_connect_four_discs_and_column_actions() -> None:
    env = envs.make("connect_four_v3")
    env.reset(seed=0)
    _play(env, [3, 3, 4, 2])
    view = boards.connect_four(env)
    assert (view["rows"], view["cols"], view["to_move"]) == (6, 7, "player_0")
    assert len(view["cells"]) == 42
    discs = {(c["row"], c["col"]): c["disc"] for c in view["cells"] if c["disc"]}
    assert discs == {(5, 3): "red", (4, 3): "yellow", (5, 4): "red", (5, 2): "yellow"}
    # Every cell of a column plays that column.
    assert all(c["action"] == c["col"] for c in view["cells"])
    assert view["discs"] == {"player_0": "red", "player_1": "yellow"}


def test_chess_fen_squares_and_legal_move_map() -> None:
    env = envs.make("chess_v6")
    env.reset(seed=0)
    view = boards.chess(env)
    assert view["fen"] == "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1"
    assert len(view["moves"]) == 20 and all(c["action"] is None for c in view["cells"])
    first, last = view["cells"][0], view["cells"][63]
    assert (first["square"], first["piece"], last["square"], last["piece"]) == (
        "a8",
        "r",
        "h1",
        "R",
    )
    e2e4 = view["moves"]["e2e4"]
    mask = env.observe("player_0")["action_mask"]
    assert mask[e2e4] == 1
    env.step(e2e4)
    after = boards.chess(env)
    assert after["to_move"] == "player_1" and after["last_move"] == "e2e4"
    assert after["fen"].startswith("rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b")
    # Black's moves are named on the real board (PettingZoo mirrors its actions).
    assert "e7e5" in after["moves"] and "e2e4" not in after["moves"]


def test_chess_promotion_has_one_entry_per_piece() -> None:
    env = envs.make("chess_v6")
    env.reset(seed=0)
    env.unwrapped.board.set_fen("8/4P3/8/8/8/k7/8/K7 w - - 0 1")
    moves = boards.chess(env)["moves"]
    assert {"e7e8q", "e7e8r", "e7e8b", "e7e8n"} <= set(moves)
    env.step(moves["e7e8q"])
    assert env.unwrapped.board.piece_at(60).symbol() == "Q"  # e8


def test_holdem_hides_the_other_seat_until_the_hand_is_over() -> None:
    env = envs.make("leduc_holdem_v4")
    env.reset(seed=0)
    view = boards.holdem(env)
    mover = env.agent_selection
    other = next(a for a in env.possible_agents if a != mover)
    assert view["kind"] == "cards" and view["to_move"] == mover
    assert view["hands"][other] is None
    hand = view["hands"][mover]
    assert hand is not None and len(hand) == 1 and hand[0][0] in "SHDC"
    assert view["board"] == [] and view["pot"] == sum(view["chips"].values())
    assert [a["name"] for a in view["actions"]] == ["call", "raise", "fold", "check"]
    env.step(2)  # fold: the hand is over, every hand shows
    over = boards.holdem(env)
    assert over["to_move"] is None and all(h is not None for h in over["hands"].values())


def test_no_limit_holdem_has_stacks_and_named_actions() -> None:
    env = envs.make("texas_holdem_no_limit_v6")
    env.reset(seed=3)
    view = boards.holdem(env)
    assert view["game"] == "holdem" and view["stacks"] is not None
    assert [len(h) for h in view["hands"].values() if h is not None] == [2]
    assert view["actions"][0] == {"action": 0, "name": "fold"}


def test_registered_board_views_are_json_ready() -> None:
    for env_id in (
        "tictactoe_v3",
        "connect_four_v3",
        "chess_v6",
        "leduc_holdem_v4",
        "texas_holdem_v4",
        "texas_holdem_no_limit_v6",
    ):
        spec = get_env(env_id)
        assert spec.render_board is not None, env_id
        env = spec.build()
        env.reset(seed=0)
        view = spec.render_board(env)
        assert json.loads(json.dumps(view)) == view
    assert get_env("rps_v2").render_board is None
