"""Ctrl-C in ``arena match``: what was played is summed up and stored, and the same command
resumes the series, playing only the missing games with their own seeds and seats."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from arena.cli import app
from arena.play import SeriesInterrupted, play_and_record
from arena.storage import models as m

runner = CliRunner()
SERIES = ["match", "tictactoe_v3", "random", "one-ply", "--games", "8", "--seed", "5"]
RESUME = "interrupted: 3/8 stored; run the same command to resume\n"


def arena(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    err = "".join(
        line for line in result.stderr.splitlines(keepends=True) if not line.startswith("sandbox:")
    )
    return result.exit_code, result.stdout, err


def ctrl_c_after(monkeypatch: pytest.MonkeyPatch, games: int) -> list[int]:
    """Ctrl-C in the match after ``games`` finished ones; returns the seeds played."""
    from arena import play, runner, series

    seeds: list[int] = []

    def play_match(*args: Any, **kwargs: Any) -> Any:
        if len(seeds) == games:
            raise KeyboardInterrupt
        seeds.append(kwargs["seed"])
        return runner.play_match(*args, **kwargs)

    monkeypatch.setattr(play, "play_match", play_match)  # the resumable series
    monkeypatch.setattr(series, "play_match", play_match)  # play_series (--no-record)
    return seeds


def stored(db: Path) -> list[tuple[Any, ...]]:
    """Per stored match: run number, game key, seed, and its seats' label, seat and outcome."""
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        matches = conn.execute(
            select(m.Match.id, m.Run.number, m.Match.game_key, m.Match.seed)
            .outerjoin(m.Run, m.Run.id == m.Match.run_id)
            .order_by(m.Match.id)
        ).all()
        rows = []
        for match_id, run, key, seed in matches:
            seats = conn.execute(
                select(m.Participant.label, m.Participant.seat, m.Participant.outcome)
                .where(m.Participant.match_id == match_id)
                .order_by(m.Participant.id)
            ).all()
            rows.append((run, key, seed, [tuple(s) for s in seats]))
    engine.dispose()
    return rows


