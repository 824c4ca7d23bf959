"""The NumPy lockstep boards against PettingZoo itself, move by move."""

from __future__ import annotations

import numpy as np
import pytest

from agents.common.boards import Boards
from agents.one_ply import c4_winning_moves, ttt_winning_moves
from arena.registry import get_env


@pytest.mark.parametrize("env_id", ["tictactoe_v3", "connect_four_v3"])
def test_fast_board_equals_pettingzoo_on_random_games(env_id: str) -> None:
    """Every observation, mask, reward and ending matches the real env, both seats."""
    rng = np.random.default_rng(7)
    n = 8
    boards = Boards(env_id, n)
    envs = [get_env(env_id).make_aec() for _ in range(n)]
    for env in envs:
        env.reset(seed=0)
    finished = 0
    while finished < 60:
        obs, mask = boards.observe()
        actions = np.zeros(n, np.int64)
        for g, env in enumerate(envs):
            mover = env.agent_selection
            other = next(a for a in env.agents if a != mover)
            real = env.observe(mover)
            np.testing.assert_array_equal(obs[g], real["observation"])
            assert obs[g].dtype == real["observation"].dtype
            np.testing.assert_array_equal(mask[g], real["action_mask"].astype(bool))
            # The waiting seat's mask is all zeros in PettingZoo; ours is only for the mover.
            assert not env.observe(other)["action_mask"].any()
            actions[g] = rng.choice(np.flatnonzero(real["action_mask"]))
        seat = boards.to_move.copy()
        done, won = boards.step(actions)
        for g, env in enumerate(envs):
            mover = env.agent_selection
            env.step(int(actions[g]))
            over = all(env.terminations.values())
            assert done[g] == over
            if over:
                names = env.possible_agents
                if won[g]:
                    assert env.rewards[names[seat[g]]] == 1
                    assert env.rewards[names[1 - seat[g]]] == -1
                else:
                    assert env.rewards[mover] == 0
                env.reset(seed=0)
                finished += 1
        boards.reset(np.flatnonzero(done))


@pytest.mark.parametrize("env_id", ["tictactoe_v3", "connect_four_v3"])
def test_winning_moves_match_the_one_ply_player(env_id: str) -> None:
    """The vectorised win/block detection agrees with agents.one_ply on random positions."""
    rng = np.random.default_rng(3)
    n = 64
    boards = Boards(env_id, n)
    checked = 0
    for _ in range(30):
        obs, mask = boards.observe()
        wins = boards.winning_moves(boards.to_move)
        blocks = boards.winning_moves(1 - boards.to_move)
        for g in range(n):
            own, opp = obs[g, ..., 0].astype(bool), obs[g, ..., 1].astype(bool)
            legal = np.flatnonzero(mask[g])
            if env_id == "connect_four_v3":
                occupied = own | opp
                expect_w = c4_winning_moves(own, occupied, legal)
                expect_b = c4_winning_moves(opp, occupied, legal)
            else:
                empty = ~(own | opp).reshape(-1)
                expect_w = ttt_winning_moves(own.reshape(-1), empty, legal)
                expect_b = ttt_winning_moves(opp.reshape(-1), empty, legal)
            assert sorted(np.flatnonzero(wins[g])) == sorted(expect_w)
            assert sorted(np.flatnonzero(blocks[g])) == sorted(expect_b)
            checked += 1
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in mask])
        done, _ = boards.step(actions)
        boards.reset(np.flatnonzero(done))
    assert checked == 30 * n


def test_one_ply_actions_take_the_win_then_the_block() -> None:
    boards = Boards("connect_four_v3", 1)
    # Seat 0 fills the bottom row's columns 0-2, seat 1 stacks on them (row 4).
    for col in (0, 1, 2):
        boards.step(np.array([col]))
        boards.step(np.array([col]))
    rng = np.random.default_rng(0)
    assert boards.one_ply_actions(rng)[0] == 3  # seat 0 to move: the win
    boards.step(np.array([6]))  # seat 0 plays elsewhere
    assert boards.one_ply_actions(rng)[0] == 3  # seat 1 to move: the block


@pytest.mark.parametrize("env_id", ["tictactoe_v3", "connect_four_v3"])
def test_mirror_image_of_a_game_is_the_game_of_mirrored_moves(env_id: str) -> None:
    """Playing mirrored moves on a second board gives mirrored observations and masks."""
    rng = np.random.default_rng(5)
    a, b = Boards(env_id, 16), Boards(env_id, 16)
    for _ in range(4):
        obs_a, mask_a = a.observe()
        obs_b, mask_b = b.observe()
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in mask_a])
        m_obs, m_actions, m_mask = a.mirror(obs_a, actions, mask_a)
        np.testing.assert_array_equal(m_obs, obs_b)
        np.testing.assert_array_equal(m_mask, mask_b)
        assert mask_b[np.arange(16), m_actions].all()
        a.step(actions)
        b.step(m_actions)
