"""The storage and tournament tests on a real PostgreSQL server.

Each test gets a fresh database from the ``pg_url`` fixture (``tests/conftest.py``);
they skip, with the reason, when ``ARENA_TEST_PG_URL`` is unset or the driver is
missing. ``eval "$(.ci/postgres.sh)"`` starts a throwaway server; CI does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, insert, make_url, select, text
from sqlalchemy.exc import IntegrityError

from arena.rating import RatingSystem
from arena.registry import get_env
from arena.runner import play_match
from arena.sources import resolve_agent
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.db import HEAD
from arena.storage.recorder import Recorder
from tournaments.leaderboard import leaderboard
from tournaments.run import run_tournament


def _count(url: str, model) -> int:  # type: ignore[no-untyped-def]
    engine = connect(url)
    try:
        with session_factory(engine)() as s:
            return s.scalar(select(func.count()).select_from(model))
    finally:
        engine.dispose()


def _c4_match(seed: int = 0):  # type: ignore[no-untyped-def]
    spec = get_env("connect_four_v3")
    return play_match(spec, [resolve_agent("one-ply"), resolve_agent("random")], seed=seed)


def _new_run(url: str) -> int:
    with session_factory(connect(url)).begin() as s:
        t = m.Tournament(name="t", env_id="connect_four_v3", format="round-robin", config={})
        s.add(t)
        s.flush()
        run = m.Run(tournament_id=t.id, number=1, plan_hash="x", planned=1)
        s.add(run)
        s.flush()
        return run.id


def _round_robin_file(folder: Path, *, games: int) -> Path:
    path = folder / "rr.toml"
    path.write_text(
        f"""
