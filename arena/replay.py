"""Replays: a stored match rebuilt move by move from its seed and action log.

The env is built again (with the ``env_kwargs`` stored on the match), reset
with the match seed, and fed the logged actions through the runner's own loop
(:mod:`arena.drive`), so every seat moves when it moved in the match. Text
frames come from the env's text renderer, board views (dicts for the web
viewer) from its board renderer; ``--gif`` frames from its ``rgb_array`` render
mode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from arena.actions import from_log
from arena.drive import Game
from arena.errors import ArenaError
from arena.specs import EnvSpec
from arena.storage.queries.matches import match_record
from arena.textsafe import clean_text


@dataclass
class Ply:
    """One step of a replay: who played what, and the position after it.

    ``number`` 0 is the start position (no moves).
    """

    number: int
    moves: list[tuple[str, str]]  # (seat, move name)
    text: str | None
    board: dict[str, Any] | None = None  # the spec's render_board view, JSON-ready


@dataclass
class Player:
    slot: int
    label: str
    agent: str
    version: str
    seats: list[str]
    reward: float
    outcome: str
    forfeit: str | None
    error: str | None


@dataclass
class MatchRecord:
    """What a stored match holds to be replayed."""

    match_id: int
    env_id: str
    env_version: str
    seed: int
    actions: list[Any]
    env_kwargs: dict[str, Any]
    players: list[Player]
    created_at: str
    tournament: str | None = None
    series: bool = False  # the "tournament" is an `arena match` series


@dataclass
class Replay:
    match: MatchRecord
    plies: list[Ply] = field(default_factory=list)
    frames: list[Any] = field(default_factory=list)  # rgb arrays, for --gif


def load_match(engine: Engine, match_id: int) -> MatchRecord:
    """Read a match's replay data.

    Raises:
        ArenaError: no match has this id.
    """
    stored = match_record(engine, match_id)
    if stored is None:
        raise ArenaError(f"no match with id {match_id} in the database")
    players: dict[int, Player] = {}
    for seat in stored.seats:  # a side may hold several seats (a team)
        player = players.get(seat.slot)
        if player is None:
            player = players[seat.slot] = Player(
                slot=seat.slot,
                label=seat.label,
                agent=seat.agent,
                version=seat.version,
                seats=[],
                reward=0.0,
                outcome=seat.outcome,
                forfeit=None,
                error=None,
            )
        player.seats.append(seat.seat)
        player.reward += seat.reward
        if seat.forfeit_reason:
            player.forfeit, player.error = seat.forfeit_reason, seat.error_text
    return MatchRecord(
        match_id=stored.match_id,
        env_id=stored.env_id,
        env_version=stored.env_version,
        seed=stored.seed,
        actions=stored.actions,
        env_kwargs=stored.env_kwargs,
        players=[players[k] for k in sorted(players)],
        created_at=f"{stored.created_at:%Y-%m-%d %H:%M:%S} UTC",
        tournament=stored.tournament,
        series=stored.series,
    )


def _namer(spec: EnvSpec, env: Any) -> Callable[[str, Any], str]:
    notation = spec.notation

    def name(seat: str, action: Any) -> str:
        if notation is not None:
            try:
                return notation.describe(env, seat, action)
            except Exception:  # a forfeited, illegal action has no name
                pass
        if isinstance(action, list):
            return "[" + ", ".join(f"{x:.3g}" for x in action) + "]"
        return str(action)

    return name


class _EndOfLog(Exception):
    """The log has no more moves: the match ended here (a forfeit, or the step cap)."""


def rebuild(
    spec: EnvSpec,
    record: MatchRecord,
    *,
    env: Any = None,
    text: bool = True,
    board: bool = True,
    rgb: bool = False,
    rgb_every: int = 1,
    encode: Callable[[Any], Any] | None = None,
) -> Replay:
    """Play a stored match's action log again on a fresh (or given) env.

    Args:
        spec: the match's env.
        record: from :func:`load_match`.
        env: an env to reuse (built with the same kwargs); reset here.
        text: render text frames (when the env has a text renderer).
        board: render board views (when the env has a board renderer).
        rgb: collect ``rgb_array`` frames (the env must be built with that mode).
        rgb_every: with ``rgb``, render only every this many-th frame (frames
            0, k, 2k ...: ``frames[i]`` is the position after step ``i * k``).
        encode: with ``rgb``, turn each frame into what is kept (PNG bytes, say),
            so a long match never holds all its raw frames at once.

    Raises:
        ArenaError: the log does not fit the env (another env version).
    """
    if env is None:
        kwargs = dict(record.env_kwargs)
        if rgb:
            kwargs["render_mode"] = "rgb_array"
        env = spec.build(**kwargs)
    render = spec.render_text if text else None
    view = spec.render_board if board else None
    replay = Replay(match=record)
    name = _namer(spec, env)
    actions = record.actions
    moves: list[tuple[str, str]] = []  # (seat, move name) of the step being played

    def snapshot() -> None:
        nonlocal moves
        number = len(replay.plies)
        replay.plies.append(
            Ply(
                number,
                moves,
                render(env) if render is not None else None,
                view(env) if view is not None else None,
            )
        )
        if rgb and number % rgb_every == 0:
            frame = env.render()
            replay.frames.append(encode(frame) if encode is not None else frame)
        moves = []

    def logged(seat: str, obs: Any, mask: Any) -> Any:
        played = len(replay.plies) - 1  # steps done; ply 0 is the start
        if played >= len(actions):
            raise _EndOfLog
        if spec.turn_based:
            logged_seat, action = actions[played]
            if logged_seat != seat:
                raise ArenaError(
                    f"match {record.match_id}: move {played + 1} was logged for {logged_seat} "
                    f"but {seat} is to move (env version changed?)"
                )
        else:
            joint = dict(actions[played])
            if seat not in joint:
                raise ArenaError(
                    f"match {record.match_id}: step {played + 1} has no action logged for "
                    f"{seat} (env version changed?)"
                )
            action = joint[seat]
        moves.append((seat, name(seat, action)))  # named before it is played
        return from_log(env.action_space(seat), action)

    game = Game(spec, env, record.seed)
    snapshot()
    try:
        game.play(logged, after_step=snapshot)
    except _EndOfLog:
        pass
    return replay


def replay_match(
    match_id: int,
    *,
    db_url: str | None = None,
    gif: Path | None = None,
    fps: int = 15,
) -> Replay:
    """Rebuild a stored match; with ``gif``, also write its frames as an animated GIF.

    Raises:
        ArenaError: unknown match, env not installed, or no rgb_array frames for a GIF.
    """
    from arena.registry import get_env
    from arena.storage import connect

    record = load_match(connect(db_url, read_only=True), match_id)
    spec = get_env(record.env_id)
    spec.require()
    if gif is not None and spec.family not in ("mpe", "atari"):
        raise ArenaError(
            f"--gif: {record.env_id} is a {spec.family} game; GIFs are for MPE and Atari "
            "(its moves print as text)"
        )
    replay = rebuild(spec, record, board=False, rgb=gif is not None)  # the terminal shows text
    if gif is not None:
        write_gif(replay.frames, gif, fps=fps)
    return replay


def write_gif(frames: list[Any], path: Path, *, fps: int = 15) -> None:
    """Write rgb frames as an animated GIF (through a temp file: never half-written)."""
    from PIL import Image

    images = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in frames if f is not None]
    if not images:
        raise ArenaError(f"--gif {path}: the env rendered no frames")
    tmp = path.with_name(path.name + ".tmp")
    try:
        images[0].save(
            tmp,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=max(1, 1000 // fps),
            loop=0,
        )
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ArenaError(f"--gif {path}: {exc.strerror or exc}") from None


def describe_players(record: MatchRecord) -> list[str]:
    """One line per agent: seats, name, version, outcome and forfeit (stored text cleaned)."""
    lines = []
    for p in record.players:
        forfeit = f", forfeit: {clean_text(p.forfeit)}" if p.forfeit else ""
        lines.append(
            clean_text(
                f"{', '.join(p.seats)}: {p.label} ({p.agent} {p.version}): {p.outcome}, "
                f"return {p.reward:g}"
            )
            + forfeit
        )
    return lines


def format_replay(replay: Replay) -> str:
    """The whole match as terminal text: header, then every move and position.

    Everything read from the database (labels, names, the error text) passes
    through :func:`~arena.textsafe.clean_text`, rows stored by older versions too,
    so no escape sequence reaches the terminal.
    """
    record = replay.match
    lines = [
        f"match {record.match_id}: {record.env_id} ({record.env_version}), seed {record.seed}",
        f"  played {record.created_at}",
    ]
    if record.tournament:
        # An `arena match` series is stored as a run of its own, not a tournament.
        what = "series" if record.series else "tournament"
        lines.append(f"  {what} '{clean_text(record.tournament)}'")
    lines += ["  " + line for line in describe_players(record)]
    for ply in replay.plies:
        if ply.number == 0:
            lines.append("start")
        else:
            moves = ", ".join(f"{seat} {move}" for seat, move in ply.moves)
            lines.append(clean_text(f"move {ply.number}: {moves}"))  # logged actions too
        if ply.text is not None:
            lines.append(ply.text)
    for p in record.players:
        if p.forfeit:
            error = clean_text(p.error).strip().splitlines()
            lines.append(
                clean_text(f"{p.label} forfeited ({p.forfeit})")
                + (": " + error[-1] if error else "")
            )
    return "\n".join(lines)
