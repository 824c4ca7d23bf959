"""Tabular control: masked backups, the minimax oracle, tables in and out of packages."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gymnasium
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.minimax import (
    action_values,
    board_from_observation,
    guaranteed_value,
    observation_from_board,
    value,
)
from agents.players.tabular_player import TabularPlayer
from agents.tabular import (
    QTable,
    TabularConfig,
    TabularTrainer,
    epsilon_greedy,
    greedy,
    observation_key,
    state_value,
    supports,
)
from arena.registry import get_env

masks = st.lists(st.booleans(), min_size=2, max_size=9).filter(any)


@given(masks, st.data())
def test_masked_max_and_choices_never_pick_an_illegal_action(mask: list[bool], data) -> None:
    legal = np.array(mask)
    # Illegal actions get the largest values: a max that ignored the mask would take them.
    q = np.array(data.draw(st.lists(st.floats(-1, 1), min_size=len(mask), max_size=len(mask))))
    q[~legal] = 10.0
    assert legal[greedy(q, legal)]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    assert all(legal[epsilon_greedy(q, legal, 0.5, rng)] for _ in range(20))
    assert state_value("q-learning", q, legal, 0.1, None) == pytest.approx(q[legal].max())
    assert state_value("expected-sarsa", q, legal, 0.1, None) <= q[legal].max() + 1e-12


def test_expected_sarsa_value_is_the_epsilon_greedy_expectation() -> None:
    q = np.array([1.0, 5.0, -2.0, 0.5])
    legal = np.array([True, False, True, True])
    # epsilon 0.3 spread over 3 legal moves (0.1 each), 0.7 more on the greedy one (0)
    expected = 0.8 * 1.0 + 0.1 * -2.0 + 0.1 * 0.5
    assert state_value("expected-sarsa", q, legal, 0.3, None) == pytest.approx(expected)
    assert state_value("sarsa", q, legal, 0.3, 2) == -2.0


def test_greedy_ties_go_to_the_lowest_legal_index() -> None:
    assert greedy(np.array([0.0, 1.0, 1.0, 1.0]), np.array([True, False, True, True])) == 2


def test_minimax_values_are_exact() -> None:
    empty = (0,) * 9
    assert value(empty) == 0  # tic-tac-toe is a draw
    # X (the mover) has two in a row with the third cell free: a win now.
    board = (1, 1, 0, -1, -1, 0, 0, 0, 0)
    assert action_values(board)[2] == 1
    assert value(board) == 1
    obs = observation_from_board(board)
    assert board_from_observation(obs) == board
    assert obs.shape == (3, 3, 2) and obs[0, 1, 0] == 1 and obs[1, 0, 1] == 1


def test_guaranteed_value_tells_perfect_from_exploitable_play() -> None:
    class Perfect:
        def act(self, observation, *, action_mask=None) -> int:
            values = action_values(board_from_observation(observation))
            return max(values, key=lambda a: (values[a], -a))

    class FirstLegal:
        def act(self, observation, *, action_mask=None) -> int:
            return int(np.flatnonzero(action_mask)[0])

    assert guaranteed_value(Perfect(), first=True) == 0
    assert guaranteed_value(Perfect(), first=False) == 0
    assert guaranteed_value(FirstLegal(), first=True) == -1
    assert guaranteed_value(FirstLegal(), first=False) == -1


def test_table_round_trips_through_arrays_and_the_player() -> None:
    table = QTable(3)
    a, b = observation_key(np.array([0, 1])), observation_key(np.array([1, 0]))
    table[a][:] = [0.1, 0.9, 0.5]
    table[b][:] = [0.7, 0.2, 0.3]
    keys, values = table.arrays()
    back = QTable.from_arrays(3, keys, values)
    assert set(back.values) == {a, b}
    assert np.array_equal(back.values[a], table.values[a])
    ctx = SimpleNamespace(action_space=gymnasium.spaces.Discrete(3), seed=0)
    player = TabularPlayer({bytes(k): v for k, v in zip(keys, values, strict=True)}, ctx)
    assert player.act(np.array([0, 1])) == 1
    assert player.act(np.array([0, 1]), action_mask=np.array([1, 0, 1], dtype=np.int8)) == 2
    assert player.act(np.array([1, 0])) == 0


def test_supports_keyable_envs_only() -> None:
    assert supports("q-learning", get_env("tictactoe_v3")) is None
    assert supports("q-learning", get_env("leduc_holdem_v4")) is None
    assert supports("q-learning", get_env("rps_v2")) is None
    assert supports("q-learning", get_env("chess_v6")) == (
        "its observations hold 7104 values; a table keyed by them would never fill "
        "(limit 128; try dqn)"
    )
    assert supports("q-learning", get_env("simple_spread_v3")) == (
        "its observations are continuous; a table cannot key them (try dqn or maddpg)"
    )


def test_negamax_backup_of_a_winning_move(tmp_path: Path) -> None:
    """Greedy self-play on an empty table: X's winning move backs up +1 in the first
    game, and O's losing move, which led to it, -1 in the second (one ply per game)."""
    trainer = TabularTrainer(
        "q-learning",
        get_env("tictactoe_v3"),
        TabularConfig(
            alpha=1.0,
            alpha_end=1.0,
            epsilon_start=0.0,
            epsilon_end=0.0,
            self_play=1.0,
            snapshot=0.0,
            random_opponent=0.0,
            lookahead=0.0,
        ),
        seed=0,
    )
    trainer.play_game(total=100)
    # Greedy self-play on an empty table plays 0,1,2,... : X takes 0,2,4,6 and wins on the
    # diagonal 2-4-6 at move 7; that move's value becomes exactly +1.
    x_before_win = observation_from_board((1, -1, 1, -1, 1, -1, 0, 0, 0))
    assert trainer.table.values[observation_key(x_before_win)][6] == 1.0
    # O's move at cell 5 let X win, but when O's move was backed up X's row was still 0.
    o_before = observation_from_board((-1, 1, -1, 1, -1, 0, 0, 0, 0))
    assert trainer.table.values[observation_key(o_before)][5] == 0.0
    trainer.play_game(total=100)  # the same game again: now O's move is worth -max(X) = -1
    assert trainer.table.values[observation_key(o_before)][5] == -1.0
    assert trainer.step == 14 and trainer.episode == 2
