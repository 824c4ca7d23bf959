"""Leaderboards kept between requests until the stored results change.

A leaderboard at 10,000 matches costs hundreds of milliseconds (the Bradley-Terry
fit and its bootstrap over every match of an env), while the home page and
``GET /api/leaderboard`` are read far more often than matches are recorded. So
each request first reads a cheap fingerprint of what a leaderboard is computed
from (the newest match id, the rating rows' count and latest update, the agents'
and versions' counts, names and kinds): one query. While it is unchanged,
the rows computed for it are served; a recorded match, by this server's worker,
an ``arena worker`` elsewhere or a CLI on the same database, changes it, and the
next request computes afresh. Concurrent requests share one fingerprint query
(:class:`SharedProbe`), and those for a stale key wait for one computation
instead of each starting their own.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, case, func, select

from arena.storage import models as m
from tournaments.leaderboard import LeaderboardRow, leaderboard

Key = tuple[str | None, str | None, str | None]


def _fingerprint_query() -> Select[Any]:
    # Each aggregate reads an index or a small table: matches are never deleted, so the
    # newest id tells a new one (a count would scan 10,000 rows on PostgreSQL per request).
    aggregates: list[tuple[type[m.Base], ColumnElement[Any]]] = [
        (m.Match, func.max(m.Match.id)),
        (m.Rating, func.count()),
        (m.Rating, func.max(m.Rating.updated_at)),
        (m.AgentVersion, func.count()),
        (m.AgentVersion, func.sum(case((m.AgentVersion.kind == "human", 1), else_=0))),
        (m.Agent, func.sum(func.length(m.Agent.name))),
        (m.Agent, func.sum(case((m.Agent.kind == "human", 1), else_=0))),
    ]
    return select(
        *(select(value).select_from(table).scalar_subquery() for table, value in aggregates)
    )


_FINGERPRINT = _fingerprint_query()  # built once: it is asked for on every request


def results_fingerprint(engine: Engine) -> tuple[Any, ...]:
    """What changes whenever a leaderboard may change (one round trip).

    Matches are only ever added and ratings added or updated (``updated_at``); agents
    and their versions only added, but a name or kind edited in the database by hand
    still changes the sums.
    """
    with engine.connect() as conn:
        return tuple(conn.execute(_FINGERPRINT).one())


class SharedProbe:
    """Calls of ``probe()`` from many threads share one call that started after them.

    Fifty readers at once would otherwise ask the database fifty times for the same
    fingerprint, and hold (on PostgreSQL: open, then close) as many pooled connections.
    A caller arriving while a call runs waits for the next one, so the answer it gets
    was read after it arrived: never a state older than its request.
    """

    def __init__(self, probe: Callable[[], Any]) -> None:
        self._probe = probe
        self._cond = threading.Condition()
        self._started = 0  # calls begun
        self._done = 0  # the newest call finished
        self._running = False
        self._value: Any = None
        self._error: BaseException | None = None

    def __call__(self) -> Any:
        with self._cond:
            wanted = self._started + 1  # a call that begins after this one arrived
            while self._done < wanted:
                if self._running:
                    self._cond.wait()
                    continue
                self._running, self._started = True, self._started + 1
                number = self._started
                self._cond.release()
                value: Any = None
                error: BaseException | None = None
                try:
                    value = self._probe()
                except BaseException as exc:
                    error = exc
                finally:
                    self._cond.acquire()
                self._running, self._done = False, number
                self._value, self._error = value, error
                self._cond.notify_all()
            if self._error is not None:
                raise self._error
            return self._value


class _Entry:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stamp: tuple[Any, ...] | None = None
        self.rows: list[LeaderboardRow] = []


class _EngineCache:
    def __init__(self, engine: Engine) -> None:
        self.entries: dict[Key, _Entry] = {}
        # A weak reference: the cache must not keep a disposed engine alive.
        ref = weakref.ref(engine)
        self.fingerprint = SharedProbe(lambda: results_fingerprint(_alive(ref)))


def _alive(ref: weakref.ref[Engine]) -> Engine:
    engine = ref()
    assert engine is not None, "the cache's engine is gone"
    return engine


class LeaderboardCache:
    """:func:`tournaments.leaderboard.leaderboard`, per engine and query, until the
    engine's :func:`results_fingerprint` changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engines: weakref.WeakKeyDictionary[Engine, _EngineCache] = weakref.WeakKeyDictionary()

    def _entry(self, engine: Engine, key: Key) -> tuple[_EngineCache, _Entry]:
        with self._lock:
            cache = self._engines.get(engine)
            if cache is None:
                cache = self._engines[engine] = _EngineCache(engine)
            return cache, cache.entries.setdefault(key, _Entry())

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
        key = (env_id, tournament, role)
        cache, entry = self._entry(engine, key)
        stamp = cache.fingerprint()
        with entry.lock:
            if entry.stamp != stamp:
                # The stamp read before computing: a match recorded meanwhile makes the
                # next request compute again rather than keep rows that miss it.
                try:
                    entry.rows = leaderboard(
                        engine, env_id=env_id, tournament=tournament, role=role
                    )
                except Exception:
                    if entry.stamp is None:  # no entry per bad query string (unbounded)
                        with self._lock:
                            cache.entries.pop(key, None)
                    raise
                entry.stamp = stamp
            return [replace(row) for row in entry.rows]

    def size(self, engine: Engine) -> int:
        """How many queries are kept for ``engine``."""
        with self._lock:
            cache = self._engines.get(engine)
            return 0 if cache is None else len(cache.entries)


#: The cache of the home page and ``GET /api/leaderboard``.
SHARED = LeaderboardCache()


def cached_leaderboard(
    engine: Engine,
    *,
    env_id: str | None = None,
    tournament: str | None = None,
    role: str | None = None,
) -> list[LeaderboardRow]:
    """:func:`tournaments.leaderboard.leaderboard` through the process's shared cache."""
    return SHARED.rows(engine, env_id=env_id, tournament=tournament, role=role)
