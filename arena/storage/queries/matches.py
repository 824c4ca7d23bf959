"""One stored match with everything that replays it; the matches stored under a run."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select

from arena.storage import models as m
from arena.storage.queries.connection import Bind, connected
from arena.storage.queries.tournaments import SERIES_FORMAT


class StoredSeat(NamedTuple):
    """One participant row of a match, with its agent version's name and version."""

    slot: int
    label: str
    agent: str
    version: str
    seat: str
    reward: float
    outcome: str
    forfeit_reason: str | None
    error_text: str | None


class StoredMatch(NamedTuple):
    """A match row and its seats: enough to rebuild the env and replay the log."""

    match_id: int
    env_id: str
    env_version: str
    env_kwargs: dict[str, Any]  # what the env was built with
    seed: int
    actions: list[Any]
    created_at: datetime
    tournament: str | None  # the name of the tournament (or arena match series) it was in
    seats: list[StoredSeat]  # in seat order
    series: bool = False  # played by `arena match` (its run is a series, not a tournament)


def match_record(bind: Bind, match_id: int) -> StoredMatch | None:
    """The match with id ``match_id`` and its seats; None when there is none."""
    match = (
        select(
            m.Match.id,
            m.Match.env_id,
            m.Match.env_version,
            m.Match.env_kwargs,
            m.Match.seed,
            m.Match.actions,
            m.Match.created_at,
            m.Tournament.name,
            m.Tournament.format,
        )
        .outerjoin(m.Run, m.Run.id == m.Match.run_id)
        .outerjoin(m.Tournament, m.Tournament.id == m.Run.tournament_id)
        .where(m.Match.id == match_id)
    )
    p, v = m.Participant, m.AgentVersion
    seats = (
        select(
            p.slot,
            p.label,
            m.Agent.name,
            v.version,
            p.seat,
            p.reward,
            p.outcome,
            p.forfeit_reason,
            p.error_text,
        )
        .join(v, v.id == p.agent_version_id)
        .join(m.Agent, m.Agent.id == v.agent_id)
        .where(p.match_id == match_id)
        .order_by(p.id)
    )
    with connected(bind) as conn:
        row = conn.execute(match).first()
        if row is None:
            return None
        stored = [StoredSeat(*r) for r in conn.execute(seats)]
    mid, env_id, env_version, env_kwargs, seed, actions, created_at, tournament, fmt = row
    return StoredMatch(
        match_id=mid,
        env_id=env_id,
        env_version=env_version,
        env_kwargs=dict(env_kwargs or {}),
        seed=seed,
        actions=list(actions),
        created_at=created_at,
        tournament=tournament,
        seats=stored,
        series=fmt == SERIES_FORMAT,
    )


class RunSeat(NamedTuple):
    """One participant row of a run's match: what a series summary counts."""

    slot: int
    label: str
    seat: str
    team: int
    role: str
    reward: float
    rank: int
    forfeit_reason: str | None


class RunGame(NamedTuple):
    """A match stored under a run, by its game key."""

    match_id: int
    game_key: str
    env_id: str
    env_version: str
    seed: int
    steps: int
    seats: list[RunSeat]  # in seat order


def run_games(bind: Bind, run_id: int) -> list[RunGame]:
    """The matches stored under run ``run_id``, in the order they were stored."""
    p = m.Participant
    query = (
        select(
            m.Match.id,
            m.Match.game_key,
            m.Match.env_id,
            m.Match.env_version,
            m.Match.seed,
            m.Match.steps,
            p.slot,
            p.label,
            p.seat,
            p.team,
            p.role,
            p.reward,
            p.rank,
            p.forfeit_reason,
        )
        .join(p, p.match_id == m.Match.id)
        .where(m.Match.run_id == run_id)
        .order_by(m.Match.id, p.id)
    )
    games: dict[int, RunGame] = {}
    with connected(bind) as conn:
        for mid, key, env_id, env_version, seed, steps, *seat in conn.execute(query):
            game = games.get(mid)
            if game is None:
                game = games[mid] = RunGame(mid, str(key), env_id, env_version, seed, steps, [])
            game.seats.append(RunSeat(*seat))
    return list(games.values())
