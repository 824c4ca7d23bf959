"""What the agents of one match printed, and who sat where."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select

from arena.storage import models as m
from arena.storage.queries.connection import Bind, connected


class LogSeat(NamedTuple):
    """One participant row of a match, with its agent version's name and version."""

    slot: int
    label: str
    agent: str
    version: str
    seat: str
    role: str
    forfeit_reason: str | None


class MatchOutputs(NamedTuple):
    """A match's stored outputs (label -> text, the arena's note included) and its seats."""

    match_id: int
    env_id: str
    outputs: dict[str, str]
    seats: list[LogSeat]  # in seat order


def match_outputs(bind: Bind, match_id: int) -> MatchOutputs | None:
    """The outputs and seats of match ``match_id``; None when there is none."""
    p, v = m.Participant, m.AgentVersion
    match = select(m.Match.env_id, m.Match.outputs).where(m.Match.id == match_id)
    seats = (
        select(p.slot, p.label, m.Agent.name, v.version, p.seat, p.role, p.forfeit_reason)
        .join(v, v.id == p.agent_version_id)
        .join(m.Agent, m.Agent.id == v.agent_id)
        .where(p.match_id == match_id)
        .order_by(p.id)
    )
    with connected(bind) as conn:
        row = conn.execute(match).first()
        if row is None:
            return None
        stored = [LogSeat(*r) for r in conn.execute(seats)]
    env_id, outputs = row
    return MatchOutputs(match_id, env_id, dict(outputs or {}), stored)
