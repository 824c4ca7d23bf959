"""The report's reads that :mod:`arena.storage.queries` does not have yet: SQL only.

They follow that package's form (a :data:`Bind` in, plain typed rows out, no
logic) so they can move there as they are; until then they live beside the one
reader that needs them.

- every agent version (to name versions that share ``name@version``);
- the match list's seats with their agent version;
- a match's captured output and its seats' versions (replay pages);
- a tournament's stored games with the planned seating (rounds, standings);
- forfeits per agent version (not per name and version, which two contents can share).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select

from arena.storage import models as m
from arena.storage.queries.agents import AgentVersionRow
from arena.storage.queries.connection import Bind, connected


def all_versions(bind: Bind) -> dict[int, AgentVersionRow]:
    """Every agent version, by id."""
    v = m.AgentVersion
    query = select(v.id, m.Agent.name, v.version, v.content_hash, v.kind, v.learning_type).join(
        m.Agent, m.Agent.id == v.agent_id
    )
    with connected(bind) as conn:
        return {r[0]: AgentVersionRow(*r[1:]) for r in conn.execute(query)}


class ListedSeat(NamedTuple):
    """One seat of a match as the match list shows it, with its agent version."""

    match_id: int
    env_id: str
    created_at: datetime
    tournament_id: int | None
    slot: int
    label: str
    outcome: str
    forfeit_reason: str | None
    agent_version_id: int


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
            p.agent_version_id,
        )
        .join(p, p.match_id == m.Match.id)
        .outerjoin(m.Run, m.Run.id == m.Match.run_id)
        .order_by(m.Match.id.desc(), p.slot, p.id)
    )
    with connected(bind) as conn:
        return [ListedSeat(*r) for r in conn.execute(query)]


class MatchExtras(NamedTuple):
    """What a replay page shows beside the replay itself."""

    outputs: dict[str, str]  # label -> what the agent printed; the arena's note under NOTE_KEY
    versions: dict[int, int]  # slot -> agent version id


def match_extras(bind: Bind, match_id: int) -> MatchExtras:
    """The captured output and the seats' versions of match ``match_id`` (empty if none)."""
    p = m.Participant
    with connected(bind) as conn:
        outputs = conn.scalar(select(m.Match.outputs).where(m.Match.id == match_id))
        seats = conn.execute(
            select(p.slot, p.agent_version_id).where(p.match_id == match_id).order_by(p.id)
        )
        versions: dict[int, int] = {}
        for slot, vid in seats:
            versions.setdefault(slot, vid)
    return MatchExtras(dict(outputs or {}), versions)


class RunSeat(NamedTuple):
    """One seat of a stored tournament game, with the seating the format planned."""

    run: int  # the run's number
    game_key: str
    match_id: int
    planned: list[int] | None  # entrant indices in side order (None: no planned row)
    slot: int
    rank: int
    agent_version_id: int
    role: str = ""  # the rest: what a duplicate pair's result is computed from
    team: int = 0
    reward: float = 0.0
    forfeit: bool = False


def run_seats(bind: Bind, tournament_id: int) -> list[RunSeat]:
    """Every seat of every stored game of the tournament's runs, by run, match and seat."""
    p, g = m.Participant, m.PlannedGame
    query = (
        select(
            m.Run.number,
            m.Match.game_key,
            m.Match.id,
            g.entrants,
            p.slot,
            p.rank,
            p.agent_version_id,
            p.role,
            p.team,
            p.reward,
            p.forfeit_reason,
        )
        .join(m.Run, m.Run.id == m.Match.run_id)
        .join(p, p.match_id == m.Match.id)
        .outerjoin(g, (g.run_id == m.Match.run_id) & (g.game_key == m.Match.game_key))
        .where(m.Run.tournament_id == tournament_id, m.Match.game_key.is_not(None))
        .order_by(m.Run.number, m.Match.id, p.id)
    )
    with connected(bind) as conn:
        return [
            RunSeat(
                run,
                str(key),
                mid,
                None if planned is None else list(planned),
                slot,
                rank,
                vid,
                str(role),
                int(team),
                float(reward),
                forfeit is not None,
            )
            for run, key, mid, planned, slot, rank, vid, role, team, reward, forfeit in (
                conn.execute(query)
            )
        ]


class ForfeitRow(NamedTuple):
    env_id: str
    agent_version_id: int
    reason: str
    matches: int  # distinct matches forfeited for this reason


def forfeits_by_version(bind: Bind) -> list[ForfeitRow]:
    """Forfeited matches per env, agent version and reason (unordered)."""
    p = m.Participant
    n = func.count(func.distinct(p.match_id))
    query = (
        select(m.Match.env_id, p.agent_version_id, p.forfeit_reason, n)
        .join(m.Match, m.Match.id == p.match_id)
        .where(p.forfeit_reason.is_not(None))
        .group_by(m.Match.env_id, p.agent_version_id, p.forfeit_reason)
    )
    with connected(bind) as conn:
        return [
            ForfeitRow(env, vid, reason or "", count)
            for env, vid, reason, count in conn.execute(query)
        ]
