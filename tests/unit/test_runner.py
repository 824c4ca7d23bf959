"""``play_match`` with real envs and the fixture packages in ``tests/packages``.

Every bad behaviour of an agent must come back as a recorded forfeit (never an
exception), ranked last, with a reason from AGENT_PROTOCOL.md and a useful error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from arena.errors import ArenaError
from arena.registry import get_env
from arena.result import MatchResult
from arena.runner import Limits, play_match, side_owners, unique_labels
from arena.sources import AgentSource, resolve_agent

PACKAGES = Path(__file__).resolve().parents[1] / "packages"


def source(spec: str) -> AgentSource:
    """A fresh source: a built-in name or a folder under tests/packages."""
    return resolve_agent(spec, base_dir=PACKAGES)


def play(env_id: str, *agents: str, seed: int = 0, **kwargs: Any) -> MatchResult:
    return play_match(get_env(env_id), [source(a) for a in agents], seed=seed, **kwargs)


def seat(result: MatchResult, name: str) -> Any:
    (found,) = [s for s in result.seats if s.seat == name]
    return found


# --- bad packages become forfeits ---------------------------------------------------

BAD: list[tuple[str, str, list[str], Limits | None]] = [
    ("raises-in-act", "error",
     ["RuntimeError: raises-in-act: deliberate failure in act", "Traceback", "bad_act.py"], None),
    ("raises-in-make", "error",
     ["ValueError: raises-in-make: deliberate failure in make_agent", "bad_make.py"], None),
    ("raises-in-reset", "error",
     ["KeyError: 'raises-in-reset: deliberate failure in reset'"], None),
    ("import-fails", "error",
     ["importing 'broken' failed: RuntimeError: import-fails: deliberate failure at import",
      "Traceback (most recent call last)", "broken.py"], None),
    ("no-callable", "error", ["module 'nocall' has no callable 'make_agent'"], None),
    ("masked-move", "illegal", ["is masked out (not legal in this position)"], None),
    ("returns-string", "illegal", ["expected an integer action, got str '3'"], None),
    ("returns-nan", "illegal", ["expected an integer action, got float nan"], None),
    ("out-of-range", "illegal", ["action 99 is outside the action space Discrete(9)"], None),
    ("slow-act", "timeout", ["act took", "0.100s (the move time limit)"],
     Limits(move_timeout_s=0.1)),
    ("slow-init", "timeout", ["set-up took", "0.1s (init_timeout_s)"], Limits(init_timeout_s=0.1)),
]  # fmt: skip


@pytest.mark.parametrize("bad_side", [0, 1])
@pytest.mark.parametrize(
    ("package", "reason", "fragments", "limits"), BAD, ids=[case[0] for case in BAD]
)
def test_bad_package_forfeits(
    package: str, reason: str, fragments: list[str], limits: Limits | None, bad_side: int
) -> None:
    agents = ["random", "random"]
    agents[bad_side] = package
    result = play("tictactoe_v3", *agents, seed=5, limits=limits)

    bad_seat = ("player_1", "player_2")[bad_side]
    other = 1 - bad_side
    assert [s.seat for s in result.forfeits] == [bad_seat]
    offender = seat(result, bad_seat)
    assert offender.forfeit == reason
    assert offender.label == package
    for fragment in fragments:
        assert fragment in (offender.error or ""), offender.error
    assert seat(result, ("player_1", "player_2")[other]).forfeit is None
    assert result.side_ranks[bad_side] == 2 and result.side_ranks[other] == 1
    assert offender.rank == 2
    assert result.outcome(bad_side) == "loss" and result.outcome(other) == "win"
    assert result.labels[bad_side] == package


def test_moves_before_a_forfeit_are_kept() -> None:
    # masked-move plays cell 0 while it is free, then cell 0 again: illegal.
    result = play("tictactoe_v3", "masked-move", "random", seed=5)
    assert result.actions[0] == ["player_1", 0]
    assert len(result.actions) == 2 and result.steps == 2
    assert result.forfeits[0].error == "action 0 is masked out (not legal in this position)"


def test_forfeit_in_connect_four() -> None:
    result = play("connect_four_v3", "random", "out-of-range", seed=1)
    (offender,) = result.forfeits
    assert (offender.seat, offender.forfeit) == ("player_1", "illegal")
    assert offender.error == "action 99 is outside the action space Discrete(7)"
    assert result.side_ranks == [1, 2]


def test_wrong_action_type_for_discrete_mpe() -> None:
    # box-agent returns a list of floats; the discrete MPE space wants an integer.
    result = play("simple_spread_v3", "box-agent")
    (offender,) = result.forfeits
    assert (offender.seat, offender.forfeit) == ("agent_0", "illegal")
    assert offender.error == "expected an integer action, got list [0.25]"
    assert result.side_ranks == [1]  # alone in the match: last is also first


# --- determinism --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env_id", "agents"),
    [("connect_four_v3", ("random", "one-ply")), ("simple_tag_v3", ("random", "random"))],
)
def test_same_seed_same_match(env_id: str, agents: tuple[str, str]) -> None:
    first = play(env_id, *agents, seed=11)
    again = play(env_id, *agents, seed=11)
    other = play(env_id, *agents, seed=12)
    assert first.actions and first.steps > 0
    assert again.actions == first.actions
    assert [s.reward for s in again.seats] == [s.reward for s in first.seats]
    assert again.side_ranks == first.side_ranks
    assert other.actions != first.actions


def test_simultaneous_action_log_shape() -> None:
    result = play("simple_tag_v3", "random", "random", seed=3)
    assert result.steps == 25 == len(result.actions)  # MPE's default max_cycles
    for joint in result.actions:
        assert [name for name, _ in joint] == [
            "adversary_0", "adversary_1", "adversary_2", "agent_0",
        ]  # fmt: skip
        assert all(isinstance(a, int) and 0 <= a < 5 for _, a in joint)


def test_record_actions_off() -> None:
    result = play("connect_four_v3", "random", "random", seed=0, record_actions=False)
    assert result.actions == [] and result.steps > 0


def test_max_steps_ends_the_match_as_it_stands() -> None:
    result = play("connect_four_v3", "random", "random", seed=0, limits=Limits(max_steps=4))
    assert result.steps == 4 and len(result.actions) == 4
    assert not result.forfeits
    assert [s.reward for s in result.seats] == [0.0, 0.0]
    assert result.side_ranks == [1, 1]


# --- rewards and ranks of finished games ----------------------------------------------


@pytest.mark.parametrize("one_ply_side", [0, 1])
def test_connect_four_winner_and_loser(one_ply_side: int) -> None:
    agents = ["random", "random"]
    agents[one_ply_side] = "one-ply"
    wins = 0
    for seed in range(4):
        result = play("connect_four_v3", *agents, seed=seed)
        assert not result.forfeits
        rewards = result.side_returns()
        assert sorted(rewards) == [-1.0, 1.0]  # connect four rarely draws; these seeds don't
        winner = rewards.index(1.0)
        loser = 1 - winner
        assert result.side_ranks[winner] == 1 and result.side_ranks[loser] == 2
        assert result.outcome(winner) == "win" and result.outcome(loser) == "loss"
        assert [s.rank for s in result.seats] == result.side_ranks
        wins += winner == one_ply_side
    assert wins >= 3, "one-ply should beat random"


def test_tictactoe_draw() -> None:
    result = play("tictactoe_v3", "ttt-script", "ttt-script", seed=0)
    assert result.labels == ["ttt-script", "ttt-script#2"]
    assert result.actions == [
        ["player_1", 0], ["player_2", 4], ["player_1", 2], ["player_2", 1], ["player_1", 7],
        ["player_2", 6], ["player_1", 3], ["player_2", 5], ["player_1", 8],
    ]  # fmt: skip
    assert not result.forfeits
    assert [s.reward for s in result.seats] == [0.0, 0.0]
    assert result.side_ranks == [1, 1]
    assert result.outcome(0) == result.outcome(1) == "draw"


# --- printed output ----------------------------------------------------------------


def test_output_is_captured(capsys: pytest.CaptureFixture[str]) -> None:
    result = play("connect_four_v3", "good-c4", "random", seed=0)
    captured = capsys.readouterr()
    assert "good-c4" not in captured.out and "good-c4" not in captured.err
    text = result.outputs["good-c4"]
    assert "good-c4 make_agent player_0" in text  # stderr, in make_agent
    assert "hello from good-c4: player_0 plays 0" in text  # stdout, in act; reads a data file
    assert "random" not in result.outputs  # built-ins print nothing


def test_outputs_are_kept_per_label(capsys: pytest.CaptureFixture[str]) -> None:
    result = play("tictactoe_v3", "good-c4", "good-c4", seed=0)
    assert "good-c4" not in capsys.readouterr().out
    assert "player_1 plays" in result.outputs["good-c4"]
    assert "player_2" not in result.outputs["good-c4"]
    assert "player_2 plays" in result.outputs["good-c4#2"]


def test_output_at_import_is_captured(capsys: pytest.CaptureFixture[str]) -> None:
    result = play("tictactoe_v3", "prints-on-import", "random", seed=0)
    captured = capsys.readouterr()
    assert not result.forfeits
    assert "prints-on-import" not in captured.out
    assert "prints-on-import" not in captured.err


# --- two packages that both ship agent.py -------------------------------------------


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_same_module_names_do_not_clash(order: tuple[str, str]) -> None:
    agents = [f"same-module-{x}" for x in order]
    spec = get_env("connect_four_v3")
    result = play_match(spec, [source(a) for a in agents], seed=2)
    assert not result.forfeits and result.steps > 0
    label_of = {s.seat: s.label for s in result.seats}

    env = spec.make_aec()
    env.reset(seed=2)
    lowest_seen = highest_seen = 0
    for name, action in result.actions:
        legal = np.flatnonzero(env.observe(name)["action_mask"])
        if label_of[name] == "same-module-a":
            assert action == legal[0], "same-module-a plays its own (lowest) strategy"
            lowest_seen += 1
        else:
            assert action == legal[-1], "same-module-b plays its own (highest) strategy"
            highest_seen += 1
        env.step(action)
    assert lowest_seen and highest_seen


def test_package_can_unpickle_its_own_classes() -> None:
    # AGENT_PROTOCOL.md: "a package may hold several modules and files" and
    # ctx.package_dir is where it loads its weights. Weights pickled with a class
    # from the package's own model.py (torch.save(model), pickle.dump(policy)) must
    # load in make_agent, after the entry module was imported.
    result = play("tictactoe_v3", "pickled-weights", "random", seed=0)
    assert not result.forfeits, result.forfeits[0].error
    assert result.actions[0] == ["player_1", 4]


# --- sides, owners and labels -------------------------------------------------------


@pytest.mark.parametrize(
    ("env_id", "n_agents", "owners"),
    [
        ("connect_four_v3", 2, [[0], [1]]),
        ("simple_tag_v3", 2, [[0], [1]]),
        ("simple_spread_v3", 1, [[0]]),
        ("simple_speaker_listener_v4", 2, [[0], [1]]),
        ("simple_speaker_listener_v4", 1, [[0, 1]]),
        ("hanabi_v5", 1, [[0, 1]]),
    ],
)
def test_side_owners(env_id: str, n_agents: int, owners: list[list[int]]) -> None:
    assert side_owners(get_env(env_id), n_agents) == owners


@pytest.mark.parametrize(
    ("env_id", "n_agents", "message"),
    [
        ("connect_four_v3", 3, "needs 2 agents, one per side (player, player), got 3"),
        ("connect_four_v3", 1, "needs 2 agents, one per side (player, player), got 1"),
        ("simple_tag_v3", 4, "needs 2 agents, one per side (adversary, agent), got 4"),
        ("simple_spread_v3", 3, "needs 1 agent, one per side (agent), got 3"),
    ],
)
def test_side_owners_wrong_count(env_id: str, n_agents: int, message: str) -> None:
    with pytest.raises(ArenaError) as info:
        side_owners(get_env(env_id), n_agents)
    assert str(info.value) == f"{env_id} {message}"


def test_play_match_wrong_count_raises() -> None:
    with pytest.raises(ArenaError, match=r"^tictactoe_v3 needs 2 agents, one per side"):
        play("tictactoe_v3", "random", "random", "random")


def test_unique_labels() -> None:
    assert unique_labels(["a", "b"]) == ["a", "b"]
    assert unique_labels(["a", "a", "b"]) == ["a", "a#2", "b"]
    assert unique_labels(["a", "b", "a", "a"]) == ["a", "b", "a#2", "a#3"]
    assert unique_labels([]) == []


def test_one_agent_fills_both_sides_of_its_team() -> None:
    result = play("simple_speaker_listener_v4", "random", seed=0)
    assert result.labels == ["random"]
    assert [(s.seat, s.role, s.side, s.team) for s in result.seats] == [
        ("speaker_0", "speaker", 0, 0),
        ("listener_0", "listener", 0, 0),
    ]
    assert result.side_ranks == [1]
    assert result.outcome(0) == "draw"  # one team: every match is a draw
    assert result.steps == 25


def test_one_package_gets_one_instance_per_seat() -> None:
    # Decentralised execution: make_agent once per seat, with that seat's agent_id/role.
    result = play(
        "simple_speaker_listener_v4", "box-agent", seed=0, env_kwargs={"continuous_actions": True}
    )
    assert not result.forfeits
    out = result.outputs["box-agent"]
    assert out.count("box-agent make_agent") == 2
    assert "make_agent speaker_0 speaker" in out and "make_agent listener_0 listener" in out
    speaker, listener = result.actions[0]
    assert speaker[0] == "speaker_0" and listener[0] == "listener_0"
    assert speaker[1] == [0.25] * 3 and listener[1] == [0.25] * 5  # Box actions logged as lists


def test_box_actions_on_simple_spread() -> None:
    result = play("simple_spread_v3", "box-agent", seed=0, env_kwargs={"continuous_actions": True})
    assert not result.forfeits and result.steps == 25
    assert result.outputs["box-agent"].count("box-agent make_agent agent_") == 3
    assert [s.seat for s in result.seats] == ["agent_0", "agent_1", "agent_2"]


# --- teams --------------------------------------------------------------------------


def test_simple_tag_team_results() -> None:
    result = play("simple_tag_v3", "random", "random", seed=4)
    assert result.labels == ["random", "random#2"]
    assert [(s.seat, s.role, s.side, s.team, s.label) for s in result.seats] == [
        ("adversary_0", "adversary", 0, 0, "random"),
        ("adversary_1", "adversary", 0, 0, "random"),
        ("adversary_2", "adversary", 0, 0, "random"),
        ("agent_0", "agent", 1, 1, "random#2"),
    ]
    assert not result.forfeits
    # team_score = "mean": the adversaries' mean return against the agent's return.
    adversaries = np.mean([s.reward for s in result.seats[:3]])
    agent = result.seats[3].reward
    expected = [1, 1] if adversaries == agent else ([1, 2] if adversaries > agent else [2, 1])
    assert result.side_ranks == expected
    assert [s.rank for s in result.seats] == [expected[0]] * 3 + [expected[1]]
    assert result.side_returns()[0] == pytest.approx(sum(s.reward for s in result.seats[:3]))


def test_team_forfeit_ranks_the_whole_team_last() -> None:
    result = play("simple_tag_v3", "raises-in-act", "random", seed=0)
    assert [(s.seat, s.forfeit) for s in result.forfeits] == [("adversary_0", "error")]
    assert "raises-in-act: deliberate failure in act" in (result.forfeits[0].error or "")
    assert result.side_ranks == [2, 1]
    assert [s.rank for s in result.seats] == [2, 2, 2, 1]
    assert result.outcome(0) == "loss" and result.outcome(1) == "win"


def test_cooperative_forfeit_ranks_the_offender_below_its_teammate() -> None:
    # Speaker and listener are one team, but here two packages own them. The
    # contract: "The offending seat forfeits: it is ranked last, the others rank by
    # the game's outcome so far" -- the innocent listener must not share the forfeit.
    for bad in (0, 1):
        agents = ["random", "random"]
        agents[bad] = "raises-in-act"
        result = play("simple_speaker_listener_v4", *agents, seed=0)
        assert [s.side for s in result.forfeits] == [bad]
        assert result.side_ranks[bad] == 2 and result.side_ranks[1 - bad] == 1
        assert result.outcome(bad) == "loss"
        assert result.outcome(1 - bad) != "loss"


def test_forfeit_by_the_single_seat_side() -> None:
    result = play("simple_tag_v3", "random", "raises-in-act", seed=0)
    assert [(s.seat, s.forfeit) for s in result.forfeits] == [("agent_0", "error")]
    assert result.side_ranks == [1, 2]
