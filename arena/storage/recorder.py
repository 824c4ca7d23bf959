"""The single writer: a match and its rating update land in one transaction.

Workers return :class:`~arena.result.MatchResult` objects; only the process that
owns a :class:`Recorder` writes. A match's rows, its participants, the rating
updates and their history commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from arena.result import AgentInfo, MatchResult
from arena.storage import models as m
from arena.storage.db import session_factory


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


class Recorder:
    """Writes matches and rating updates; the arena's only database writer."""

    def __init__(self, engine: Engine, rater: Rater) -> None:
        self._sessions = session_factory(engine)
        self._rater = rater
        self._version_ids: dict[str, int] = {}

    def _version_id(self, session: Session, info: AgentInfo) -> int:
        vid = self._version_ids.get(info.content_hash)
        if vid is None:
            vid = ensure_agent_version(session, info).id
            self._version_ids[info.content_hash] = vid
        return vid

    def record(
        self, result: MatchResult, *, run_id: int | None = None, game_key: str | None = None
    ) -> int | None:
        """Store one match with its rating update; return the match id.

        A match whose ``(run_id, game_key)`` is already stored is not stored twice:
        the call returns None and changes nothing (a resumed run replaying a game).
        """
        try:
            with self._sessions.begin() as session:
                if run_id is not None and session.scalar(
                    select(m.Match.id).where(m.Match.run_id == run_id, m.Match.game_key == game_key)
                ):
                    return None
                return self._record(session, result, run_id, game_key)
        except IntegrityError:
            # Another writer stored the same game first; the unique key kept it single.
            self._version_ids.clear()
            if run_id is None:
                raise
            return None

    def _record(
        self, session: Session, result: MatchResult, run_id: int | None, game_key: str | None
    ) -> int:
        version_ids = [self._version_id(session, info) for info in result.agents]
        rated = is_rated([(version_ids[s.side], s.team) for s in result.seats])

        match = m.Match(
            run_id=run_id,
            game_key=game_key,
            env_id=result.env_id,
            env_version=result.env_version,
            seed=result.seed,
            steps=result.steps,
            duration_s=result.duration_s,
            rated=rated,
            actions=result.actions,
            outputs=result.outputs,
        )
        session.add(match)
        session.flush()
        outcomes = [result.outcome(i) for i in range(len(result.agents))]
        session.add_all(
            m.Participant(
                match_id=match.id,
                agent_version_id=version_ids[seat.side],
                slot=seat.side,
                label=seat.label,
                seat=seat.seat,
                role=seat.role,
                team=seat.team,
                reward=seat.reward,
                rank=seat.rank,
                outcome=outcomes[seat.side],
                forfeit_reason=seat.forfeit,
                error_text=seat.error,
            )
            for seat in result.seats
        )
        if rated:
            self._rate(session, result, match.id, version_ids, outcomes)
        return match.id

    def _rate(
        self,
        session: Session,
        result: MatchResult,
        match_id: int,
        version_ids: list[int],
        outcomes: list[str],
    ) -> None:
        rows: dict[int, m.Rating] = {}
        for vid in dict.fromkeys(version_ids):
            row = session.scalar(
                select(m.Rating).where(
                    m.Rating.agent_version_id == vid, m.Rating.env_id == result.env_id
                )
            )
            if row is None:
                start = self._rater.initial()
                row = m.Rating(
                    agent_version_id=vid,
                    env_id=result.env_id,
                    mu=start.mu,
                    sigma=start.sigma,
                    games=0,
                    wins=0,
                    draws=0,
                    losses=0,
                    forfeits=0,
                )
                session.add(row)
            rows[vid] = row

        seats = [(version_ids[s.side], s.team, s.rank) for s in result.seats]
        current = {vid: MuSigma(row.mu, row.sigma) for vid, row in rows.items()}
        for vid, new in team_update(self._rater, seats, current).items():
            rows[vid].mu, rows[vid].sigma = new

        forfeited = {version_ids[s.side] for s in result.seats if s.forfeit}
        for slot, vid in enumerate(version_ids):
            row = rows[vid]
            row.games += 1
            outcome = outcomes[slot]
            if outcome == "win":
                row.wins += 1
            elif outcome == "draw":
                row.draws += 1
            else:
                row.losses += 1
            if vid in forfeited:
                row.forfeits += 1
        session.flush()
        session.add_all(
            m.RatingHistory(rating_id=row.id, match_id=match_id, mu=row.mu, sigma=row.sigma)
            for row in rows.values()
        )
