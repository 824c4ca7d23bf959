"""Leaderboards kept between requests until the stored results change.

A leaderboard at 10,000 matches costs hundreds of milliseconds (the Bradley-Terry
fit and its bootstrap over every match of an env), while the home page and
``GET /api/leaderboard`` are read far more often than matches are recorded. So
each request first reads a cheap fingerprint of what a leaderboard is computed
from (the newest match id and the match count, the rating rows' count and latest
update, the agents' and versions' counts, names and kinds): one query. While it is unchanged,
the rows computed for it are served; a recorded match, by this server's worker,
an ``arena worker`` elsewhere or a CLI on the same database, changes it, and the
next request computes afresh. Concurrent requests for a stale key wait for one
computation instead of each starting their own.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Engine, case, func, select

from arena.storage import models as m
from tournaments.leaderboard import LeaderboardRow, leaderboard

Key = tuple[str | None, str | None, str | None]


def results_fingerprint(engine: Engine) -> tuple[Any, ...]:
    """What changes whenever a leaderboard may change (one round trip).

    Matches and ratings are only ever added or updated (``updated_at``), agents and
    their versions only added; a name or kind edited in the database by hand still
    changes the sums at the end.
    """
    aggregates: list[tuple[type[m.Base], ColumnElement[Any]]] = [
        (m.Match, func.max(m.Match.id)),
        (m.Match, func.count()),
        (m.Rating, func.count()),
        (m.Rating, func.max(m.Rating.updated_at)),
        (m.AgentVersion, func.count()),
        (m.AgentVersion, func.sum(case((m.AgentVersion.kind == "human", 1), else_=0))),
        (m.Agent, func.sum(func.length(m.Agent.name))),
        (m.Agent, func.sum(case((m.Agent.kind == "human", 1), else_=0))),
    ]
    query = select(
        *(select(value).select_from(table).scalar_subquery() for table, value in aggregates)
    )
    with engine.connect() as conn:
        return tuple(conn.execute(query).one())


class _Entry:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stamp: tuple[Any, ...] | None = None
        self.rows: list[LeaderboardRow] = []


class LeaderboardCache:
    """:func:`tournaments.leaderboard.leaderboard`, per engine and query, until the
    engine's :func:`results_fingerprint` changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: weakref.WeakKeyDictionary[Engine, dict[Key, _Entry]] = (
            weakref.WeakKeyDictionary()
        )

    def _entry(self, engine: Engine, key: Key) -> _Entry:
        with self._lock:
            return self._entries.setdefault(engine, {}).setdefault(key, _Entry())

    def rows(
        self,
        engine: Engine,
        *,
        env_id: str | None = None,
        tournament: str | None = None,
        role: str | None = None,
    ) -> list[LeaderboardRow]:
        """The rows ``leaderboard(engine, ...)`` returns now (copies: callers may change them).

        Raises:
            ArenaError: as :func:`leaderboard` (errors are not kept).
        """
        entry = self._entry(engine, (env_id, tournament, role))
        stamp = results_fingerprint(engine)
        with entry.lock:
            if entry.stamp != stamp:
                # The stamp read before computing: a match recorded meanwhile makes the
                # next request compute again rather than keep rows that miss it.
                entry.rows = leaderboard(engine, env_id=env_id, tournament=tournament, role=role)
                entry.stamp = stamp
            return [replace(row) for row in entry.rows]


_shared = LeaderboardCache()


def cached_leaderboard(
    engine: Engine,
    *,
    env_id: str | None = None,
    tournament: str | None = None,
    role: str | None = None,
) -> list[LeaderboardRow]:
    """:func:`tournaments.leaderboard.leaderboard` through the process's shared cache."""
    return _shared.rows(engine, env_id=env_id, tournament=tournament, role=role)
