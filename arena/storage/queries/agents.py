"""Agents and their versions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import select

from arena.storage import models as m
from arena.storage.queries.connection import Bind, connected


class AgentVersionRow(NamedTuple):
    agent: str  # the agent's name
    version: str
    hash: str  # the content hash: the version's identity
    kind: str
    learning_type: str


def agent_versions(bind: Bind, ids: Iterable[int]) -> dict[int, AgentVersionRow]:
    """The agent versions with these ids, by id (unknown ids are absent)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    v = m.AgentVersion
    query = (
        select(v.id, m.Agent.name, v.version, v.content_hash, v.kind, v.learning_type)
        .join(m.Agent, m.Agent.id == v.agent_id)
        .where(v.id.in_(wanted))
    )
    with connected(bind) as conn:
        return {r[0]: AgentVersionRow(*r[1:]) for r in conn.execute(query)}


def agent_kind(bind: Bind, name: str) -> str | None:
    """The kind of the stored agent called ``name``; None when there is none."""
    with connected(bind) as conn:
        return conn.scalar(select(m.Agent.kind).where(m.Agent.name == name))
