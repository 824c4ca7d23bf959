"""Stored ratings (one per agent version and env) and their history."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select

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
)


def ratings(bind: Bind, *, env_id: str | None = None) -> list[RatingRow]:
    """Every stored rating (of ``env_id`` only, if given), in storage order."""
    query = select(*_RATING_COLUMNS)
    if env_id is not None:
        query = query.where(m.Rating.env_id == env_id)
    with connected(bind) as conn:
        return [RatingRow(*r) for r in conn.execute(query)]


def version_rating(bind: Bind, content_hash: str, env_id: str) -> RatingRow | None:
    """The rating of the agent version with ``content_hash`` on ``env_id``, if it has one."""
    query = (
        select(*_RATING_COLUMNS)
        .join(m.AgentVersion, m.AgentVersion.id == m.Rating.agent_version_id)
        .where(m.AgentVersion.content_hash == content_hash, m.Rating.env_id == env_id)
    )
    with connected(bind) as conn:
        row = conn.execute(query).first()
    return None if row is None else RatingRow(*row)


class HistoryPoint(NamedTuple):
    """A rating right after one rated match."""

    env_id: str
    hash: str  # the agent version's content hash
    match_id: int
    mu: float
    sigma: float


def history_points(bind: Bind) -> list[HistoryPoint]:
    """Every rating after every rated match, in match order."""
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
    with connected(bind) as conn:
        return [HistoryPoint(*r) for r in conn.execute(query)]
