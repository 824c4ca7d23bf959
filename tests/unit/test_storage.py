"""Storage: migrations match the models; the recorder's rows and its single transaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from arena.rating import RatingSystem
from arena.registry import builtin_agents, get_env
from arena.runner import play_match
from arena.sources import builtin_source, resolve_agent
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.db import HEAD, MIGRATIONS
from arena.storage.recorder import NOTE_KEY, Recorder
from tests.conftest import EXAMPLE_C4


def _count(engine, model) -> int:  # type: ignore[no-untyped-def]
    with session_factory(engine)() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_head_constant_is_the_newest_migration() -> None:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


def test_migrations_build_exactly_the_models_schema() -> None:
    engine = connect("sqlite://")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), m.Base.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_sqlite_file_uses_wal(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def _c4_match(seed: int = 0):  # type: ignore[no-untyped-def]
    spec = get_env("connect_four_v3")
    return play_match(spec, [resolve_agent("one-ply"), resolve_agent("random")], seed=seed)


def test_recorded_match_round_trips() -> None:
    engine = connect("sqlite://")
    result = _c4_match(seed=3)
    match_id = Recorder(engine, RatingSystem()).record(result)
    with session_factory(engine)() as s:
        match = s.get_one(m.Match, match_id)
        assert (match.env_id, match.seed, match.steps) == ("connect_four_v3", 3, result.steps)
        assert match.env_version == result.env_version and match.env_version.startswith(
            "pettingzoo"
        )
        assert match.actions == result.actions and len(match.actions) == result.steps
        seats = [(p.seat, p.label, p.rank, p.reward, p.outcome) for p in match.participants]
        assert seats == [
            (r.seat, r.label, r.rank, r.reward, result.outcome(r.side)) for r in result.seats
        ]
        hashes = {p.agent_version.content_hash for p in match.participants}
        assert hashes == {a.content_hash for a in result.agents}


def test_rating_moves_winner_up_and_keeps_history() -> None:
    engine = connect("sqlite://")
    recorder = Recorder(engine, RatingSystem())
    for seed in range(5):
        recorder.record(_c4_match(seed))
    with session_factory(engine)() as s:
        ratings = {r.agent_version.agent.name: r for r in s.scalars(select(m.Rating))}
        assert ratings["one-ply"].mu > 25 > ratings["random"].mu
        assert ratings["one-ply"].games == ratings["random"].games == 5
        assert ratings["one-ply"].wins + ratings["one-ply"].draws + ratings["one-ply"].losses == 5
        assert ratings["one-ply"].wins == ratings["random"].losses
        history = s.scalars(
            select(m.RatingHistory).where(m.RatingHistory.rating_id == ratings["one-ply"].id)
        ).all()
        assert len(history) == 5
        assert history[-1].mu == pytest.approx(ratings["one-ply"].mu)


def test_self_play_is_stored_but_not_rated() -> None:
    engine = connect("sqlite://")
    spec = get_env("connect_four_v3")
    rnd = builtin_source(builtin_agents()["random"])
    result = play_match(spec, [rnd, rnd], seed=1)
    match_id = Recorder(engine, RatingSystem()).record(result)
    with session_factory(engine)() as s:
        assert s.get_one(m.Match, match_id).rated is False
    assert _count(engine, m.Rating) == 0
    assert _count(engine, m.Participant) == 2


def test_same_run_and_game_key_is_stored_once() -> None:
    engine = connect("sqlite://")
    with session_factory(engine).begin() as s:
        t = m.Tournament(name="t", env_id="connect_four_v3", format="round-robin", config={})
        s.add(t)
        s.flush()
        run = m.Run(tournament_id=t.id, number=1, plan_hash="x", planned=1)
        s.add(run)
        s.flush()
        run_id = run.id
    recorder = Recorder(engine, RatingSystem())
    assert recorder.record(_c4_match(), run_id=run_id, game_key="p0-g0") is not None
    assert recorder.record(_c4_match(), run_id=run_id, game_key="p0-g0") is None
    assert _count(engine, m.Match) == 1
    assert _count(engine, m.RatingHistory) == 2


class _BrokenRater(RatingSystem):
    def rate(self, groups, ranks, *, weights=None):  # type: ignore[no-untyped-def, override]
        raise RuntimeError("rating failed")


def test_match_and_rating_commit_together() -> None:
    engine = connect("sqlite://")
    with pytest.raises(RuntimeError, match="rating failed"):
        Recorder(engine, _BrokenRater()).record(_c4_match())
    assert _count(engine, m.Match) == 0
    assert _count(engine, m.Participant) == 0
    assert _count(engine, m.Rating) == 0


def test_package_version_recorded_with_its_hash() -> None:
    engine = connect("sqlite://")
    spec = get_env("connect_four_v3")
    pkg = resolve_agent(str(EXAMPLE_C4))
    result = play_match(spec, [pkg, resolve_agent("random")], seed=0)
    Recorder(engine, RatingSystem()).record(result)
    with session_factory(engine)() as s:
        version = s.scalar(
            select(m.AgentVersion).join(m.Agent).where(m.Agent.name == "c4-heuristic")
        )
        assert version is not None
        assert (version.version, version.kind, version.source) == ("1.0.0", "scripted", "path")
        assert version.content_hash == pkg.info.content_hash and len(version.content_hash) == 64


def test_batched_records_commit_together_and_roll_back_together(tmp_path: Path) -> None:
    # a file, not :memory:, so the count sees only what other connections see
    engine = connect(f"sqlite:///{tmp_path / 'batch.db'}")
    recorder = Recorder(engine, RatingSystem())
    with recorder.batch(max_matches=3):
        for seed in range(4):
            recorder.record(_c4_match(seed))
        assert _count(engine, m.Match) == 3  # the first three committed as a batch
    assert _count(engine, m.Match) == 4  # the rest on leaving the batch
    assert _count(engine, m.RatingHistory) == 8

    with pytest.raises(RuntimeError, match="stop"), recorder.batch(max_matches=10):
        recorder.record(_c4_match(9))
        raise RuntimeError("stop")
    assert _count(engine, m.Match) == 4  # the open batch was dropped whole


def test_a_new_agent_in_the_middle_of_a_batch_does_not_deadlock(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'mid.db'}")
    recorder = Recorder(engine, RatingSystem())
    spec = get_env("connect_four_v3")
    other = play_match(spec, [resolve_agent("random"), resolve_agent(str(EXAMPLE_C4))], seed=1)
    with recorder.batch(max_matches=100, max_seconds=60):
        recorder.record(_c4_match(0))
        recorder.record(other)  # c4-heuristic is new to the recorder
    assert _count(engine, m.Match) == 2
    assert _count(engine, m.AgentVersion) == 3


def test_recorder_stores_the_env_kwargs() -> None:
    engine = connect("sqlite://")
    recorder = Recorder(engine, RatingSystem())
    with_kwargs = recorder.record(_c4_match(0), env_kwargs={"render_mode": None, "n": (1, 2)})
    without = recorder.record(_c4_match(1))
    with session_factory(engine)() as s:
        assert s.get_one(m.Match, with_kwargs).env_kwargs == {"render_mode": None, "n": [1, 2]}
        assert s.get_one(m.Match, without).env_kwargs == {}


def test_unstorable_env_kwargs_are_dropped_with_a_note() -> None:
    engine = connect("sqlite://")
    match_id = Recorder(engine, RatingSystem()).record(
        _c4_match(0), env_kwargs={"scale": float("nan")}
    )
    with session_factory(engine)() as s:
        match = s.get_one(m.Match, match_id)
        assert match.env_kwargs == {}
        assert "env kwargs not stored" in match.outputs[NOTE_KEY]


_OLD_ROWS = """
INSERT INTO agents VALUES (1, 'a', 'scripted', '2026-01-01 00:00:00');
INSERT INTO agent_versions VALUES
    (1, 1, '1', 'hash-a', 'scripted', '', 'builtin', NULL, '2026-01-01 00:00:00');
