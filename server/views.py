"""What the API and the pages show of agents and matches, with each viewer's rights applied.

Everything here is JSON-ready and cleaned (:func:`arena.textsafe.clean_text`);
the pages escape it again when they render it.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import Engine

from arena.errors import ArenaError
from arena.logs import logs_of
from arena.registry import env_specs
from arena.replay import MatchRecord, load_match, rebuild
from arena.specs import EnvSpec
from arena.textsafe import clean_text
from server.access import visible_agents
from server.cache import cached_leaderboard
from server.draw_cache import DrawCache
from server.queries import AgentRow, agent_rows, match_list
from server.users import UserInfo

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
    board = [r.to_dict() for r in cached_leaderboard(engine) if r.agent == name]
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
    the agent's owner and organisers); the action log; and the position after
    every step (``frames``), rebuilt by :mod:`arena.replay`: its text (envs
    with a text renderer), its board view (``board``, envs with a board
    renderer, see :mod:`envs.boards`) and, for MPE and Atari, the URL of its
    PNG image (``image``; a match longer than :data:`IMAGE_FRAME_CAP` steps has
    an image every k-th step only, and the steps between show the one before).
    ``replay_error`` says why there are no frames.

    Poker boards show every hand from the first step: the match is over, and
    its seed and action log are public, so the cards are no secret any more
    (the text frames keep :mod:`envs.render`'s rule: the seat to move only).
    Chess boards carry no ``moves`` map (see :func:`replay_boards`).

    Raises:
        NotFound: no match has this id.
        Busy: another match's replay is being rebuilt (kept once rebuilt: :data:`REPLAYS`).
    """
    try:
        record = load_match(engine, match_id)
    except ArenaError as exc:
        raise NotFound(str(exc)) from None
    private = visible_agents(engine, viewer, {p.agent for p in record.players})
    spec = env_specs().get(record.env_id)
    if spec is None:
        replay = Replay(None, f"env '{record.env_id}' is not installed on this server", False)
    else:
        replay = REPLAYS.get(_match_key(engine, match_id), lambda: replayed(spec, record))
    frames, replay_error, images = replay
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
        "board_frames": frames is not None and any(f["board"] is not None for f in frames),
        "image_frames": frames is not None and images,
        "image_every": image_every(len(frames)) if frames is not None and images else None,
        "replay_error": replay_error,
    }


class Replay(NamedTuple):
    """What a match's replay shows: the frames, or why there are none; image frames or not."""

    frames: list[dict[str, Any]] | None
    error: str | None
    images: bool


