"""The reads the web service needs that the platform's read side does not have yet.

Each takes an engine and returns plain rows. The match list and the agent
listing belong in ``arena/storage/queries/`` (matches.py and agents.py) once the
web service settles; they are here so that this slice touches no platform file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, func, select

from arena.storage import models as m
from arena.storage.accounts import AgentOwner, User
from arena.storage.queries.tournaments import SERIES_FORMAT


class VersionRow(NamedTuple):
    version: str
    hash: str
    kind: str
    source: str
    created_at: datetime


class AgentRow(NamedTuple):
    name: str
    kind: str
    owner: str | None  # the user it belongs to; None for the arena's own (built-ins, CLI)
    created_at: datetime
    versions: list[VersionRow]  # oldest first


def agent_rows(engine: Engine, name: str | None = None) -> list[AgentRow]:
    """Every stored agent (or the one called ``name``) with its versions and owner, by name."""
    v = m.AgentVersion
    query = (
        select(m.Agent.name, m.Agent.kind, m.Agent.created_at, User.name)
        .outerjoin(AgentOwner, AgentOwner.agent_name == m.Agent.name)
        .outerjoin(User, User.id == AgentOwner.user_id)
        .order_by(m.Agent.name)
    )
    versions = (
        select(m.Agent.name, v.version, v.content_hash, v.kind, v.source, v.created_at)
        .join(m.Agent, m.Agent.id == v.agent_id)
        .order_by(v.id)
    )
    if name is not None:
        query = query.where(m.Agent.name == name)
        versions = versions.where(m.Agent.name == name)
    with engine.connect() as conn:
        by_name: dict[str, list[VersionRow]] = {}
        for agent, version, digest, kind, source, created in conn.execute(versions):
            by_name.setdefault(agent, []).append(VersionRow(version, digest, kind, source, created))
        return [
            AgentRow(agent, kind, owner, created, by_name.get(agent, []))
            for agent, kind, created, owner in conn.execute(query)
        ]


def owners(engine: Engine, names: set[str]) -> dict[str, int]:
    """The owning user id of each of these agent names that has one."""
    if not names:
        return {}
    query = select(AgentOwner.agent_name, AgentOwner.user_id).where(
        AgentOwner.agent_name.in_(sorted(names))
    )
    with engine.connect() as conn:
        return {name: uid for name, uid in conn.execute(query)}


class ListedPlayer(NamedTuple):
    label: str
    agent: str
    version: str
    outcome: str
    forfeit: str | None


class ListedMatch(NamedTuple):
    match_id: int
    env_id: str
    seed: int
    steps: int
    created_at: datetime
    tournament: str | None  # None for a single match or an `arena match` series
    players: list[ListedPlayer]  # one per agent (slot), in slot order

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.match_id,
            "env": self.env_id,
            "seed": self.seed,
            "steps": self.steps,
            "created_at": self.created_at.isoformat(),
            "tournament": self.tournament,
            "players": [p._asdict() for p in self.players],
        }


def match_list(
    engine: Engine,
    *,
    env_id: str | None = None,
    agent: str | None = None,
    tournament: str | None = None,
    limit: int = 50,
) -> list[ListedMatch]:
    """The newest matches first, filtered by env, agent name and tournament name."""
    p, v = m.Participant, m.AgentVersion
    ids = (
        select(m.Match.id)
        .outerjoin(m.Run, m.Run.id == m.Match.run_id)
        .outerjoin(m.Tournament, m.Tournament.id == m.Run.tournament_id)
        .order_by(m.Match.id.desc())
        .limit(limit)
    )
    if env_id is not None:
        ids = ids.where(m.Match.env_id == env_id)
    if tournament is not None:
        ids = ids.where(m.Tournament.name == tournament, m.Tournament.format != SERIES_FORMAT)
    if agent is not None:
        played = (
            select(p.match_id)
            .join(v, v.id == p.agent_version_id)
            .join(m.Agent, m.Agent.id == v.agent_id)
            .where(m.Agent.name == agent)
        )
        ids = ids.where(m.Match.id.in_(played))
    query = (
        select(
            m.Match.id,
            m.Match.env_id,
            m.Match.seed,
            m.Match.steps,
            m.Match.created_at,
            m.Tournament.name,
            m.Tournament.format,
            p.slot,
            p.label,
            m.Agent.name,
            v.version,
            p.outcome,
            p.forfeit_reason,
        )
        .join(p, p.match_id == m.Match.id)
        .join(v, v.id == p.agent_version_id)
        .join(m.Agent, m.Agent.id == v.agent_id)
        .outerjoin(m.Run, m.Run.id == m.Match.run_id)
        .outerjoin(m.Tournament, m.Tournament.id == m.Run.tournament_id)
        .where(m.Match.id.in_(ids.scalar_subquery()))
        .order_by(m.Match.id.desc(), p.id)
    )
    matches: dict[int, ListedMatch] = {}
    slots: dict[int, dict[int, ListedPlayer]] = {}
    with engine.connect() as conn:
        for (
            mid,
            env,
            seed,
            steps,
            created,
            tname,
            fmt,
            slot,
            label,
            name,
            version,
            outcome,
            why,
        ) in conn.execute(query):
            if mid not in matches:
                shown = None if fmt == SERIES_FORMAT else tname
                matches[mid] = ListedMatch(mid, env, seed, steps, created, shown, [])
                slots[mid] = {}
            player = slots[mid].get(slot)
            if player is None:
                slots[mid][slot] = ListedPlayer(label, name, version, outcome, why)
            elif why and not player.forfeit:
                slots[mid][slot] = player._replace(forfeit=why)
    for mid, match in matches.items():
        match.players.extend(slots[mid][k] for k in sorted(slots[mid]))
    return list(matches.values())


def match_agents(engine: Engine, match_id: int) -> set[str]:
    """The agent names that played match ``match_id``."""
    p, v = m.Participant, m.AgentVersion
    query = (
        select(m.Agent.name)
        .join(v, v.agent_id == m.Agent.id)
        .join(p, p.agent_version_id == v.id)
        .where(p.match_id == match_id)
        .distinct()
    )
    with engine.connect() as conn:
        return {name for (name,) in conn.execute(query)}


def last_match_id(engine: Engine) -> int:
    """The newest match's id (0 for none): where an event stream starts."""
    with engine.connect() as conn:
        return int(conn.scalar(select(func.max(m.Match.id))) or 0)
