"""``arena logs``: what each agent printed in a stored match.

The sandbox captures what an agent writes to stdout and stderr (the first
64 KiB of each match; a built-in's prints too) and the recorder stores it with
the match, keyed by the agent's label. The arena's own note about the match
(what it could not store, and why) is kept under
:data:`~arena.storage.recorder.NOTE_KEY` and shown apart from the agents'.
The CLI and the web service read a match's logs through :func:`logs_of`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from arena.errors import ArenaError
from arena.storage.queries.connection import Bind
from arena.storage.queries.logs import match_outputs
from arena.storage.recorder import NOTE_KEY


@dataclass
class AgentLog:
    """What one agent of a match printed, and where it sat."""

    label: str  # the agent's label in the match (``random#2`` for a second copy)
    agent: str
    version: str
    seats: list[str]
    roles: list[str]
    forfeit: str | None  # its forfeit reason, if it forfeited
    output: str  # what it printed ("" for nothing)


@dataclass
class MatchLogs:
    """The agents' output of one match, and the arena's note about it."""

    match_id: int
    env_id: str
    agents: list[AgentLog]
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "match_id": self.match_id,
            "env": self.env_id,
            "agents": [asdict(a) for a in self.agents],
            "note": self.note,
        }


def logs_of(bind: Bind, match_id: int, agent: str | None = None) -> MatchLogs:
    """The logs of match ``match_id``, of every agent or of ``agent`` alone.

    ``agent`` is a label of the match (``random#2``), an agent name (every copy
    of it) or ``name@version``.

    Raises:
        ArenaError: no such match, or no such agent in it (the line names its agents).
    """
    stored = match_outputs(bind, match_id)
    if stored is None:
        raise ArenaError(f"no match with id {match_id} in the database")
    outputs = dict(stored.outputs)
    note = outputs.pop(NOTE_KEY, None)
    logs: dict[str, AgentLog] = {}
    for seat in stored.seats:
        log = logs.get(seat.label)
        if log is None:
            log = logs[seat.label] = AgentLog(
                seat.label, seat.agent, seat.version, [], [], None, outputs.pop(seat.label, "")
            )
        log.seats.append(seat.seat)
        if seat.role not in log.roles:
            log.roles.append(seat.role)
        log.forfeit = log.forfeit or seat.forfeit_reason
    for label, text in outputs.items():  # output under a label no seat has (never expected)
        logs[label] = AgentLog(label, label, "", [], [], None, text)
    chosen = list(logs.values())
    if agent is not None:
        chosen = [a for a in chosen if agent in (a.label, a.agent, f"{a.agent}@{a.version}")]
        if not chosen:
            raise ArenaError(
                f"match {match_id} has no agent '{agent}' (its agents: {', '.join(logs)})"
            )
    return MatchLogs(stored.match_id, stored.env_id, chosen, note)


def match_logs(match_id: int, agent: str | None = None, *, db_url: str | None = None) -> MatchLogs:
    """:func:`logs_of` on the database at ``db_url``, opened read-only."""
    from arena.storage import connect

    return logs_of(connect(db_url, read_only=True), match_id, agent)


def format_logs(logs: MatchLogs) -> list[str]:
    """The lines ``arena logs`` prints (not yet cleaned: the caller's writer cleans them)."""
    where = f"match {logs.match_id} ({logs.env_id})"
    lines: list[str] = []
    if not any(a.output for a in logs.agents):
        if len(logs.agents) == 1:
            lines.append(f"{where}: {_who(logs.agents[0])} printed nothing")
        else:
            lines.append(f"{where}: no agent printed anything")
    else:
        lines.append(where)
        for log in logs.agents:
            if not log.output:
                lines.append(f"== {_who(log)}: printed nothing ==")
                continue
            lines.append(f"== {_who(log)} ==")
            lines.extend(log.output.rstrip("\n").split("\n"))
    if logs.note:
        lines.append("== the arena's note on this match ==")
        lines.extend(logs.note.rstrip("\n").split("\n"))
    return lines


def _who(log: AgentLog) -> str:
    seats = f" ({', '.join(log.seats)})" if log.seats else ""
    forfeit = f", forfeited: {log.forfeit}" if log.forfeit else ""
    return f"{log.label}{seats}{forfeit}"
