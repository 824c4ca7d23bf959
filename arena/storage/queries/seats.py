"""The seats of stored matches: who sat where, and how each seat ended.

A match has one participant row per seat; a side (an agent's slot) may hold
several seats (a team in MPE). These reads return seat rows; grouping them into
sides, teams or pairings is the callers' logic.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select

from arena.storage import models as m
from arena.storage.queries.connection import Bind, connected


class Seat(NamedTuple):
    """One seat as the leaderboard rates it."""

    vid: int  # agent version id
    slot: int
    team: int
    rank: int
    outcome: str  # win | draw | loss
    forfeit: bool


class MatchSeats(NamedTuple):
    match_id: int
    env_id: str
    seats: list[Seat]  # in seat order


def match_seats(
    bind: Bind,
    *,
    env_id: str | None = None,
    rated: bool | None = None,
    tournament_id: int | None = None,
) -> Iterator[MatchSeats]:
    """Every match in scope with its seats, in play order.

    One query, streamed and grouped as it is read: the leaderboard reads every
    seat of an env at once (``bench/leaderboard_scale.py``), so this must stay a
    single pass, never a query per match.

    Args:
        env_id: only this env's matches.
        rated: only rated (True) or unrated (False) matches.
        tournament_id: only the matches of this tournament's runs.
    """
    p = m.Participant
    query = (
        select(
            p.match_id,
            m.Match.env_id,
            p.agent_version_id,
            p.slot,
            p.team,
            p.rank,
            p.outcome,
            p.forfeit_reason,
        )
        .join(m.Match, m.Match.id == p.match_id)
        .order_by(p.match_id, p.id)
    )
    if tournament_id is not None:
        query = query.join(m.Run, m.Run.id == m.Match.run_id).where(
            m.Run.tournament_id == tournament_id
        )
    if rated is not None:
        query = query.where(m.Match.rated.is_(rated))
    if env_id is not None:
        query = query.where(m.Match.env_id == env_id)
    with connected(bind) as conn:
        current, env, seats = 0, "", list[Seat]()  # match ids start at 1
        for match_id, env_of, vid, slot, team, rank, outcome, forfeit in conn.execute(query):
            if match_id != current:
                if seats:
                    yield MatchSeats(current, env, seats)
                current, env, seats = match_id, env_of, []
            seats.append(Seat(vid, slot, team, rank, outcome, bool(forfeit)))
        if seats:
            yield MatchSeats(current, env, seats)


class RewardSeat(NamedTuple):
    match_id: int
    env_id: str
    agent_version_id: int
    slot: int
    team: int
    reward: float


def seat_rewards(
    bind: Bind, *, rated: bool, env_ids: Sequence[str] | None = None
) -> list[RewardSeat]:
    """The seats of the rated (or unrated) matches, of ``env_ids`` if given, by match.

    Unrated matches are the cooperative envs' (one team) and self-play.
    """
    if env_ids is not None and not env_ids:
        return []
    p = m.Participant
    query = (
        select(p.match_id, m.Match.env_id, p.agent_version_id, p.slot, p.team, p.reward)
        .join(m.Match, m.Match.id == p.match_id)
        .where(m.Match.rated.is_(rated))
        .order_by(p.match_id, p.id)
    )
    if env_ids is not None:
        query = query.where(m.Match.env_id.in_(list(env_ids)))
    with connected(bind) as conn:
        return [RewardSeat(*r) for r in conn.execute(query)]


class OutcomeSeat(NamedTuple):
    match_id: int
    slot: int
    hash: str  # the agent version's content hash
    outcome: str


def rated_outcomes(bind: Bind, env_id: str) -> list[OutcomeSeat]:
    """The seats of ``env_id``'s rated matches with their outcomes (in storage order)."""
    p = m.Participant
    query = (
        select(p.match_id, p.slot, m.AgentVersion.content_hash, p.outcome)
        .join(m.Match, m.Match.id == p.match_id)
        .join(m.AgentVersion, m.AgentVersion.id == p.agent_version_id)
        .where(m.Match.rated.is_(True), m.Match.env_id == env_id)
    )
    with connected(bind) as conn:
        return [OutcomeSeat(*r) for r in conn.execute(query)]


class ForfeitCountRow(NamedTuple):
    env_id: str
    agent: str
    version: str
    reason: str
    matches: int  # distinct matches forfeited for this reason


def forfeit_counts(bind: Bind) -> list[ForfeitCountRow]:
    """Forfeited matches per env, agent version and reason (unordered)."""
    p, v = m.Participant, m.AgentVersion
    n = func.count(func.distinct(p.match_id))
    query = (
        select(m.Match.env_id, m.Agent.name, v.version, p.forfeit_reason, n)
        .join(m.Match, m.Match.id == p.match_id)
        .join(v, v.id == p.agent_version_id)
        .join(m.Agent, m.Agent.id == v.agent_id)
        .where(p.forfeit_reason.is_not(None))
        .group_by(m.Match.env_id, m.Agent.name, v.version, p.forfeit_reason)
    )
    with connected(bind) as conn:
        return [
            ForfeitCountRow(env, agent, version, reason or "", count)  # never NULL: the WHERE
            for env, agent, version, reason, count in conn.execute(query)
        ]


class ListedSeat(NamedTuple):
    """One seat of a match as the match list shows it."""

    match_id: int
    env_id: str
    created_at: datetime
    tournament_id: int | None
    slot: int
    label: str
    outcome: str
    forfeit_reason: str | None


def listed_seats(bind: Bind) -> list[ListedSeat]:
    """Every seat of every match: newest match first, then by slot and seat."""
    p = m.Participant
    query = (
        select(
            m.Match.id,
            m.Match.env_id,
            m.Match.created_at,
            m.Run.tournament_id,
            p.slot,
            p.label,
            p.outcome,
            p.forfeit_reason,
        )
        .join(p, p.match_id == m.Match.id)
        .outerjoin(m.Run, m.Run.id == m.Match.run_id)
        .order_by(m.Match.id.desc(), p.slot, p.id)
    )
    with connected(bind) as conn:
        return [ListedSeat(*r) for r in conn.execute(query)]
