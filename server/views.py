"""What the API and the pages show of agents and matches, with each viewer's rights applied.

Everything here is JSON-ready and cleaned (:func:`arena.textsafe.clean_text`);
the pages escape it again when they render it.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine

from arena.errors import ArenaError
from arena.logs import logs_of
from arena.registry import env_specs
from arena.replay import load_match, rebuild
from arena.textsafe import clean_text
from server.access import visible_agents
from server.queries import AgentRow, agent_rows, match_list
from server.users import UserInfo
from tournaments.leaderboard import LeaderboardRow, leaderboard

log = logging.getLogger("arena.server")


class NotFound(Exception):
    """The thing asked for does not exist (HTTP 404)."""


class Forbidden(Exception):
    """The viewer may not see it (HTTP 403)."""


def agents_list(engine: Engine) -> list[dict[str, Any]]:
    """``GET /api/agents``: every agent, its kind, owner and versions (no server paths)."""
    return agents_list_of(agent_rows(engine))


def agent_detail(engine: Engine, name: str) -> dict[str, Any]:
    """``GET /api/agents/NAME``: the agent, its ratings on every env, its recent matches.

    Raises:
        NotFound: no agent has this name.
    """
    rows = agent_rows(engine, name)
    if not rows:
        raise NotFound(f"no agent '{name}'")
    listed = agents_list_of(rows)[0]
    board = [r.to_dict() for r in leaderboard(engine) if r.agent == name]
    matches = [x.to_dict() for x in match_list(engine, agent=name, limit=20)]
    return {**listed, "ratings": board, "matches": matches}


def agents_list_of(rows: list[AgentRow]) -> list[dict[str, Any]]:
    return [
        {
            "name": row.name,
            "kind": row.kind,
            "owner": row.owner,
            "created_at": row.created_at.isoformat(),
            "versions": [
                {
                    "version": v.version,
                    "hash": v.hash,
                    "kind": v.kind,
                    "source": v.source,
                    "created_at": v.created_at.isoformat(),
                }
                for v in row.versions
            ],
        }
        for row in rows
    ]


def match_detail(engine: Engine, match_id: int, viewer: UserInfo | None) -> dict[str, Any]:
    """``GET /api/matches/ID``: what a replay viewer needs.

    Env, version, kwargs and seed; the players (a forfeit's error text only to
    the agent's owner and organisers); the action log; and, for envs with a text
    renderer, the text frame after every step (``frames``), rebuilt by
    :mod:`arena.replay`. ``replay_error`` says why there are no frames.

    Raises:
        NotFound: no match has this id.
    """
    try:
        record = load_match(engine, match_id)
    except ArenaError as exc:
        raise NotFound(str(exc)) from None
    private = visible_agents(engine, viewer, {p.agent for p in record.players})
    frames: list[dict[str, Any]] | None = None
    replay_error: str | None = None
    spec = env_specs().get(record.env_id)
    if spec is None:
        replay_error = f"env '{record.env_id}' is not installed on this server"
    else:
        try:
            spec.require()
            replay = rebuild(spec, record)
            frames = [
                {
                    "number": ply.number,
                    "moves": [[clean_text(seat), clean_text(move)] for seat, move in ply.moves],
                    "text": None if ply.text is None else clean_text(ply.text),
                }
                for ply in replay.plies
            ]
        except ArenaError as exc:
            replay_error = clean_text(str(exc))
        except Exception as exc:  # an env that cannot replay must not break the page
            log.exception("replaying match %s failed", match_id)
            replay_error = f"the replay could not be rebuilt ({type(exc).__name__})"
    return {
        "id": record.match_id,
        "env": record.env_id,
        "env_version": record.env_version,
        "env_kwargs": record.env_kwargs,
        "seed": record.seed,
        "created_at": record.created_at,
        "tournament": None if record.series else record.tournament,
        "players": [
            {
                "slot": p.slot,
                "label": clean_text(p.label),
                "agent": clean_text(p.agent),
                "version": clean_text(p.version),
                "seats": p.seats,
                "reward": p.reward,
                "outcome": p.outcome,
                "forfeit": p.forfeit,
                "error": clean_text(p.error) if p.error and p.agent in private else None,
            }
            for p in record.players
        ],
        "actions": record.actions,
        "frames": frames,
        "text_frames": frames is not None and any(f["text"] is not None for f in frames),
        "replay_error": replay_error,
    }


def match_logs(
    engine: Engine, match_id: int, viewer: UserInfo | None, agent: str | None = None
) -> dict[str, Any]:
    """``GET /api/matches/ID/logs``: the captured output of the viewer's own agents in it
    (every agent's, and the arena's note, for organisers).

    Raises:
        NotFound: no such match, or no such agent in it.
        Forbidden: the viewer owns none of the agents asked for.
    """
    try:
        logs = logs_of(engine, match_id, agent)
    except ArenaError as exc:
        raise NotFound(str(exc)) from None
    allowed = visible_agents(engine, viewer, {a.agent for a in logs.agents})
    shown = [a for a in logs.agents if a.agent in allowed]
    if not shown:
        raise Forbidden("only an agent's owner and the organisers may read its logs")
    data = logs.to_dict()
    data["agents"] = [
        {**a, "output": clean_text(a["output"])} for a in data["agents"] if a["agent"] in allowed
    ]
    data["note"] = clean_text(logs.note) if logs.note and viewer and viewer.organiser else None
    return data


def board_rows(
    engine: Engine, env_id: str | None = None, role: str | None = None
) -> list[LeaderboardRow]:
    """The leaderboard rows ``arena leaderboard`` prints (the same function)."""
    return leaderboard(engine, env_id=env_id, role=role)