def run_statuses(db: Path) -> list[tuple[str, str, int, str]]:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        rows = conn.execute(
            select(m.Tournament.format, m.Tournament.name, m.Run.number, m.Run.status)
            .join(m.Run, m.Run.tournament_id == m.Tournament.id)
            .order_by(m.Run.number)
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_ctrl_c_sums_up_the_stored_games_and_the_same_command_resumes(
    arena_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = arena_home / "arena.db"
    with monkeypatch.context() as patch:
        first = ctrl_c_after(patch, 3)
        code, out, err = arena(*SERIES)
    assert (code, err) == (130, RESUME)
    assert "tictactoe_v3: 3 of 8 game(s), seed 5" in out
    assert "stored" not in out
    assert len(stored(db)) == 3
    [(fmt, name, number, status)] = run_statuses(db)
    assert (fmt, number, status) == ("match", 1, "interrupted")
    assert name.endswith(" tictactoe_v3: random vs one-ply")

    with monkeypatch.context() as patch:
        rest = ctrl_c_after(patch, 99)
        code, out, err = arena(*SERIES, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["run"], report["resumed"], len(report["match_ids"])) == (1, 3, 8)
    assert len(rest) == 5  # only the missing games were played
    assert run_statuses(db) == [("match", name, 1, "finished")]
    resumed = stored(db)
    assert [key for _, key, _, _ in resumed] == [f"g{i}" for i in range(8)]
    assert [seed for _, _, seed, _ in resumed] == first + rest

    # The same series, never interrupted, in another database: the same games.
    other = tmp_path / "other.db"
    code, out, err = arena("--db", f"sqlite:///{other}", *SERIES, "--json")
    assert code == 0, err
    assert stored(other) == resumed
    assert json.loads(out)["summary"] == report["summary"]


def test_a_finished_series_run_again_plays_anew_as_its_next_run(arena_home: Path) -> None:
    db = arena_home / "arena.db"
    for _ in range(2):
        code, out, err = arena(*SERIES[:5], "3")
        assert code == 0, err
        assert out.endswith("stored 3 match(es)\n")
    assert [status for *_, status in run_statuses(db)] == ["finished", "finished"]
    rows = stored(db)
    assert [run for run, *_ in rows] == [1, 1, 1, 2, 2, 2]
    assert rows[:3] == [(1, *rest) for _, *rest in rows[3:]]  # same seed, same games


def test_ctrl_c_with_json_prints_the_json_and_the_line(
    arena_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctrl_c_after(monkeypatch, 3)
    code, out, err = arena(*SERIES, "--json")
    assert (code, err) == (130, RESUME)
    report = json.loads(out)
    assert (report["interrupted"], report["done"], report["games"]) == (True, 3, 8)
    assert len(report["match_ids"]) == 3
    assert sum(report["summary"]["one-ply"][k] for k in ("wins", "draws", "losses")) == 3


def test_ctrl_c_without_recording_says_played(
    arena_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctrl_c_after(monkeypatch, 2)
    code, out, err = arena(*SERIES, "--no-record")
    assert (code, err) == (130, "interrupted: 2/8 played\n")
    assert "tictactoe_v3: 2 of 8 game(s), seed 5" in out
    assert not (arena_home / "arena.db").exists()


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_while_a_match_is_stored_keeps_it_whole(
    arena_home: Path, how: signal.Signals, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arena.storage.recorder import Recorder

    inner = Recorder._rate
    rated: list[int] = []

    def stop_then_rate(self: Recorder, *args: Any) -> None:
        rated.append(1)
        if len(rated) == 2:  # the second match's rows are written, its rating not yet
            os.kill(os.getpid(), how)
        inner(self, *args)

    def stop(_signum: int, _frame: Any) -> None:  # what arena's main() installs for SIGTERM
        raise KeyboardInterrupt

    monkeypatch.setattr(Recorder, "_rate", stop_then_rate)
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        with pytest.raises(SeriesInterrupted) as stopped:
            play_and_record("tictactoe_v3", ["random", "one-ply"], games=6, resumable=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert (stopped.value.done, stopped.value.planned) == (2, 6)
    assert stopped.value.message == "interrupted: 2/6 stored; run the same command to resume"
    engine = create_engine(f"sqlite:///{arena_home / 'arena.db'}")
    with engine.connect() as conn:
        count = conn.scalar
        assert count(select(func.count()).select_from(m.Match)) == 2
        assert count(select(func.count()).select_from(m.Participant)) == 4
        assert count(select(func.count()).select_from(m.RatingHistory)) == 4  # both rated
        assert set(conn.execute(select(m.Rating.games)).scalars()) == {2}
    engine.dispose()


def test_a_duplicate_pair_cut_by_ctrl_c_is_rated_when_the_resume_stores_its_second_game(
    arena_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    series = ["match", "simple_tag_v3", "tag-chaser", "random", "--games", "4", "--seed", "2"]
    with monkeypatch.context() as patch:
        ctrl_c_after(patch, 3)
        assert arena(*series)[0] == 130
    engine = create_engine(f"sqlite:///{arena_home / 'arena.db'}")
    query = select(m.Match.game_key, m.Match.rated, m.Match.duplicate_id).order_by(m.Match.id)

    def pairs() -> list[tuple[str, bool, int | None]]:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(query)]

    assert pairs() == [("g0", True, 1), ("g1", True, 1), ("g2", False, None)]
    code, _, err = arena(*series)
    assert code == 0, err
    assert pairs() == [("g0", True, 1), ("g1", True, 1), ("g2", True, 3), ("g3", True, 3)]
    with engine.connect() as conn:  # the roles swap within each pair
        roles = conn.execute(
            select(m.Participant.label, m.Participant.role)
            .where(m.Participant.seat == "agent_0")
            .order_by(m.Participant.match_id)
        ).all()
    assert [label for label, _ in roles] == ["random", "tag-chaser", "random", "tag-chaser"]
    engine.dispose()


@pytest.mark.parametrize(("env", "games"), [("tictactoe_v3", 5), ("simple_tag_v3", 3)])
def test_a_resumable_series_plays_the_games_play_series_plays(
    env: str, games: int, tmp_path: Path
) -> None:
    """The resumable loop seats and seeds each game as arena.series.play_series does
    (simple_tag: roles swapped in duplicate pairs)."""
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    args: dict[str, Any] = {"games": games, "seed": 3}
    play_and_record(env, ["random", "random"], db_url=f"sqlite:///{a}", **args)
    play_and_record(env, ["random", "random"], db_url=f"sqlite:///{b}", resumable=True, **args)
    plain = [(seed, seats) for _, _, seed, seats in stored(a)]
    assert plain == [(seed, seats) for _, _, seed, seats in stored(b)]


def test_sigint_to_the_process_stops_it_with_the_line(arena_home: Path) -> None:
    """A real SIGINT, as a terminal's Ctrl-C sends it: the line counts what the database holds."""
    db = arena_home / "arena.db"
    command = ["match", "connect_four_v3", "random", "random", "--games", "100000"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "arena.cli", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    engine = create_engine(f"sqlite:///{db}")
    try:
        while True:  # until the first batch of matches is committed
            assert proc.poll() is None, proc.communicate()
            with contextlib.suppress(OperationalError):  # not created or migrated yet
                with engine.connect() as conn:
                    if conn.scalar(select(func.count()).select_from(m.Match)):
                        break
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    with engine.connect() as conn:
        n = conn.scalar(select(func.count()).select_from(m.Match))
    engine.dispose()
    assert proc.returncode == 130, err
    assert err.splitlines()[-1] == (
        f"interrupted: {n}/100000 stored; run the same command to resume"
    )
    assert f"connect_four_v3: {n} of 100000 game(s), seed 0" in out
    assert [status for *_, status in run_statuses(db)] == ["interrupted"]