INSERT INTO tournaments VALUES
    (1, 'spread', 'simple_spread_v3', 'round-robin',
     '{"tournament": {"name": "spread", "env_kwargs": {"N": 2, "max_cycles": 7}}}',
     NULL, '2026-01-01 00:00:00'),
    (2, 'plain', 'connect_four_v3', 'round-robin', '{"tournament": {"name": "plain"}}',
     NULL, '2026-01-01 00:00:00');
INSERT INTO runs VALUES
    (1, 1, 1, 'finished', 'x', 1, '2026-01-01 00:00:00', NULL),
    (2, 2, 1, 'finished', 'y', 1, '2026-01-01 00:00:00', NULL);
INSERT INTO matches VALUES
    (1, 1, 'g0', 'simple_spread_v3', 'v', 0, 0, 0.0, 0, '[]', '{}', '2026-01-01 00:00:00'),
    (2, 2, 'g0', 'connect_four_v3', 'v', 0, 0, 0.0, 0, '[]', '{}', '2026-01-01 00:00:00'),
    (3, NULL, NULL, 'connect_four_v3', 'v', 0, 0, 0.0, 0, '[]', '{}', '2026-01-01 00:00:00');
INSERT INTO participants VALUES
    (1, 1, 1, 0, 'a', 'agent_0', 'agent', 0, -1.5, 1, 'draw', NULL, NULL);
"""


def test_upgrade_backfills_the_env_kwargs_of_stored_tournament_matches(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from arena.storage.db import upgrade
    from arena.storage.queries.matches import match_record

    engine = connect(f"sqlite:///{tmp_path / 'old.db'}", migrate=False)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:  # a database made by the first release
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        for statement in _OLD_ROWS.split(";"):
            if statement.strip():
                conn.execute(text(statement))
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    spread = match_record(engine, 1)
    assert spread is not None
    assert spread.env_kwargs == {"N": 2, "max_cycles": 7}
    assert spread.tournament == "spread"
    assert [(s.agent, s.seat, s.reward) for s in spread.seats] == [("a", "agent_0", -1.5)]
    for match_id in (2, 3):  # another tournament's, and a match outside tournaments
        other = match_record(engine, match_id)
        assert other is not None and other.env_kwargs == {}
