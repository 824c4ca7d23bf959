"""``arena tournament status``: each run's progress, read from the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from arena.errors import ArenaError
from arena.storage.queries.tournaments import find_tournament, run_progress


def tournament_status(engine: Engine, *, name: str | None = None) -> list[dict[str, Any]]:
    """One row per run (newest first within a tournament): planned and played games.

    ``planned`` counts the games drawn so far; formats that pair by results
    (swiss, knockout, ladder) draw a round at a time, so it grows as they go.

    Raises:
        ArenaError: ``name`` is not a stored tournament.
    """
    with engine.connect() as conn:
        if name is not None and find_tournament(conn, name) is None:
            raise ArenaError(f"unknown tournament '{name}' (run 'arena tournament status')")
        rows = run_progress(conn, name=name)
    return [
        {
            "tournament": r.tournament,
            "env": r.env_id,
            "format": r.format,
            "run": r.run,
            "status": r.status,
            "started_at": f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            "finished_at": f"{r.finished_at:%Y-%m-%d %H:%M:%S}" if r.finished_at else None,
            "played": r.played,
            "planned": max(r.planned, r.played),
        }
        for r in rows
    ]
