"""The single writer: a match and its rating update land in one transaction.

Workers return :class:`~arena.result.MatchResult` objects; only the process that
owns a :class:`Recorder` writes. A match's rows, its participants, the rating
updates and their history commit together or not at all.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import Connection, Engine, Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from arena.result import AgentInfo, MatchResult
from arena.storage import models as m
from arena.storage.db import session_factory
from arena.storage.models import utcnow


class MuSigma(NamedTuple):
    mu: float
    sigma: float


class Rater(Protocol):
    """What the recorder needs from a rating system (``tournaments.rating``)."""

    def initial(self) -> Any: ...

    def rate(self, groups: Sequence[Sequence[Any]], ranks: Sequence[int]) -> list[list[Any]]: ...


def ensure_agent_version(session: Session, info: AgentInfo) -> m.AgentVersion:
    """Get or create the rows for an agent version (by content hash)."""
    found = session.scalar(
        select(m.AgentVersion).where(m.AgentVersion.content_hash == info.content_hash)
    )
    if found is not None:
        return found
    agent = session.scalar(select(m.Agent).where(m.Agent.name == info.name))
    if agent is None:
        agent = m.Agent(name=info.name, kind=info.kind)
        session.add(agent)
    version = m.AgentVersion(
        agent=agent,
        version=info.version,
        content_hash=info.content_hash,
        kind=info.kind,
        learning_type=info.learning_type,
        source=info.source,
        path=info.path,
    )
    session.add(version)
    session.flush()
    return version


def is_rated(seats: Sequence[tuple[int, int]]) -> bool:
    """Whether a match with these ``(agent version, team)`` seats moves ratings.

    A version on two opposing teams (self-play) tells nothing about its skill, and
    one team alone has no opponent: such matches are stored, not rated.
    """
    teams_of: dict[int, set[int]] = {}
    for vid, team in seats:
        teams_of.setdefault(vid, set()).add(team)
    n_teams = len({team for _, team in seats})
    return n_teams > 1 and all(len(t) == 1 for t in teams_of.values())


def team_update(
    rater: Rater, seats: Sequence[tuple[int, int, int]], current: dict[int, MuSigma]
) -> dict[int, MuSigma]:
    """New ratings after one match, from ``(agent version, team, rank)`` per seat.

    Each team is one TrueSkill group holding each of its agent versions once, at
    the team's rank (lower is better, equal ranks tie). A member that forfeited
    ranks apart from its teammates, so it forms a group of its own.
    """
    members: dict[tuple[int, int], list[int]] = {}
    for vid, team, rank in seats:
        group = members.setdefault((team, rank), [])
        if vid not in group:
            group.append(vid)
    keys = sorted(members)
    groups = [[current[vid] for vid in members[k]] for k in keys]
    updated = rater.rate(groups, [rank for _, rank in keys])
    return {
        vid: MuSigma(float(new.mu), float(new.sigma))
        for key, group in zip(keys, updated, strict=True)
        for vid, new in zip(members[key], group, strict=True)
    }


# Statements built once: constructing them per match cost more than running them.
_RATING = cast(Table, m.Rating.__table__)
_INSERT_MATCH = insert(m.Match)
_INSERT_PARTICIPANT = insert(m.Participant)
_INSERT_RATING = insert(_RATING)
_INSERT_HISTORY = insert(m.RatingHistory)
# FOR UPDATE keeps concurrent writers on PostgreSQL from losing an update; SQLite
# serialises writers itself and ignores it.
_SELECT_RATINGS = (
    select(_RATING)
    .where(
        _RATING.c.agent_version_id.in_(bindparam("vids", expanding=True)),
        _RATING.c.env_id == bindparam("env"),
    )
    .with_for_update()
)
_UPDATE_RATING = (
    update(_RATING)
    .where(_RATING.c.id == bindparam("rid"))
    .values(
        mu=bindparam("new_mu"),
        sigma=bindparam("new_sigma"),
        games=bindparam("new_games"),
        wins=bindparam("new_wins"),
        draws=bindparam("new_draws"),
        losses=bindparam("new_losses"),
        forfeits=bindparam("new_forfeits"),
        updated_at=bindparam("now"),
    )
)
_MATCH_EXISTS = select(m.Match.id).where(
    m.Match.run_id == bindparam("run"), m.Match.game_key == bindparam("key")
)


class Recorder:
    """Writes matches and rating updates; the arena's only database writer.

    The hot path runs prepared SQLAlchemy Core statements on one connection, a
    handful per match in one transaction, so recording stays cheap next to
    playing (see ``bench/RESULTS.md``).
    """

    def __init__(self, engine: Engine, rater: Rater) -> None:
        self._engine = engine
        self._sessions = session_factory(engine)
        self._rater = rater
        self._version_ids: dict[str, int] = {}
        self._batch: tuple[int, float] | None = None
        self._conn: Connection | None = None
        self._pending = 0
        self._batch_deadline = 0.0

    def _version_ids_for(self, infos: Sequence[AgentInfo]) -> list[int]:
        missing = [i for i in infos if i.content_hash not in self._version_ids]
        if missing:
            with self._sessions.begin() as session:
                for info in missing:
                    if info.content_hash not in self._version_ids:
                        version = ensure_agent_version(session, info)
                        self._version_ids[info.content_hash] = version.id
        return [self._version_ids[i.content_hash] for i in infos]

    def record(
        self, result: MatchResult, *, run_id: int | None = None, game_key: str | None = None
    ) -> int | None:
        """Store one match with its rating update; return the match id.

        A match whose ``(run_id, game_key)`` is already stored is not stored twice:
        the call returns None and changes nothing (a resumed run replaying a game).
        Inside :meth:`batch`, the match commits with the rest of its batch.
        """
        if self._batch is not None and any(
            info.content_hash not in self._version_ids for info in result.agents
        ):
            # New agent versions are written on their own connection: commit the
            # open batch first, or SQLite would make that connection wait for it.
            self.flush()
        version_ids = self._version_ids_for(result.agents)
        if self._batch is not None:
            conn = self._batch_connection()
            match_id = self._record_new(conn, result, version_ids, run_id, game_key)
            self._pending += 1
            if self._pending >= self._batch[0] or time.monotonic() >= self._batch_deadline:
                self.flush()
            return match_id
        try:
            with self._engine.begin() as conn:
                return self._record_new(conn, result, version_ids, run_id, game_key)
        except IntegrityError:
            # Another writer stored the same game first; the unique key kept it single.
            if run_id is None:
                raise
            return None

    def _record_new(
        self,
        conn: Connection,
        result: MatchResult,
        version_ids: list[int],
        run_id: int | None,
        game_key: str | None,
    ) -> int | None:
        if run_id is not None and conn.scalar(_MATCH_EXISTS, {"run": run_id, "key": game_key}):
            return None
        return self._record(conn, result, version_ids, run_id, game_key)

    @contextlib.contextmanager
    def batch(self, *, max_matches: int = 100, max_seconds: float = 0.5) -> Iterator[None]:
        """Commit matches in groups: fewer commits when a series records thousands.

        Each match still lands with its rating update in the same transaction; a
        crash loses at most the open batch, never half a match.
        """
        self._batch = (max_matches, max_seconds)
        try:
            yield
            self.flush()
        finally:
            if self._conn is not None:  # an exception left the batch open: drop it
                self._conn.rollback()
                self._conn.close()
                self._conn = None
            self._batch = None

    def _batch_connection(self) -> Connection:
        if self._conn is None:
            assert self._batch is not None
            self._conn = self._engine.connect()
            self._conn.begin()
            self._batch_deadline = time.monotonic() + self._batch[1]
            self._pending = 0
        return self._conn

    def flush(self) -> None:
        """Commit the open batch, if any."""
        if self._conn is not None:
            self._conn.commit()
            self._conn.close()
            self._conn = None
            self._pending = 0

    def _record(
        self,
        conn: Connection,
        result: MatchResult,
        version_ids: list[int],
        run_id: int | None,
        game_key: str | None,
    ) -> int:
        rated = is_rated([(version_ids[s.side], s.team) for s in result.seats])
        match = {
            "run_id": run_id,
            "game_key": game_key,
            "env_id": result.env_id,
            "env_version": result.env_version,
            "seed": result.seed,
            "steps": result.steps,
            "duration_s": result.duration_s,
            "rated": rated,
            "actions": result.actions,
            "outputs": result.outputs,
            "created_at": utcnow(),
        }
        key = conn.execute(_INSERT_MATCH, match).inserted_primary_key
        assert key is not None
        match_id = int(key[0])
        outcomes = [result.outcome(i) for i in range(len(result.agents))]
        participants = [
            {
                "match_id": match_id,
                "agent_version_id": version_ids[seat.side],
                "slot": seat.side,
                "label": seat.label,
                "seat": seat.seat,
                "role": seat.role,
                "team": seat.team,
                "reward": seat.reward,
                "rank": seat.rank,
                "outcome": outcomes[seat.side],
                "forfeit_reason": seat.forfeit,
                "error_text": seat.error,
            }
            for seat in result.seats
        ]
        conn.execute(_INSERT_PARTICIPANT, participants)
        if rated:
            self._rate(conn, result, match_id, version_ids, outcomes)
        return match_id

    def _rate(
        self,
        conn: Connection,
        result: MatchResult,
        match_id: int,
        version_ids: list[int],
        outcomes: list[str],
    ) -> None:
        vids = list(dict.fromkeys(version_ids))
        env = result.env_id
        rows = {
            r.agent_version_id: r for r in conn.execute(_SELECT_RATINGS, {"vids": vids, "env": env})
        }
        fresh = [vid for vid in vids if vid not in rows]
        if fresh:
            start, now = self._rater.initial(), utcnow()
            blank = {"games": 0, "wins": 0, "draws": 0, "losses": 0, "forfeits": 0}
            conn.execute(
                _INSERT_RATING,
                [
                    {
                        "agent_version_id": vid,
                        "env_id": env,
                        "mu": start.mu,
                        "sigma": start.sigma,
                        "updated_at": now,
                        **blank,
                    }
                    for vid in fresh
                ],
            )
            rows.update(
                (r.agent_version_id, r)
                for r in conn.execute(_SELECT_RATINGS, {"vids": fresh, "env": env})
            )

        seats = [(version_ids[s.side], s.team, s.rank) for s in result.seats]
        current = {vid: MuSigma(rows[vid].mu, rows[vid].sigma) for vid in vids}
        updated = team_update(self._rater, seats, current)

        counts = {vid: {"win": 0, "draw": 0, "loss": 0} for vid in vids}
        for slot, vid in enumerate(version_ids):
            counts[vid][outcomes[slot]] += 1
        forfeited = {version_ids[s.side] for s in result.seats if s.forfeit}
        now = utcnow()
        conn.execute(
            _UPDATE_RATING,
            [
                {
                    "rid": rows[vid].id,
                    "new_mu": updated[vid].mu,
                    "new_sigma": updated[vid].sigma,
                    "new_games": rows[vid].games + sum(counts[vid].values()),
                    "new_wins": rows[vid].wins + counts[vid]["win"],
                    "new_draws": rows[vid].draws + counts[vid]["draw"],
                    "new_losses": rows[vid].losses + counts[vid]["loss"],
                    "new_forfeits": rows[vid].forfeits + (vid in forfeited),
                    "now": now,
                }
                for vid in vids
            ],
        )
        history = [
            {
                "rating_id": rows[vid].id,
                "match_id": match_id,
                "mu": updated[vid].mu,
                "sigma": updated[vid].sigma,
            }
            for vid in vids
        ]
        conn.execute(_INSERT_HISTORY, history)