[tournament]
name = "rr"
env = "connect_four_v3"
format = "round-robin"
games_per_pairing = {games}
seed = 7
[[entrants]]
agent = "random"
[[entrants]]
agent = "one-ply"
"""
    )
    return path


def test_migrations_build_exactly_the_models_schema(pg_url: str) -> None:
    engine = connect(pg_url)
    assert engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert context.get_current_revision() == HEAD
        diff = compare_metadata(context, m.Base.metadata)
    assert diff == [], f"models and migrations differ on PostgreSQL: {diff}"
    connect(pg_url)  # opening an up-to-date database again is a no-op


def test_recorded_matches_round_trip_and_move_ratings(pg_url: str) -> None:
    engine = connect(pg_url)
    recorder = Recorder(engine, RatingSystem())
    results = [_c4_match(seed) for seed in range(5)]
    ids = [recorder.record(r) for r in results]
    with session_factory(engine)() as s:
        match = s.get_one(m.Match, ids[3])
        result = results[3]
        assert (match.env_id, match.seed, match.steps) == ("connect_four_v3", 3, result.steps)
        assert match.env_version == result.env_version
        assert match.actions == result.actions and len(match.actions) == result.steps
        assert match.outputs == result.outputs and match.rated is True
        seats = [(p.seat, p.label, p.rank, p.reward, p.outcome) for p in match.participants]
        assert seats == [
            (r.seat, r.label, r.rank, r.reward, result.outcome(r.side)) for r in result.seats
        ]

        ratings = {r.agent_version.agent.name: r for r in s.scalars(select(m.Rating))}
        assert ratings["one-ply"].mu > 25 > ratings["random"].mu
        assert ratings["one-ply"].games == ratings["random"].games == 5
        assert ratings["one-ply"].wins == ratings["random"].losses
        history = s.scalars(
            select(m.RatingHistory)
            .where(m.RatingHistory.rating_id == ratings["one-ply"].id)
            .order_by(m.RatingHistory.id)
        ).all()
        assert [h.match_id for h in history] == ids
        assert history[-1].mu == pytest.approx(ratings["one-ply"].mu)


def test_same_run_and_game_key_is_stored_once(pg_url: str) -> None:
    run_id = _new_run(pg_url)
    engine = connect(pg_url)
    recorder = Recorder(engine, RatingSystem())
    assert recorder.record(_c4_match(), run_id=run_id, game_key="p0-g0") is not None
    assert recorder.record(_c4_match(), run_id=run_id, game_key="p0-g0") is None
    assert _count(pg_url, m.Match) == 1
    assert _count(pg_url, m.RatingHistory) == 2
    # the database itself refuses the second row, not only the recorder's check
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            insert(m.Match).values(
                run_id=run_id,
                game_key="p0-g0",
                env_id="connect_four_v3",
                env_version="x",
                seed=0,
                steps=0,
                duration_s=0.0,
                actions=[],
                outputs={},
            )
        )


def test_concurrent_writers_store_a_game_once(pg_url: str) -> None:
    # Writer A holds the game in an open transaction; writer B, storing the same
    # game, waits on the unique key, then gets the violation once A commits.
    run_id = _new_run(pg_url)
    engine = connect(pg_url)
    a, b = Recorder(engine, RatingSystem()), Recorder(engine, RatingSystem())
    result = _c4_match()
    outcome: list[object] = []

    def write_b() -> None:
        try:
            outcome.append(b.record(result, run_id=run_id, game_key="p0-g0"))
        except Exception as exc:  # reported by the assertion below
            outcome.append(exc)

    with a.batch(max_matches=10, max_seconds=60):
        assert a.record(result, run_id=run_id, game_key="p0-g0") is not None
        writer = threading.Thread(target=write_b)
        writer.start()
        writer.join(timeout=1.0)
        assert writer.is_alive(), f"B did not wait for A's open transaction: {outcome}"
    writer.join(timeout=30)
    assert outcome == [None]
    assert _count(pg_url, m.Match) == 1
    assert _count(pg_url, m.RatingHistory) == 2


def test_round_robin_ranks_lookahead_above_random(pg_url: str, tmp_path: Path) -> None:
    path = _round_robin_file(tmp_path, games=6)
    outcome = run_tournament(path, db_url=pg_url)
    assert (outcome.planned, outcome.played, outcome.resumed) == (6, 6, False)
    engine = connect(pg_url)
    for rows in (leaderboard(engine, tournament="rr"), leaderboard(engine)):
        order = [r.agent for r in rows]
        assert order == ["one-ply", "random"]
        assert [r.games for r in rows] == [6, 6]
    with session_factory(engine)() as s:
        run = s.scalars(select(m.Run)).one()
        assert (run.number, run.status, run.planned) == (1, "finished", 6)


class Stop(Exception):
    pass


def test_interrupted_run_resumes_without_duplicates(pg_url: str, tmp_path: Path) -> None:
    path = _round_robin_file(tmp_path, games=10)

    def stop_after_four(_result, done: int, _total: int) -> None:  # type: ignore[no-untyped-def]
        if done == 4:
            raise Stop

    with pytest.raises(Stop):
        run_tournament(path, db_url=pg_url, on_match=stop_after_four)
    assert _count(pg_url, m.Match) == 4
    outcome = run_tournament(path, db_url=pg_url)
    assert (outcome.resumed, outcome.run, outcome.already_stored, outcome.played) == (
        True,
        1,
        4,
        6,
    )
    assert _count(pg_url, m.Match) == 10
    rows = leaderboard(connect(pg_url), tournament="rr")
    assert sum(r.games for r in rows) == 20
    with connect(pg_url).connect() as conn:
        unrated = conn.execute(
            text(
                "SELECT count(*) FROM matches WHERE rated AND id NOT IN "
                "(SELECT match_id FROM rating_history)"
            )
        ).scalar()
        assert unrated == 0


def test_cli_runs_a_tournament_on_a_plain_postgresql_url(pg_url: str, tmp_path: Path) -> None:
    # `--db postgresql://...`, without a driver name, uses psycopg (the [postgres] extra).
    url = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    path = _round_robin_file(tmp_path, games=2)
    env = {**os.environ, "ARENA_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, "-m", "arena.cli", "--db", url, "tournament", "run", str(path)]
    done = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["planned"], report["played"]) == (2, 2)
    assert _count(pg_url, m.Match) == 2
