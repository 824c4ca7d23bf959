"""Stored ratings (one per agent version, env and role), their history, and duplicate pairs.

``role`` is ``""`` for the overall rating; role-asymmetric envs also have one
rating per role (see :mod:`arena.storage.recorder`).
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select

from arena.rating import PairSeat
from arena.storage import models as m
from arena.storage.queries.connection import Bind, connected


class RatingRow(NamedTuple):
    env_id: str
    agent_version_id: int
    mu: float
    sigma: float
    games: int
    wins: int
    draws: int
    losses: int
    forfeits: int
    role: str = ""  # "" = overall


_RATING_COLUMNS = (
    m.Rating.env_id,
    m.Rating.agent_version_id,
    m.Rating.mu,
    m.Rating.sigma,
    m.Rating.games,
    m.Rating.wins,
    m.Rating.draws,
    m.Rating.losses,
    m.Rating.forfeits,
    m.Rating.role,
)


def ratings(bind: Bind, *, env_id: str | None = None, role: str | None = None) -> list[RatingRow]:
    """Every stored rating (of ``env_id`` and ``role`` only, if given), in storage order."""
    query = select(*_RATING_COLUMNS)
    if env_id is not None:
        query = query.where(m.Rating.env_id == env_id)
    if role is not None:
        query = query.where(m.Rating.role == role)
    with connected(bind) as conn:
        return [RatingRow._make(r) for r in conn.execute(query)]


def rated_roles(bind: Bind, env_id: str) -> list[str]:
    """The roles ``env_id`` has ratings in ("" = overall), sorted."""
    query = select(m.Rating.role).where(m.Rating.env_id == env_id).distinct()
    with connected(bind) as conn:
        return sorted(str(role) for (role,) in conn.execute(query))


def version_rating(bind: Bind, content_hash: str, env_id: str, role: str = "") -> RatingRow | None:
    """The rating of the agent version with ``content_hash`` on ``env_id`` in ``role``, if any."""
    query = (
        select(*_RATING_COLUMNS)
        .join(m.AgentVersion, m.AgentVersion.id == m.Rating.agent_version_id)
        .where(
            m.AgentVersion.content_hash == content_hash,
            m.Rating.env_id == env_id,
            m.Rating.role == role,
        )
    )
    with connected(bind) as conn:
        row = conn.execute(query).first()
    return None if row is None else RatingRow._make(row)


class HistoryPoint(NamedTuple):
    """A rating right after one rated match."""

    env_id: str
    hash: str  # the agent version's content hash
    match_id: int
    mu: float
    sigma: float


def history_points(bind: Bind, *, role: str | None = "") -> list[HistoryPoint]:
    """Every rating after every rated match, in match order: the overall ratings by
    default, one role's with ``role``, all with ``role=None``."""
    query = (
        select(
            m.Rating.env_id,
            m.AgentVersion.content_hash,
            m.RatingHistory.match_id,
            m.RatingHistory.mu,
            m.RatingHistory.sigma,
        )
        .join(m.Rating, m.Rating.id == m.RatingHistory.rating_id)
        .join(m.AgentVersion, m.AgentVersion.id == m.Rating.agent_version_id)
        .order_by(m.RatingHistory.match_id)
    )
    if role is not None:
        query = query.where(m.Rating.role == role)
    with connected(bind) as conn:
        return [HistoryPoint(*r) for r in conn.execute(query)]


class RatedPair(NamedTuple):
    """A rated duplicate pair: both matches' seats, in match order."""

    env_id: str
    first_id: int
    second_id: int  # the match whose recording rated the pair
    first: list[PairSeat]
    second: list[PairSeat]


def rated_pairs(
    bind: Bind, *, env_id: str | None = None, tournament_id: int | None = None
) -> list[RatedPair]:
    """Every rated duplicate pair in scope, in the order they were rated (by second match).

    Args:
        env_id: only this env's pairs.
        tournament_id: only the pairs of this tournament's runs.
    """
    p = m.Participant
    query = (
        select(
            m.Match.duplicate_id,
            m.Match.id,
            m.Match.env_id,
            p.agent_version_id,
            p.role,
            p.team,
            p.reward,
            p.forfeit_reason,
        )
        .join(p, p.match_id == m.Match.id)
        .where(m.Match.duplicate_id.is_not(None), m.Match.rated.is_(True))
        .order_by(m.Match.duplicate_id, m.Match.id, p.id)
    )
    if env_id is not None:
        query = query.where(m.Match.env_id == env_id)
    if tournament_id is not None:
        query = query.join(m.Run, m.Run.id == m.Match.run_id).where(
            m.Run.tournament_id == tournament_id
        )
    groups: dict[int, tuple[str, dict[int, list[PairSeat]]]] = {}
    with connected(bind) as conn:
        for first, match_id, env, vid, role, team, reward, forfeit in conn.execute(query):
            assert first is not None  # the WHERE
            _, matches = groups.setdefault(first, (env, {}))
            matches.setdefault(match_id, []).append(
                PairSeat(vid, role, team, reward, forfeit is not None)
            )
    pairs = []
    for env, matches in groups.values():
        if len(matches) != 2:
            continue  # cannot happen: the recorder marks both matches at once
        (one, first_seats), (two, second_seats) = sorted(matches.items())
        pairs.append(RatedPair(env, one, two, first_seats, second_seats))
    return sorted(pairs, key=lambda pair: pair.second_id)