def replayed(spec: EnvSpec, record: MatchRecord) -> Replay:
    """Rebuild the match's positions (text, board view, image URL) from its action log."""
    try:
        spec.require()
        replay = rebuild(spec, record)
        images = has_image_frames(spec)
        every = image_every(len(replay.plies))
        boards = replay_boards([ply.board for ply in replay.plies])
        frames = [
            {
                "number": ply.number,
                "moves": [[clean_text(seat), clean_text(move)] for seat, move in ply.moves],
                "text": None if ply.text is None else clean_text(ply.text),
                "board": board,
                "image": frame_url(record.match_id, ply.number // every * every)
                if images
                else None,
            }
            for ply, board in zip(replay.plies, boards, strict=True)
        ]
        return Replay(frames, None, images)
    except ArenaError as exc:
        return Replay(None, clean_text(str(exc)), False)
    except Exception as exc:  # an env that cannot replay must not break the page
        log.exception("replaying match %s failed", record.match_id)
        return Replay(None, f"the replay could not be rebuilt ({type(exc).__name__})", False)


#: Replays kept (GET /api/matches/ID rebuilds a match: seconds for an Atari one).
REPLAY_CACHE_MATCHES = 16
REPLAY_CACHE_BYTES = 64 * 2**20
REPLAYS_BUSY = "the server is rebuilding another match's replay; try again in a few seconds"


class ReplayCache(DrawCache[Replay]):
    """The replays of the last few matches asked for (:class:`server.draw_cache.DrawCache`)."""

    def __init__(
        self, matches: int = REPLAY_CACHE_MATCHES, max_bytes: int = REPLAY_CACHE_BYTES
    ) -> None:
        super().__init__(
            matches,
            max_bytes,
            lambda replay: len(json.dumps(replay.frames, default=str)),
            busy=REPLAYS_BUSY,
        )


REPLAYS = ReplayCache()


def replay_boards(boards: list[dict[str, Any] | None]) -> list[dict[str, Any] | None]:
    """Board views as a replay shows them, after the match.

    A chess view drops its ``moves`` map (nobody moves in a replay; it is most
    of a view's size). A poker view gets every seat's hand, taken from the step
    where it showed: a seat's hole cards never change within a match (one
    hand), and a hand shows while its seat is to move (all show at the end), so
    only a seat that never moved stays hidden. A view with a hand filled in
    gains ``"revealed": true``.
    """
    known: dict[str, Any] = {}
    for view in boards:
        if view is not None and view.get("kind") == "cards":
            for seat, hand in view["hands"].items():
                if hand is not None:
                    known.setdefault(seat, hand)
    shown: list[dict[str, Any] | None] = []
    for view in boards:
        if view is not None and view.get("kind") == "chess":
            view = {key: value for key, value in view.items() if key != "moves"}
        elif view is not None and view.get("kind") == "cards" and None in view["hands"].values():
            hands = {seat: hand or known.get(seat) for seat, hand in view["hands"].items()}
            view = {**view, "hands": hands, "revealed": True}
        shown.append(view)
    return shown


# Image frames (MPE, Atari): a PNG per step, rendered once per match and kept in a
# small LRU, since rebuilding an Atari match for every image would take seconds each.
IMAGE_FRAME_CAP = 1000  # images per match at most: a longer match gets one every k-th step
FRAME_CACHE_MATCHES = 4  # matches whose images are kept
FRAME_CACHE_BYTES = 64 * 2**20  # and at most this many PNG bytes in all
FRAMES_BUSY = "the server is drawing another match's images; try again in a few seconds"


def has_image_frames(spec: EnvSpec) -> bool:
    """True for envs shown as images: MPE and Atari render ``rgb_array`` frames."""
    return spec.family in ("mpe", "atari")


def image_every(steps: int) -> int:
    """k: a match of ``steps`` positions has an image for every k-th (at most the cap)."""
    return max(1, -(-steps // IMAGE_FRAME_CAP))


def frame_url(match_id: int, number: int) -> str:
    return f"/api/matches/{match_id}/frames/{number}.png"


def png_bytes(frame: Any) -> bytes:
    """An rgb array as PNG (Pillow, which matplotlib brings and GIF replays use)."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.asarray(frame, dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


class FrameCache(DrawCache[list[bytes]]):
    """The PNG frames of the last few matches asked for, bounded in matches and bytes.

    A viewer asks for several frames of a match at once: the first request
    renders them all while the others wait; requests for another match are
    refused (:class:`Busy`) until it is done (:class:`server.draw_cache.DrawCache`).
    """

    def __init__(self, matches: int = FRAME_CACHE_MATCHES, max_bytes: int = FRAME_CACHE_BYTES):
        super().__init__(
            matches, max_bytes, lambda frames: sum(len(png) for png in frames), busy=FRAMES_BUSY
        )

    def frames(self, engine: Engine, record: MatchRecord, spec: EnvSpec) -> list[bytes]:
        def draw() -> list[bytes]:
            replay = rebuild(
                spec,
                record,
                text=False,
                board=False,
                rgb=True,
                rgb_every=image_every(len(record.actions) + 1),
                encode=png_bytes,
            )
            frames: list[bytes] = replay.frames
            return frames

        return self.get(_match_key(engine, record.match_id), draw)


def _match_key(engine: Engine, match_id: int) -> tuple[str, int]:
    return (engine.url.render_as_string(hide_password=True), match_id)


FRAMES = FrameCache()


def frame_png(engine: Engine, match_id: int, number: int) -> bytes:
    """``GET /api/matches/ID/frames/N.png``: the image of the position after step N.

    Raises:
        NotFound: no such match, its env has no image frames (or is not installed),
            or the match has no image for step N (past its end, or not a multiple
            of :func:`image_every`).
        Busy: another match's images are being drawn.
    """
    try:
        record = load_match(engine, match_id)
    except ArenaError as exc:
        raise NotFound(str(exc)) from None
    spec = env_specs().get(record.env_id)
    if spec is None or not has_image_frames(spec) or spec.missing():
        raise NotFound(f"match {match_id} has no image frames on this server")
    every = image_every(len(record.actions) + 1)
    if not 0 <= number <= len(record.actions) or number % every:
        raise NotFound(f"match {match_id} has no image frame {number}")
    try:
        frames = FRAMES.frames(engine, record, spec)
    except ArenaError as exc:
        raise NotFound(clean_text(str(exc))) from None
    if number // every >= len(frames):  # the log ended early (a forfeit)
        raise NotFound(f"match {match_id} has no image frame {number}")
    return frames[number // every]


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
