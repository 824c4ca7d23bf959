"""Tournaments, their runs, and how far each run has got."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Subquery, func, select

from arena.storage import models as m
from arena.storage.queries.connection import Bind, connected


class TournamentRef(NamedTuple):
    id: int
    name: str
    env_id: str
    format: str


def find_tournament(bind: Bind, name: str) -> TournamentRef | None:
    """The tournament called ``name``; None when there is none."""
    t = m.Tournament
    query = select(t.id, t.name, t.env_id, t.format).where(t.name == name)
    with connected(bind) as conn:
        row = conn.execute(query).first()
    return None if row is None else TournamentRef(*row)


def tournament_config(bind: Bind, tournament_id: int) -> dict[str, Any] | None:
    """The stored tournament file of tournament ``tournament_id`` (its shape is tournaments/')."""
    query = select(m.Tournament.config).where(m.Tournament.id == tournament_id)
    with connected(bind) as conn:
        config = conn.execute(query).scalar()
    return config if isinstance(config, dict) else None


class TournamentRow(NamedTuple):
    id: int
    name: str
    env_id: str
    format: str
    config: dict[str, Any]  # the tournament file as stored (its shape is tournaments/')


#: The format of the ``tournaments`` rows that hold ``arena match`` series (so that an
#: interrupted series resumes like a run). They are not tournaments anyone entered:
#: the listings below leave them out, and a series is found by its name.
SERIES_FORMAT = "match"


def tournament_rows(bind: Bind) -> list[TournamentRow]:
    """Every tournament (not ``arena match`` series), by name."""
    t = m.Tournament
    query = (
        select(t.id, t.name, t.env_id, t.format, t.config)
        .where(t.format != SERIES_FORMAT)
        .order_by(t.name)
    )
    with connected(bind) as conn:
        return [TournamentRow(*r) for r in conn.execute(query)]


class RunRow(NamedTuple):
    tournament_id: int
    number: int
    status: str  # running | interrupted | finished | abandoned
    planned: int  # the run's planned count as last stored
    played: int  # matches stored under the run
    started_at: datetime


def _played_per_run() -> Subquery:
    """``(run_id, n)``: stored matches per run."""
    return (
        select(m.Match.run_id, func.count().label("n"))
        .where(m.Match.run_id.is_not(None))
        .group_by(m.Match.run_id)
        .subquery()
    )


def run_rows(bind: Bind) -> list[RunRow]:
    """Every tournament's run (not ``arena match`` series'), by tournament id and number."""
    played = _played_per_run()
    r = m.Run
    query = (
        select(
            r.tournament_id,
            r.number,
            r.status,
            r.planned,
            func.coalesce(played.c.n, 0),
            r.started_at,
        )
        .outerjoin(played, played.c.run_id == r.id)
        .join(m.Tournament, m.Tournament.id == r.tournament_id)
        .where(m.Tournament.format != SERIES_FORMAT)
        .order_by(r.tournament_id, r.number)
    )
    with connected(bind) as conn:
        return [RunRow(*row) for row in conn.execute(query)]


class RunProgress(NamedTuple):
    tournament: str
    env_id: str
    format: str
    run: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    played: int  # matches stored under the run
    planned: int  # planned games stored so far (formats that pair by results add rounds)


def run_progress(bind: Bind, *, name: str | None = None) -> list[RunProgress]:
    """Every tournament's run, or the runs of ``name`` only (a tournament or an ``arena
    match`` series): by name, newest run first."""
    played = _played_per_run()
    planned = (
        select(m.PlannedGame.run_id, func.count().label("n"))
        .group_by(m.PlannedGame.run_id)
        .subquery()
    )
    query = (
        select(
            m.Tournament.name,
            m.Tournament.env_id,
            m.Tournament.format,
            m.Run.number,
            m.Run.status,
            m.Run.started_at,
            m.Run.finished_at,
            func.coalesce(played.c.n, 0),
            func.coalesce(planned.c.n, 0),
        )
        .join(m.Run, m.Run.tournament_id == m.Tournament.id)
        .outerjoin(played, played.c.run_id == m.Run.id)
        .outerjoin(planned, planned.c.run_id == m.Run.id)
        .order_by(m.Tournament.name, m.Run.number.desc())
    )
    if name is not None:
        query = query.where(m.Tournament.name == name)
    else:
        query = query.where(m.Tournament.format != SERIES_FORMAT)
    with connected(bind) as conn:
        return [
            RunProgress(name, env, fmt, number, status, started, finished, int(n), int(drawn))
            for name, env, fmt, number, status, started, finished, n, drawn in conn.execute(query)
        ]
