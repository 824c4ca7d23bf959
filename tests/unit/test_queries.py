"""The storage read side (`arena.storage.queries`): rows as recorded, in their order."""

from __future__ import annotations

from sqlalchemy import Engine

from arena.rating import RatingSystem
from arena.registry import builtin_agents, get_env
from arena.runner import play_match
from arena.sources import builtin_source, resolve_agent
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.queries.agents import agent_kind, agent_versions
from arena.storage.queries.matches import match_record
from arena.storage.queries.ratings import version_rating
from arena.storage.queries.seats import match_seats
from arena.storage.queries.tournaments import find_tournament, run_progress
from arena.storage.recorder import Recorder


def _stored() -> tuple[Engine, list[int]]:
    """A tournament match, a free match and a self-play match; their ids."""
    engine = connect("sqlite://")
    with session_factory(engine).begin() as s:
        t = m.Tournament(name="t", env_id="connect_four_v3", format="round-robin", config={})
        s.add(t)
        s.flush()
        run = m.Run(tournament_id=t.id, number=1, plan_hash="x", planned=3)
        s.add(run)
        s.flush()
        run_id = run.id
    spec = get_env("connect_four_v3")
    recorder = Recorder(engine, RatingSystem())
    one_ply, rnd = resolve_agent("one-ply"), builtin_source(builtin_agents()["random"])
    ids = [
        recorder.record(
            play_match(spec, [one_ply, rnd], seed=0),
            run_id=run_id,
            game_key="g0",
            env_kwargs={"render_mode": None},
        ),
        recorder.record(play_match(spec, [rnd, one_ply], seed=1)),
        recorder.record(play_match(spec, [rnd, rnd], seed=2)),  # self-play: unrated
    ]
    assert all(i is not None for i in ids)
    return engine, [i for i in ids if i is not None]


def test_match_record_holds_what_replays_the_match() -> None:
    engine, (first, second, _) = _stored()
    record = match_record(engine, first)
    assert record is not None
    assert (record.env_id, record.seed) == ("connect_four_v3", 0)
    assert record.env_kwargs == {"render_mode": None}
    assert record.tournament == "t" and record.actions and record.env_version
    assert [(s.slot, s.agent, s.seat) for s in record.seats] == [
        (0, "one-ply", "player_0"),
        (1, "random", "player_1"),
    ]
    free = match_record(engine, second)
    assert free is not None and free.tournament is None and free.env_kwargs == {}
    assert match_record(engine, 999) is None


def test_match_seats_groups_seats_by_match_in_play_order() -> None:
    engine, ids = _stored()
    every = list(match_seats(engine))
    assert [x.match_id for x in every] == ids
    assert all(len(x.seats) == 2 and x.env_id == "connect_four_v3" for x in every)
    assert [x.match_id for x in match_seats(engine, rated=True)] == ids[:2]
    tournament = find_tournament(engine, "t")
    assert tournament is not None
    in_t = list(match_seats(engine, tournament_id=tournament.id))
    assert [x.match_id for x in in_t] == ids[:1]
    assert [s.slot for s in in_t[0].seats] == [0, 1]


def test_agent_and_rating_reads() -> None:
    engine, _ = _stored()
    assert agent_kind(engine, "random") == "scripted"
    assert agent_kind(engine, "nobody") is None
    versions = agent_versions(engine, [1, 2, 99])
    assert sorted(v.agent for v in versions.values()) == ["one-ply", "random"]
    one_ply = next(v for v in versions.values() if v.agent == "one-ply")
    rating = version_rating(engine, one_ply.hash, "connect_four_v3")
    assert rating is not None and rating.games == 2
    assert version_rating(engine, one_ply.hash, "tictactoe_v3") is None


def test_run_progress_counts_stored_and_planned_games() -> None:
    engine, _ = _stored()
    (row,) = run_progress(engine, name="t")
    assert (row.tournament, row.run, row.status, row.played, row.planned) == (
        "t",
        1,
        "running",
        1,
        0,
    )
    assert run_progress(engine, name="other") == []
