"""``arena tournament status``: each run's progress, read from the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from arena.errors import ArenaError
from arena.storage import models as m


def tournament_status(engine: Engine, *, name: str | None = None) -> list[dict[str, Any]]:
    """One row per run (newest first within a tournament): planned and played games.

    ``planned`` counts the games drawn so far; formats that pair by results
    (swiss, knockout, ladder) draw a round at a time, so it grows as they go.

    Raises:
        ArenaError: ``name`` is not a stored tournament.
    """
    played = (
        select(m.Match.run_id, func.count().label("n"))
        .where(m.Match.run_id.is_not(None))
        .group_by(m.Match.run_id)
        .subquery()
    )
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
    with engine.connect() as conn:
        if name is not None:
            exists = conn.scalar(select(m.Tournament.id).where(m.Tournament.name == name))
            if exists is None:
                raise ArenaError(f"unknown tournament '{name}' (run 'arena tournament status')")
            query = query.where(m.Tournament.name == name)
        rows = conn.execute(query).all()
    return [
        {
            "tournament": r[0],
            "env": r[1],
            "format": r[2],
            "run": r[3],
            "status": r[4],
            "started_at": f"{r[5]:%Y-%m-%d %H:%M:%S}",
            "finished_at": f"{r[6]:%Y-%m-%d %H:%M:%S}" if r[6] else None,
            "played": int(r[7]),
            "planned": max(int(r[8]), int(r[7])),
        }
        for r in rows
    ]
