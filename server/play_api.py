"""A person plays an agent from the browser: the game API and the /play pages.

- ``POST /api/games {"env", "opponent", "seat"?}`` starts a game,
  ``POST /api/games/ID/moves {"action"}`` plays a move and ``GET /api/games/ID``
  shows it; each answers with the game's state (:meth:`server.games.WebGame.view`).
- The calls that change state take a bearer token, or the session cookie with
  the session's CSRF token in the ``X-CSRF-Token`` header (what /play's script
  sends): another site can neither read the token nor set the header.
- MPE and Atari games run in real time: the page connects to
  ``/api/games/ID/ws``, sends ``{"action": N}`` for the key it holds and gets
  PNG frames (binary messages) at a fixed tick, then the final state (text).
  A browser's socket is let in by its session cookie when its ``Origin`` is
  this server (another site's page cannot ride the cookie); a script's by a
  bearer token.
- The games run in :class:`server.game_pool.Games`, one per app, closed (and
  its threads joined) when the app shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, StrictInt
from starlette.concurrency import run_in_threadpool

from arena.human import playable_envs, realtime_envs
from arena.registry import env_specs
from server.access import app_state, bearer_user, signed_in, viewer
from server.game_pool import Games
from server.games import GameError, opponents_for
from server.guards import RowId
from server.pages import error_page, render
from server.realtime import RealtimeGame
from server.sessions import COOKIE, same_secret, session_user
from server.users import UserInfo, user_by_token

CSRF_HEADER = "x-csrf-token"
_lock = threading.Lock()


def games_of(app: FastAPI) -> Games:
    """The app's games, made on first use (tests may run the app without its lifespan)."""
    with _lock:
        games = getattr(app.state, "games", None)
        if games is None:
            state = app.state.arena
            games = Games(state.engine, state.settings)
            app.state.games = games
        assert isinstance(games, Games)
        return games


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """On shutdown: running games end unrecorded, opponents close, threads are joined."""
    try:
        yield
    finally:
        games = getattr(app.state, "games", None)
        if isinstance(games, Games):
            games.close()


router = APIRouter(lifespan=lifespan)


class StartBody(BaseModel):
    env: str
    opponent: str
    seat: Literal["first", "second"] = "first"


class MoveBody(BaseModel):
    action: StrictInt


