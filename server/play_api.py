"""A person plays an agent from the browser: the game API and the /play pages.

- ``POST /api/games {"env", "opponent", "seat"?}`` starts a game,
  ``POST /api/games/ID/moves {"action"}`` plays a move and ``GET /api/games/ID``
  shows it; each answers with the game's state (:meth:`server.games.WebGame.view`).
- The calls that change state take a bearer token, or the session cookie with
  the session's CSRF token in the ``X-CSRF-Token`` header (what /play's script
  sends): another site can neither read the token nor set the header.
- The games run in :class:`server.games.Games`, one per app, closed (and its
  threads joined) when the app shuts down.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, StrictInt

from arena.human import playable_envs
from server.access import app_state, bearer_user, signed_in, viewer
from server.games import GameError, Games, opponents_for
from server.pages import error_page, render
from server.sessions import same_secret
from server.users import UserInfo

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
def game_state(request: Request, game_id: int) -> dict[str, Any]:
    user = viewer(request)
    if user is None:
        raise HTTPException(401, "sign in: 'Authorization: Bearer TOKEN'")
    try:
        return games_of(request.app).get(game_id, user).view()
    except GameError as exc:
        raise _answer(exc) from None


@router.post("/api/games/{game_id}/moves")
def play_move(request: Request, game_id: int, body: MoveBody) -> dict[str, Any]:
    """Play the person's move; answers after the opponent's reply (or the game's end)."""
    user = acting_user(request)
    try:
        return games_of(request.app).move(game_id, user, body.action)
    except GameError as exc:
        raise _answer(exc) from None


@router.get("/play", response_class=HTMLResponse)
def play_index(request: Request) -> HTMLResponse:
    """The envs a person can play in the browser."""
    return render(request, "play.html", session=signed_in(request), env=None, envs=playable_envs())


@router.get("/play/{env_id}", response_class=HTMLResponse)
def play_page(request: Request, env_id: str) -> Response:
    session = signed_in(request)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    if env_id not in playable_envs():
        return error_page(request, 404, f"'{env_id}' cannot be played in the browser")
    opponents = opponents_for(app_state(request).engine, env_id)
    idle = app_state(request).settings.game_idle_s
    return render(
        request,
        "play.html",
        session=session,
        env=env_id,
        envs=None,
        opponents=opponents,
        idle_min=f"{idle / 60:g} minutes" if idle >= 60 else f"{idle:g} s",
    )
