"""The ``heuristic``, ``negamax-2`` and ``negamax-4`` built-ins.

Hand-scored evaluations, the bitboards against PettingZoo's own rules, win and
block in one, a forced win in two that only the search sees, determinism, and
short series through the arena's runner against ``random`` and ``one-ply``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pettingzoo.classic import connect_four_v3

from agents import connect_four_eval as c4
from agents.heuristic import HeuristicAgent, ttt_evaluate
from agents.negamax import WIN, NegamaxAgent, best_move, negamax
from arena.protocol import AgentContext
from arena.registry import builtin_agents, get_env
from arena.series import play_series, summarize
from arena.sources import resolve_agent


def drawn(*rows: str) -> np.ndarray:
    """The observation of a board drawn as text: ``x`` the mover, ``o`` the opponent.

    Rows are given top to bottom and stand on the bottom row (fewer than the
    board's rows leave the top empty): ``drawn("xxx.o..")`` is the bottom row.
    """
    height, width = (6, 7) if len(rows[0]) == 7 else (3, 3)
    obs = np.zeros((height, width, 2), dtype=np.int8)
    for r, line in enumerate(rows, start=height - len(rows)):
        for c, ch in enumerate(line):
            if ch in "xo":
                obs[r, c, "xo".index(ch)] = 1
    return obs


def after_moves(columns: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The observation and mask of the player to move after ``columns``, played in a real env."""
    env = connect_four_v3.env()
    env.reset(seed=0)
    for col in columns:
        env.step(col)
    observation = env.observe(env.agent_selection)
    return observation["observation"], observation["action_mask"]


def ctx(name: str, seed: int) -> AgentContext:
    return AgentContext(
        env_id="connect_four_v3", agent_id="player_0", role="player",
        observation_space=None, action_space=None, package_dir=None, seed=seed,
    )  # fmt: skip


def reference_evaluate(obs: np.ndarray) -> int:
    """The evaluation written out over the (6, 7) arrays, independent of the bitboards."""
    own, opp = obs[:, :, 0].astype(bool), obs[:, :, 1].astype(bool)

    def side(p: np.ndarray, q: np.ndarray) -> int:
        score = c4.CENTRE_WEIGHT * int(p[:, 3].sum())
        for r in range(6):
            for c in range(7):
                for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                    cells = [(r + i * dr, c + i * dc) for i in range(4)]
                    if not all(0 <= rr < 6 and 0 <= cc < 7 for rr, cc in cells):
                        continue
                    if any(q[rr, cc] for rr, cc in cells):
                        continue
                    n = sum(bool(p[rr, cc]) for rr, cc in cells)
                    score += {3: c4.THREE_WEIGHT, 2: c4.TWO_WEIGHT}.get(n, 0)
        return score

    return side(own, opp) - side(opp, own)


def random_positions(n: int, seed: int) -> list[np.ndarray]:
    """Observations of the side to move after random legal play (no game over)."""
    rng = np.random.default_rng(seed)
    env = connect_four_v3.env()
    found: list[np.ndarray] = []
    while len(found) < n:
        env.reset(seed=len(found))
        for _ in range(int(rng.integers(0, 30))):
            mask = env.observe(env.agent_selection)["action_mask"]
            env.step(int(rng.choice(np.flatnonzero(mask))))
            if any(env.terminations.values()):
                break
        if not any(env.terminations.values()):
            found.append(env.observe(env.agent_selection)["observation"])
    return found


# --- the evaluation -------------------------------------------------------------------


def test_evaluation_of_an_open_three_by_hand() -> None:
    # Own: bottom row, columns 1-3. Opponent: column 4, two high.
    obs = drawn("....o..", ".xxxo..")
    own, opp = c4.from_observation(obs)
    # Own: one centre piece (column 3); one open three, the window of columns
    # 0-3 on the bottom row (the other three windows through it hold (5, 4));
    # no open two (no other window holds two own pieces and no opponent piece).
    assert c4.side_terms(own, opp) == (1, 0, 1)
    # Opponent: no centre piece; one open two, column 4's rows 2-5.
    assert c4.side_terms(opp, own) == (0, 1, 0)
    assert c4.evaluate(own, opp) == (3 * 1 + 5 * 1) - (2 * 1) == 6
    assert c4.evaluate(opp, own) == -6


def test_evaluation_counts_twos_and_threes_by_hand() -> None:
    # Own: bottom row, columns 0-2; the opponent: the right corner.
    own, opp = c4.from_observation(drawn("xxx...o"))
    # Windows of columns 0-3 (three) and 1-4 (two); 2-5 holds one piece; 3-6 is dead.
    assert c4.side_terms(own, opp) == (0, 1, 1)
    assert c4.evaluate(own, opp) == 5 + 2 == 7


def test_evaluation_matches_the_formula_on_random_positions() -> None:
    for obs in random_positions(40, seed=3):
        own, opp = c4.from_observation(obs)
        assert c4.evaluate(own, opp) == reference_evaluate(obs)
        assert c4.evaluate(opp, own) == -c4.evaluate(own, opp)


def test_bitboards_follow_the_env() -> None:
    # Drops land where PettingZoo puts them, and is_win agrees with its terminations.
    rng = np.random.default_rng(0)
    env = connect_four_v3.env()
    for game in range(15):
        env.reset(seed=game)
        while not any(env.terminations.values()):
            observation = env.observe(env.agent_selection)
            obs, mask = observation["observation"], observation["action_mask"]
            own, opp = c4.from_observation(obs)
            assert c4.legal_columns(own | opp) == [c for c in c4.CENTRE_FIRST if mask[c]]
            col = int(rng.choice(np.flatnonzero(mask)))
            mover = env.agent_selection
            env.step(col)
            own_after, _ = c4.from_observation(env.observe(mover)["observation"])
            assert own_after == own | c4.drop(own | opp, col)
            assert c4.is_win(own_after) == (env.rewards[mover] == 1)


# --- heuristic ------------------------------------------------------------------------


def test_heuristic_takes_a_win_over_a_block() -> None:
    # Own row 5 needs column 4; the opponent threatens column 6 vertically.
    obs = drawn("......o", "......o", "oxxx..o")
    assert HeuristicAgent("connect_four_v3").act(obs) == 4


def test_heuristic_blocks_a_loss_in_one() -> None:
    # The opponent has three in column 0; by the evaluation alone column 3 (3) beats
    # the block (2), so only the block rule makes the agent play column 0.
    obs, mask = after_moves([0, 5, 0, 6, 0])
    own, opp = c4.from_observation(obs)
    score = {col: c4.evaluate(own | c4.drop(own | opp, col), opp) for col in range(7)}
    assert (score[3], score[0]) == (3, 2) and max(score.values()) == 3
    assert HeuristicAgent("connect_four_v3").act(obs, action_mask=mask) == 0


def test_heuristic_plays_the_best_evaluated_move_centre_first() -> None:
    # The empty board: every column's score is the centre term or windows; 3 wins outright.
    assert HeuristicAgent("connect_four_v3").act(np.zeros((6, 7, 2), np.int8)) == 3
    # Ties go to the most central column: after 3 then 3, columns 2 and 4 score alike.
    obs, _ = after_moves([3, 3])
    own, opp = c4.from_observation(obs)
    assert c4.evaluate(own | c4.bit(5, 2), opp) == c4.evaluate(own | c4.bit(5, 4), opp)
    choice = HeuristicAgent("connect_four_v3").act(obs)
    best = max(c4.evaluate(own | c4.drop(own | opp, c), opp) for c in range(7))
    assert c4.evaluate(own | c4.drop(own | opp, choice), opp) == best
    assert choice == next(
        c for c in c4.CENTRE_FIRST if c4.evaluate(own | c4.drop(own | opp, c), opp) == best
    )


def test_heuristic_tictactoe_wins_blocks_and_scores() -> None:
    agent = HeuristicAgent("tictactoe_v3")

    assert agent.act(drawn("xx.", "oo.", "...")) == 2  # win over block
    assert agent.act(drawn(".x.", ".oo", "...")) == 3  # block the row 3-4-5
    assert agent.act(np.zeros((3, 3, 2), np.int8)) == 4  # the centre
    # By hand: the centre (2) and the four lines through it, one mark each (4 x 1).
    own = np.zeros(9, bool)
    own[4] = True
    assert ttt_evaluate(own, np.zeros(9, bool)) == 2 + 4 * 1


# --- negamax --------------------------------------------------------------------------


def plain_negamax(own: int, opp: int, depth: int, ply: int) -> int:
    """Negamax without pruning, the definition alpha-beta must reproduce."""
    occupied = own | opp
    moves = [c for c in c4.CENTRE_FIRST if c4.playable(occupied, c)]
    if not moves:
        return 0
    if depth == 0:
        return c4.evaluate(own, opp)
    values = []
    for col in moves:
        if c4.is_win(own | c4.drop(occupied, col)):
            values.append(WIN - (ply + 1))
        else:
            values.append(-plain_negamax(opp, own | c4.drop(occupied, col), depth - 1, ply + 1))
    return max(values)


def test_alpha_beta_gives_the_plain_negamax_move_and_value() -> None:
    for obs in random_positions(12, seed=5):
        own, opp = c4.from_observation(obs)
        legal = c4.legal_columns(own | opp)
        for depth in (2, 3):
            values = {
                col: WIN - 1
                if c4.is_win(own | c4.drop(own | opp, col))
                else -plain_negamax(opp, own | c4.drop(own | opp, col), depth - 1, 1)
                for col in legal
            }
            best = max(values.values())
            assert best_move(own, opp, legal, depth) == next(c for c in legal if values[c] == best)
            assert negamax(own, opp, depth, -WIN - 1, WIN + 1, 0) == best


def test_negamax_finds_a_forced_win_in_two_that_heuristic_misses() -> None:
    # X (to move) holds columns 2 and 3 of the bottom row, O columns 0 and 6.
    # Column 4 makes an open three whose two ends (columns 1 and 5) are both
    # playable: O can block one only. The heuristic's evaluation prefers column 3.
    obs, mask = after_moves([2, 6, 3, 0])
    own, opp = c4.from_observation(obs)
    assert HeuristicAgent("connect_four_v3").act(obs, action_mask=mask) == 3
    move = NegamaxAgent(4).act(obs, action_mask=mask)
    assert move == 4
    # Checked by brute force: after it, every reply leaves X a win in one.
    own_after = own | c4.drop(own | opp, move)
    for reply in c4.legal_columns(own_after | opp):
        opp_after = opp | c4.drop(own_after | opp, reply)
        assert not c4.is_win(opp_after)
        occupied = own_after | opp_after
        assert any(c4.is_win(own_after | c4.drop(occupied, c)) for c in c4.legal_columns(occupied))
    # Scored by depth: a win at ply 3 for the mover.
    assert negamax(own, opp, 4, -WIN - 1, WIN + 1, 0) == WIN - 3
    # After the heuristic's column 3 no forced win is in sight.
    own_h = own | c4.drop(own | opp, 3)
    assert -negamax(opp, own_h, 3, -WIN - 1, WIN + 1, 1) < WIN - 10


def test_negamax_prefers_the_faster_win() -> None:
    # Columns 0 and 4 both win at once (row 5, columns 1-3 own): the central one is played.
    obs = drawn(".ooo...", ".xxx...")
    assert NegamaxAgent(4).act(obs) == 4
    own, opp = c4.from_observation(obs)
    assert negamax(own, opp, 4, -WIN - 1, WIN + 1, 0) == WIN - 1
    # A lost position: the opponent threatens two cells; the loss comes at ply 2.
    lost = drawn("x......", "x.ooo..")
    own, opp = c4.from_observation(lost)
    assert negamax(own, opp, 4, -WIN - 1, WIN + 1, 0) == -(WIN - 2)


def test_negamax_respects_the_mask() -> None:
    obs = drawn(".ooo...", ".xxx...")
    mask = np.array([1, 1, 1, 1, 0, 1, 1], dtype=np.int8)
    assert NegamaxAgent(4).act(obs, action_mask=mask) == 0  # the other end of the three


# --- determinism ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["heuristic", "negamax-2", "negamax-4"])
def test_same_position_same_move(name: str) -> None:
    factory = builtin_agents()[name].factory
    for obs in random_positions(8, seed=11):
        moves = set()
        for seed in (0, 1, 99):
            agent: Any = factory(ctx(name, seed))
            agent.reset(seed=seed + 7)
            moves.add(agent.act(obs))
            moves.add(agent.act(obs))
        assert len(moves) == 1, (name, moves)


def test_negamax_only_plays_connect_four() -> None:
    bad = AgentContext(
        env_id="tictactoe_v3", agent_id="player_1", role="player",
        observation_space=None, action_space=None, package_dir=None, seed=0,
    )  # fmt: skip
    with pytest.raises(ValueError, match="negamax plays connect_four_v3"):
        builtin_agents()["negamax-2"].factory(bad)


# --- outcomes through the arena's series ----------------------------------------------


def series_score(agent: str, opponent: str, games: int, seed: int) -> dict[str, int]:
    """Wins, draws and losses of ``agent`` over a series, seats alternating."""
    results = play_series(
        get_env("connect_four_v3"),
        [resolve_agent(agent), resolve_agent(opponent)],
        games=games,
        seed=seed,
    )
    assert not any(r.forfeits for r in results)
    row = summarize(results)[agent]
    return {k: row[k] for k in ("wins", "draws", "losses")}


def test_negamax_2_beats_random() -> None:
    score = series_score("negamax-2", "random", games=20, seed=1)
    assert score["wins"] >= 18, score


def test_negamax_2_beats_one_ply() -> None:
    score = series_score("negamax-2", "one-ply", games=20, seed=2)
    assert score["wins"] > score["losses"], score
