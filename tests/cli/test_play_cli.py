"""``arena play`` driven through stdin, and ``arena replay``: exact messages, stored rows."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from arena.cli import app
from arena.human import play_human
from arena.limits import Limits
from arena.storage import connect, session_factory
from arena.storage import models as m
from tests.conftest import ROOT

runner = CliRunner()
TTT_SCRIPT = ROOT / "tests" / "packages" / "ttt-script"
# Every cell in order, three times over: whatever the opponent does, each prompt
# finds a free cell further down (taken ones are refused), so a game always ends.
ALL_CELLS = "\n".join(str(c) for c in list(range(9)) * 3) + "\n"


def play(*args: str, moves: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["play", *args], input=moves)
    return result.exit_code, result.stdout, result.stderr


def participants(name: str) -> list[m.Participant]:
    with session_factory(connect())() as session:
        rows = session.scalars(
            select(m.Participant)
            .join(m.AgentVersion)
            .join(m.Agent)
            .where(m.Agent.name == name)
            .order_by(m.Participant.match_id)
        ).all()
        session.expunge_all()
        return list(rows)


def rating(name: str, env: str) -> m.Rating:
    with session_factory(connect())() as session:
        row = session.scalar(
            select(m.Rating)
            .join(m.AgentVersion)
            .join(m.Agent)
            .where(m.Agent.name == name, m.Rating.env_id == env)
        )
        assert row is not None
        session.expunge(row)
        return row


def test_a_full_game_is_stored_and_the_human_rated() -> None:
    code, out, err = play(
        "tictactoe_v3", "--opponent", "one-ply", "--name", "alice", "--seed", "7", moves=ALL_CELLS
    )
    assert code == 0, err
    assert "game 1 of 1: you (alice) are player_1, moving first" in out
    assert "legal moves: 0 1 2 3 4 5 6 7 8" in out
    assert "one-ply (player_2) plays cell" in out
    assert "game over" in out
    [seat] = participants("alice")
    assert seat.forfeit_reason is None
    assert seat.outcome in {"win", "draw", "loss"}
    with session_factory(connect())() as session:
        version = session.scalar(
            select(m.AgentVersion).join(m.Agent).where(m.Agent.name == "alice")
        )
        assert version is not None
        assert (version.kind, version.source, version.agent.kind) == ("human", "human", "human")
        match = session.get(m.Match, seat.match_id)
        assert match is not None and match.rated and match.steps >= 5
    row = rating("alice", "tictactoe_v3")
    assert row.games == 1 and row.mu != 25.0 and row.sigma < 25 / 3
    word = {"win": "you won", "draw": "draw", "loss": "you lost"}[seat.outcome]
    assert f"game 1: {word}; stored as match {seat.match_id}" in out
    assert f"alice on tictactoe_v3: mu {row.mu:.2f}, sigma {row.sigma:.2f}" in out


def test_illegal_and_unreadable_input_is_refused_and_asked_again() -> None:
    code, out, err = play(
        "tictactoe_v3",
        "--opponent",
        "one-ply",
        "--name",
        "bob",
        "--seed",
        "1",
        moves="4\n4\nabc\n9\n\nresign\n",
    )
    assert code == 0, err
    lines = out.splitlines()
    refusals = [line for line in lines if line.startswith("refused:")]
    assert refusals == [
        "refused: cell 4 is not playable now; type a legal move, resign or quit",
        "refused: 'abc' is not a cell number; type a legal move, resign or quit",
        "refused: there is no cell 9 (0-8); type a legal move, resign or quit",
    ]
    # Each refusal is followed by the prompt again, with the next line echoed.
    assert "your move> abc" in lines[lines.index(refusals[0]) + 1]
    assert "game 1: you lost (you forfeited: resign)" in out


def test_resign_is_a_recorded_forfeit_that_costs_rating() -> None:
    code, out, err = play(
        "connect_four_v3",
        "--opponent",
        "random",
        "--name",
        "carol",
        "--seed",
        "2",
        "--json",
        moves="3\nresign\n",
    )
    assert code == 0, err
    report = json.loads(out[out.index("{") :])
    assert [g["forfeit"] for g in report["games"]] == ["resign"]
    [seat] = participants("carol")
    assert (seat.forfeit_reason, seat.error_text, seat.outcome) == (
        "resign",
        "the player resigned",
        "loss",
    )
    [opponent] = participants("random")
    assert opponent.outcome == "win"
    row = rating("carol", "connect_four_v3")
    assert row.mu < 25.0 and row.forfeits == 1 and row.losses == 1
    assert report["rating"]["mu"] == row.mu


def test_quit_forfeits_the_game_in_progress_and_stops_the_series() -> None:
    code, out, _ = play(
        "tictactoe_v3",
        "--opponent",
        "random",
        "--name",
        "dave",
        "--games",
        "3",
        "--seed",
        "4",
        moves="quit\n",
    )
    assert code == 3  # quit: the documented exit code of a person who stopped
    assert "game 2 of 3" not in out
    assert [p.forfeit_reason for p in participants("dave")] == ["quit"]


def test_end_of_input_counts_as_quit() -> None:
    code, out, _ = play(
        "tictactoe_v3", "--opponent", "random", "--name", "erin", "--seat", "second", moves=""
    )
    assert code == 3
    assert "you (erin) are player_2, moving second" in out
    [seat] = participants("erin")
    assert (seat.seat, seat.forfeit_reason) == ("player_2", "quit")


def test_simultaneous_moves_are_not_shown_before_the_person_moves() -> None:
    code, out, err = play(
        "rps_v2",
        "--opponent",
        "random",
        "--name",
        "jo",
        "--seat",
        "second",
        "--seed",
        "1",
        moves="rock\npaper\nquit\n",
    )
    assert code == 3, err
    assert "random (player_0) plays" not in out
    assert "round 1/15: player_0 " in out and ", player_1 ROCK" in out


def test_chess_takes_san_and_uci() -> None:
    code, out, err = play(
        "chess_v6",
        "--opponent",
        "random",
        "--name",
        "fay",
        "--seed",
        "5",
        moves="e4\nNf3\ng1f3\nresign\n",
    )
    assert code == 0, err
    assert "refused:" not in out.replace("refused: g1f3", "")
    [seat] = participants("fay")
    with session_factory(connect())() as session:
        match = session.get(m.Match, seat.match_id)
        assert match is not None
        human_moves = [a for s, a in match.actions if s == "player_0"]
    # e2e4 and g1f3 in PettingZoo's encoding (8x8x73 planes from white's side).
    assert human_moves == [2421, 3563]
    assert "refused: g1f3 is not a legal move in this position" in out


def test_bad_input_writes_nothing(arena_home: Path) -> None:
    code, _, err = play("pong_v3", "--opponent", "random", moves="")
    assert code == 1
    assert err.startswith("error: 'arena play' does not support pong_v3 (playable: chess_v6, ")
    code, _, err = play("tictactoe_v3", "--opponent", "random", "--name", "random", moves="")
    assert (code, err) == (1, "error: --name 'random' is a built-in agent's name; choose another\n")
    code, _, err = play("tictactoe_v3", "--opponent", "nope-agent", "--name", "gil", moves="")
    assert code == 1 and "nope-agent" in err
    assert participants("gil") == []


def test_the_human_has_no_move_limit_against_a_sandboxed_package() -> None:
    shown: list[str] = []
    moves = iter(str(c) for c in list(range(9)) * 3)

    def slow_person(prompt: str) -> str | None:
        time.sleep(0.05)  # far over the opponent's 1 ms limit below
        return next(moves, None)

    report = play_human(
        "tictactoe_v3",
        str(TTT_SCRIPT),
        ask=slow_person,
        show=shown.append,
        name="hana",
        seed=3,
        limits=Limits(move_timeout_s=0.001, time_bank_s=0.0, init_timeout_s=30.0),
    )
    [game] = report.games
    assert game.forfeit is None
    assert report.rating is not None and report.rating["games"] == 1


def test_replay_prints_the_match_move_by_move() -> None:
    play(
        "tictactoe_v3", "--opponent", "one-ply", "--name", "ivy", "--seed", "9", moves="4\nresign\n"
    )
    [seat] = participants("ivy")
    result = runner.invoke(app, ["replay", str(seat.match_id)])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"match {seat.match_id}: tictactoe_v3 (")
    assert "  player_1: ivy (ivy 1): loss, return 0, forfeit: resign" in lines
    assert "move 1: player_1 cell 4" in lines
    assert "ivy forfeited (resign): the player resigned" in lines
    missing = runner.invoke(app, ["replay", "999"])
    assert (missing.exit_code, missing.stderr) == (
        1,
        "error: no match with id 999 in the database\n",
    )
    gif = runner.invoke(app, ["replay", str(seat.match_id), "--gif", "x.gif"])
    assert gif.exit_code == 1 and gif.stderr.startswith("error: --gif: tictactoe_v3 is a classic")


def test_replay_gif_of_a_particle_env(tmp_path: Path) -> None:
    from PIL import Image

    result = runner.invoke(app, ["match", "simple_push_v3", "random", "random", "--json"])
    assert result.exit_code == 0, result.stderr
    [match_id] = json.loads(result.stdout)["match_ids"]
    out = tmp_path / "push.gif"
    result = runner.invoke(app, ["replay", str(match_id), "--gif", str(out)])
    assert result.exit_code == 0, result.stderr
    with Image.open(out) as image:
        # The start and 25 cycles; Pillow merges identical consecutive frames.
        assert 20 <= image.n_frames <= 26
    assert f"wrote 26 frames to {out}" in result.stdout


# --- Ctrl-C: asked before forfeiting -----------------------------------------------

CTRL_C = "<Ctrl-C>"  # a scripted answer: the read is interrupted


def scripted(*answers: str | None) -> tuple[Callable[[str], str | None], list[str]]:
    """An ask callback giving ``answers`` in turn (then the end of input), and its prompts."""
    left = iter(answers)
    prompts: list[str] = []

    def ask(prompt: str) -> str | None:
        prompts.append(prompt)
        answer = next(left, None)
        if answer == CTRL_C:
            raise KeyboardInterrupt
        return answer

    return ask, prompts


def test_ctrl_c_then_yes_forfeits_the_game_rated_and_stops() -> None:
    ask, prompts = scripted("4", CTRL_C, "y")
    shown: list[str] = []
    before = signal.getsignal(signal.SIGINT)
    report = play_human(
        "tictactoe_v3", "one-ply", ask=ask, show=shown.append, name="kim", games=3, seed=7
    )
    assert signal.getsignal(signal.SIGINT) is before  # the handler is put back
    assert prompts == ["your move> ", "your move> ", "forfeit this game? [y/N] "]
    assert (report.quit, report.interrupted) == (True, True)
    assert [g.forfeit for g in report.games] == ["quit"]
    [seat] = participants("kim")
    assert (seat.forfeit_reason, seat.error_text, seat.outcome) == (
        "quit",
        "the player quit (Ctrl-C)",
        "loss",
    )
    row = rating("kim", "tictactoe_v3")
    assert (row.games, row.forfeits, row.losses) == (1, 1, 1) and row.mu < 25.0


def test_ctrl_c_then_no_goes_on_with_the_game() -> None:
    cells = [str(c) for c in list(range(9)) * 3]
    ask, prompts = scripted("4", CTRL_C, "", *cells)
    shown: list[str] = []
    report = play_human("tictactoe_v3", "one-ply", ask=ask, show=shown.append, name="lou", seed=7)
    assert prompts[:4] == ["your move> ", "your move> ", "forfeit this game? [y/N] ", "your move> "]
    assert prompts.count("forfeit this game? [y/N] ") == 1
    assert "the game goes on" in shown
    [game] = report.games
    assert (game.forfeit, report.quit, report.interrupted) == (None, False, False)
    assert participants("lou")[0].forfeit_reason is None


def test_a_second_ctrl_c_or_the_end_of_input_at_the_question_is_a_yes() -> None:
    for name, answers in (("mo", (CTRL_C, CTRL_C)), ("ned", (CTRL_C,))):
        ask, prompts = scripted(*answers)
        report = play_human("tictactoe_v3", "random", ask=ask, show=lambda _: None, name=name)
        assert prompts == ["your move> ", "forfeit this game? [y/N] "], name
        assert report.interrupted and [g.forfeit for g in report.games] == ["quit"]
        assert [p.forfeit_reason for p in participants(name)] == ["quit"]


def test_ctrl_c_while_the_opponent_moves_is_asked_at_the_next_prompt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from arena.human import Announced

    inner = Announced.act
    sent: list[bool] = []

    def act_then_ctrl_c(self: Announced, *args: Any) -> Any:
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)  # as a terminal's Ctrl-C would, mid-move
        return inner(self, *args)

    monkeypatch.setattr(Announced, "act", act_then_ctrl_c)
    ask, prompts = scripted("y")
    report = play_human(
        "tictactoe_v3", "random", ask=ask, show=lambda _: None, name="ola", seat="second"
    )
    assert prompts == ["forfeit this game? [y/N] "]  # asked before the person's first move
    assert report.interrupted and [p.forfeit_reason for p in participants("ola")] == ["quit"]


def test_ctrl_c_as_a_game_ends_stops_before_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    from arena.storage.recorder import Recorder

    inner = Recorder.record

    def ctrl_c_then_record(self: Recorder, *args: Any, **kwargs: Any) -> Any:
        os.kill(os.getpid(), signal.SIGINT)
        return inner(self, *args, **kwargs)

    monkeypatch.setattr(Recorder, "record", ctrl_c_then_record)
    ask, _ = scripted(*(str(c) for c in list(range(9)) * 3))
    shown: list[str] = []
    report = play_human(
        "tictactoe_v3", "one-ply", ask=ask, show=shown.append, name="pia", games=3, seed=7
    )
    assert "interrupted: stopped after game 1 of 3" in shown
    assert (len(report.games), report.games[0].forfeit, report.interrupted) == (1, None, True)
    assert len(participants("pia")) == 1


def test_play_exits_130_after_a_ctrl_c_forfeit(monkeypatch: pytest.MonkeyPatch) -> None:
    ask, _ = scripted(CTRL_C, "yes")
    monkeypatch.setattr("arena.cli._ask", ask)
    code, out, err = play(
        "tictactoe_v3", "--opponent", "random", "--name", "quin", "--games", "2", moves=""
    )
    assert code == 130, err
    [seat] = participants("quin")
    assert f"game 1: you lost (you forfeited: quit); stored as match {seat.match_id}" in out
    assert "game 2 of 2" not in out
