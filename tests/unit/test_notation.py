"""Move names people type (envs/notation.py): every game's notation maps to the env's actions."""

from __future__ import annotations

import pytest

from arena.registry import get_env


def _start(env_id: str) -> tuple[object, object, str, object]:
    spec = get_env(env_id)
    env = spec.build()
    env.reset(seed=0)
    if spec.turn_based:
        observation, *_ = env.last()
        return spec.notation, env, env.agent_selection, observation["action_mask"]
    return spec.notation, env, env.possible_agents[0], None


def test_chess_san_and_uci_name_the_same_action_for_both_colours() -> None:
    notation, env, seat, mask = _start("chess_v6")
    assert notation.parse(env, seat, "e4", mask) == notation.parse(env, seat, "e2e4", mask)
    assert ("Nf3" in dict(notation.legal(env, seat, mask)).values()) is True
    env.step(notation.parse(env, seat, "e4", mask))
    observation, *_ = env.last()
    black, mask = env.agent_selection, observation["action_mask"]
    action = notation.parse(env, black, "e5", mask)
    assert action == notation.parse(env, black, "e7e5", mask)
    assert notation.describe(env, black, action) == "e5"
    with pytest.raises(ValueError, match=r"^e4 is not a legal move in this position$"):
        notation.parse(env, black, "e4", mask)
    with pytest.raises(ValueError, match=r"^'zz9' is not a move in SAN"):
        notation.parse(env, black, "zz9", mask)


def test_connect_four_columns_are_the_0_based_numbers_under_the_board() -> None:
    notation, env, seat, mask = _start("connect_four_v3")
    assert [name for _, name in notation.legal(env, seat, mask)] == [str(c) for c in range(7)]
    assert notation.parse(env, seat, "0", mask) == 0
    with pytest.raises(ValueError, match=r"^there is no column 7 \(0-6\)$"):
        notation.parse(env, seat, "7", mask)


def test_named_games_take_names_letters_and_indices() -> None:
    notation, env, seat, mask = _start("rps_v2")
    assert [notation.parse(env, seat, t, mask) for t in ("Rock", "p", "2")] == [0, 1, 2]
    notation, env, seat, mask = _start("leduc_holdem_v4")
    legal = dict(notation.legal(env, seat, mask))
    assert set(legal.values()) <= {"call", "raise", "fold", "check"}
    assert notation.parse(env, seat, "raise", mask) == 1
    with pytest.raises(ValueError, match=r"^'bluff' is not a move of this game$"):
        notation.parse(env, seat, "bluff", mask)
