"""The one-ply agent: observation layout facts, hand-made positions, strength vs random."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo.classic import connect_four_v3, tictactoe_v3

from agents.one_ply import OnePlyAgent
from agents.random_agent import RandomAgent


def c4_obs(own: list[tuple[int, int]], opp: list[tuple[int, int]]) -> np.ndarray:
    """A (6, 7, 2) observation from (row, col) cells; row 0 is the top."""
    obs = np.zeros((6, 7, 2), dtype=np.int8)
    for r, c in own:
        obs[r, c, 0] = 1
    for r, c in opp:
        obs[r, c, 1] = 1
    return obs


def ttt_obs(own: list[int], opp: list[int]) -> np.ndarray:
    """A (3, 3, 2) observation from action indices (cell = obs[a // 3, a % 3])."""
    obs = np.zeros((3, 3, 2), dtype=np.int8)
    for a in own:
        obs[a // 3, a % 3, 0] = 1
    for a in opp:
        obs[a // 3, a % 3, 1] = 1
    return obs


def play(env: Any, actions: list[int]) -> None:
    for a in actions:
        env.step(a)


# --- the layout facts one-ply relies on, checked against PettingZoo itself --------


def test_connect_four_layout() -> None:
    env = connect_four_v3.env()
    env.reset(seed=0)
    play(env, [3, 0])  # player_0 in column 3, player_1 in column 0
    obs = env.observe("player_0")["observation"]
    assert obs[5, 3, 0] == 1 and obs[5, 0, 1] == 1  # row 5 is the bottom; plane 0 = own
    assert obs.sum() == 2
    other = env.observe("player_1")["observation"]
    assert other[5, 0, 0] == 1 and other[5, 3, 1] == 1  # planes swap with the viewer
    play(env, [3])
    assert env.observe("player_1")["observation"][4, 3, 1] == 1  # stacks upwards


def test_tictactoe_action_to_cell() -> None:
    for a in range(9):
        env = tictactoe_v3.env()
        env.reset(seed=0)
        env.step(a)
        own = env.observe("player_1")["observation"][:, :, 0]
        assert np.argwhere(own).tolist() == [[a // 3, a % 3]], a  # row-major
        assert env.observe("player_2")["observation"][a // 3, a % 3, 1] == 1


# --- connect four positions ---------------------------------------------------------


def test_c4_takes_vertical_win() -> None:
    obs = c4_obs(own=[(5, 2), (4, 2), (3, 2)], opp=[(5, 3), (5, 4), (4, 3)])
    assert OnePlyAgent("connect_four_v3", seed=0).act(obs) == 2


def test_c4_takes_horizontal_win_over_block() -> None:
    # Both sides threaten: own on row 5 (needs column 4), opponent vertically in column 6.
    obs = c4_obs(own=[(5, 1), (5, 2), (5, 3)], opp=[(5, 0), (5, 6), (4, 6), (3, 6)])
    for seed in range(10):
        assert OnePlyAgent("connect_four_v3", seed=seed).act(obs) == 4


def test_c4_takes_diagonal_win_over_block() -> None:
    # Own rising diagonal (5,0) (4,1) (3,2) needs (2,3), which column 3 reaches;
    # the opponent's bottom row (5,1..3) threatens column 4.
    own = [(5, 0), (4, 1), (3, 2), (4, 3)]
    opp = [(5, 1), (5, 2), (4, 2), (5, 3), (3, 3)]
    for seed in range(10):
        assert OnePlyAgent("connect_four_v3", seed=seed).act(c4_obs(own, opp)) == 3


def test_c4_blocks_vertical_threat() -> None:
    obs = c4_obs(own=[(5, 3), (5, 2)], opp=[(5, 4), (4, 4), (3, 4)])
    for seed in range(10):
        assert OnePlyAgent("connect_four_v3", seed=seed).act(obs) == 4


def test_c4_blocks_horizontal_threat_in_real_game() -> None:
    env = connect_four_v3.env()
    env.reset(seed=0)
    # player_0: columns 1, 2, 3 on the bottom row; player_1 stacks on them.
    play(env, [1, 1, 2, 2, 3])
    agent = OnePlyAgent("connect_four_v3", seed=0)
    observation = env.observe("player_1")
    action = agent.act(observation["observation"], action_mask=observation["action_mask"])
    assert action in (0, 4)
    env.step(action)
    # Whichever end it blocked, player_0's other end no longer wins at once.
    assert not any(env.terminations.values())


def test_c4_never_plays_masked_column() -> None:
    # The only winning column is masked: the agent must not take it.
    obs = c4_obs(own=[(5, 2), (4, 2), (3, 2)], opp=[(5, 3), (5, 4), (4, 3)])
    mask = np.ones(7, dtype=np.int8)
    mask[2] = 0
    for seed in range(20):
        assert OnePlyAgent("connect_four_v3", seed=seed).act(obs, action_mask=mask) != 2


def test_c4_full_columns_are_never_played() -> None:
    agent = OnePlyAgent("connect_four_v3", seed=3)
    env = connect_four_v3.env()
    for game in range(20):
        env.reset(seed=game)
        for name in env.agent_iter():
            observation, _, terminated, truncated, _ = env.last()
            if terminated or truncated:
                env.step(None)
                continue
            obs, mask = observation["observation"], observation["action_mask"]
            action = agent.act(obs, action_mask=mask)
            assert mask[action] == 1, (name, action, mask)
            # Without the mask it derives legality from the top row alone.
            assert mask[agent.act(obs)] == 1
            env.step(action)


# --- tic-tac-toe positions ----------------------------------------------------------


def test_ttt_takes_row_win() -> None:
    obs = ttt_obs(own=[0, 1], opp=[3, 4])  # opponent also threatens 5
    for seed in range(10):
        assert OnePlyAgent("tictactoe_v3", seed=seed).act(obs) == 2


def test_ttt_takes_diagonal_win() -> None:
    obs = ttt_obs(own=[0, 4], opp=[1, 2])
    assert OnePlyAgent("tictactoe_v3", seed=0).act(obs) == 8


def test_ttt_row_win_in_real_game() -> None:
    env = tictactoe_v3.env()
    env.reset(seed=0)
    play(env, [0, 3, 1, 4])  # player_1 threatens 2, player_2 threatens 5
    observation = env.observe("player_1")
    action = OnePlyAgent("tictactoe_v3", seed=0).act(
        observation["observation"], action_mask=observation["action_mask"]
    )
    env.step(action)
    assert env.rewards["player_1"] == 1


def test_ttt_blocks() -> None:
    env = tictactoe_v3.env()
    env.reset(seed=0)
    play(env, [0, 4, 1])  # player_1 threatens 2; player_2 has no win
    observation = env.observe("player_2")
    for seed in range(10):
        action = OnePlyAgent("tictactoe_v3", seed=seed).act(
            observation["observation"], action_mask=observation["action_mask"]
        )
        assert action == 2


def test_ttt_respects_mask() -> None:
    obs = ttt_obs(own=[0, 4], opp=[1, 2])
    mask = np.array([0, 0, 0, 1, 0, 1, 1, 1, 0], dtype=np.int8)  # winning 8 masked
    for seed in range(20):
        assert mask[OnePlyAgent("tictactoe_v3", seed=seed).act(obs, action_mask=mask)] == 1


def test_rejects_other_envs() -> None:
    with pytest.raises(ValueError, match="one-ply plays"):
        OnePlyAgent("chess_v6")


def test_same_seed_same_moves() -> None:
    obs = c4_obs(own=[(5, 3)], opp=[(5, 2)])  # no threats: every move is a random pick
    first = OnePlyAgent("connect_four_v3", seed=11)
    moves = [first.act(obs) for _ in range(20)]
    assert len(set(moves)) > 1
    again = OnePlyAgent("connect_four_v3", seed=99)
    again.reset(seed=11)
    assert [again.act(obs) for _ in range(20)] == moves


# --- strength against random --------------------------------------------------------


def score_vs_random(module: Any, env_id: str, n_actions: int, games: int) -> tuple[int, int, int]:
    """(wins, draws, losses) of one-ply against random, seats alternating."""
    one_ply = OnePlyAgent(env_id)
    rand = RandomAgent(spaces.Discrete(n_actions))
    env = module.env()
    wins = draws = losses = 0
    for game in range(games):
        env.reset(seed=game)
        one_ply.reset(seed=1000 + game)
        rand.reset(seed=2000 + game)
        me = env.possible_agents[game % 2]
        total = 0.0
        for name in env.agent_iter():
            observation, reward, terminated, truncated, _ = env.last()
            if name == me:
                total += reward
            if terminated or truncated:
                env.step(None)
                continue
            agent = one_ply if name == me else rand
            env.step(agent.act(observation["observation"], action_mask=observation["action_mask"]))
        wins += total > 0
        draws += total == 0
        losses += total < 0
    return wins, draws, losses


def test_connect_four_beats_random() -> None:
    # Measured 94% (376/400); a random player wins about 45-50%.
    wins, _, _ = score_vs_random(connect_four_v3, "connect_four_v3", 7, 200)
    assert wins >= 170, f"one-ply won {wins}/200 connect-four games against random"


def test_tictactoe_beats_random() -> None:
    # Measured 82% wins, 98.5% wins + draws; random vs random: about 45% and 55%.
    wins, draws, _ = score_vs_random(tictactoe_v3, "tictactoe_v3", 9, 200)
    assert wins >= 130, f"one-ply won {wins}/200 tic-tac-toe games against random"
    assert wins + draws >= 180, f"one-ply lost {200 - wins - draws}/200 games against random"