def acting_user(request: Request) -> UserInfo:
    """Who plays: the bearer token's user, else the session's with its CSRF header.

    Raises:
        HTTPException: 401 signed out, 403 a session request without the CSRF header.
    """
    user = bearer_user(request)
    if user is not None:
        return user
    session = signed_in(request)
    if session is None:
        raise HTTPException(
            401,
            "this call needs 'Authorization: Bearer TOKEN' (or a signed-in page)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not same_secret(request.headers.get(CSRF_HEADER), session.csrf):
        raise HTTPException(403, "the X-CSRF-Token header is missing or wrong; reload the page")
    return session.user


def _answer(exc: GameError) -> HTTPException:
    return HTTPException(exc.status, exc.message)


@router.post("/api/games", status_code=201)
def start_game(request: Request, body: StartBody) -> dict[str, Any]:
    """Start a game; answers once the person is to move (or the game is over)."""
    user = acting_user(request)
    try:
        return games_of(request.app).start(user, body.env, body.opponent, body.seat)
    except GameError as exc:
        raise _answer(exc) from None


@router.get("/api/games/{game_id}")
def game_state(request: Request, game_id: RowId) -> dict[str, Any]:
    user = viewer(request)
    if user is None:
        raise HTTPException(401, "sign in: 'Authorization: Bearer TOKEN'")
    try:
        return games_of(request.app).get(game_id, user).view()
    except GameError as exc:
        raise _answer(exc) from None


@router.post("/api/games/{game_id}/moves")
def play_move(request: Request, game_id: RowId, body: MoveBody) -> dict[str, Any]:
    """Play the person's move; answers after the opponent's reply (or the game's end)."""
    user = acting_user(request)
    try:
        return games_of(request.app).move(game_id, user, body.action)
    except GameError as exc:
        raise _answer(exc) from None


def socket_user(websocket: WebSocket) -> UserInfo | None:
    """Who opens a game's socket: a bearer token's user, or a session from this site's page."""
    engine = websocket.app.state.arena.engine
    header = websocket.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        return user_by_token(engine, token.strip()) if scheme.lower() == "bearer" else None
    origin = websocket.headers.get("origin")
    if origin is None or urlsplit(origin).netloc != websocket.headers.get("host"):
        return None  # a page of another site: the cookie would ride along
    session = session_user(engine, websocket.cookies.get(COOKIE))
    return None if session is None else session.user


#: The longest socket message: a key is ``{"action": N}`` (uvicorn would take 16 MiB).
MAX_KEY_MESSAGE = 256
#: How often the socket looks for a frame (and notices the game's end) when none came.
FRAME_POLL_S = 0.25


@router.websocket("/api/games/{game_id}/ws")
async def game_socket(websocket: WebSocket, game_id: RowId) -> None:
    """A real-time game: keys in (``{"action": N}``), PNG frames out; the state (text)
    first, at the start of a pair's second game, and last."""
    user = await run_in_threadpool(socket_user, websocket)
    if user is None:
        await websocket.close(code=1008, reason="sign in first")
        return
    try:
        game = games_of(websocket.app).get(game_id, user)
    except GameError as exc:
        await websocket.close(code=1008, reason=exc.message)
        return
    if not isinstance(game, RealtimeGame) or game.user_id != user.id:
        await websocket.close(code=1008, reason=f"game {game_id} is not a real-time game of yours")
        return
    if not game.connect():
        await websocket.close(code=1008, reason=f"game {game_id} is open on another page; close it")
        return

    async def keys() -> None:
        """Hold each key sent, until a message too long to be one (:data:`MAX_KEY_MESSAGE`)."""
        while True:
            text = await websocket.receive_text()
            if len(text) > MAX_KEY_MESSAGE:
                return
            try:
                message = json.loads(text)
            except ValueError:
                message = None
            try:
                game.hold(message.get("action") if isinstance(message, dict) else None)
            except GameError as exc:
                await websocket.send_json({"error": exc.message})

    listening: asyncio.Task[None] | None = None
    try:
        await websocket.accept()
        await websocket.send_json(game.view())
        listening = asyncio.create_task(keys())
        while not listening.done():
            out = await run_in_threadpool(game.next_out, FRAME_POLL_S)
            if isinstance(out, bytes):
                await websocket.send_bytes(out)
            elif out is not None:  # the second game of a pair begins
                await websocket.send_json(out)
            elif game.done:
                await websocket.send_json(game.view())
                await websocket.close()
                break
        if listening.done() and not listening.cancelled() and listening.exception() is None:
            await websocket.close(code=1009, reason='a key is {"action": N}')
    except WebSocketDisconnect:
        pass
    finally:
        if listening is not None:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
                await listening
        game.disconnect()


@router.get("/play", response_class=HTMLResponse)
def play_index(request: Request) -> HTMLResponse:
    """The envs a person can play in the browser."""
    envs = sorted(playable_envs() + realtime_envs())
    return render(request, "play.html", session=signed_in(request), env=None, envs=envs)


@router.get("/play/{env_id}", response_class=HTMLResponse)
def play_page(request: Request, env_id: str) -> Response:
    session = signed_in(request)
    if session is None:  # back here once signed in
        return RedirectResponse(f"/login?next=/play/{quote(env_id)}", status_code=303)
    realtime = env_id in realtime_envs()
    if not realtime and env_id not in playable_envs():
        return error_page(request, 404, f"'{env_id}' cannot be played in the browser")
    opponents = opponents_for(app_state(request).engine, env_id)
    spec = env_specs()[env_id]
    # What "seat" means on this env: the first or the second side (with its team, in real time).
    sides = [f"{side.role} ({', '.join(side.seats)})" for side in spec.sides[:2]]
    idle = app_state(request).settings.game_idle_s
    return render(
        request,
        "play.html",
        session=session,
        env=env_id,
        envs=None,
        opponents=opponents,
        realtime=realtime,
        sides=sides,
        spec_family=spec.family,
        idle_min=f"{idle / 60:g} minutes" if idle >= 60 else f"{idle:g} s",
    )
