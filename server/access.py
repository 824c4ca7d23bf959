"""Who is asking, and what they may see.

- The API authenticates with ``Authorization: Bearer TOKEN``; a browser's pages
  with the session cookie. Safe requests (GET) accept either; a state-changing
  API call takes the bearer token only, so a cookie can never be ridden by
  another site's request (and forms carry a CSRF token on top).
- An agent's logs, error texts and submissions are its owner's (the user the
  agent name belongs to) and the organisers'; everyone else sees the public
  part (names, results, forfeit reasons, replays).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from time import monotonic

from fastapi import HTTPException, Request
from sqlalchemy import Engine

from server.guards import StreamSlots
from server.queries import owners
from server.sessions import COOKIE, SignedIn, session_user
from server.settings import Settings
from server.users import UserInfo, user_by_token


@dataclass
class AppState:
    """What every request handler reads: the database, the settings, the limiters."""

    engine: Engine
    settings: Settings
    login_limiter: RateLimiter
    #: Open event streams, per client address and in all (each polls the database).
    streams: StreamSlots
    #: Upload attempts per participant (refused ones count: :func:`server.api.store_upload`).
    upload_attempts: RateLimiter
    #: Set when the server shuts down: event streams end so that Ctrl-C is not held up.
    stopping: threading.Event = field(default_factory=threading.Event)


def app_state(request: Request) -> AppState:
    state = request.app.state.arena
    assert isinstance(state, AppState)
    return state


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def bearer_user(request: Request) -> UserInfo | None:
    """The user of the request's bearer token; None without one.

    Raises:
        HTTPException: 401 for a token that is unknown or revoked.
    """
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("use 'Authorization: Bearer TOKEN'")
    user = user_by_token(app_state(request).engine, token.strip())
    if user is None:
        raise _unauthorized("the token is unknown or revoked")
    return user


def signed_in(request: Request) -> SignedIn | None:
    """The browser session of the request's cookie, if it is valid."""
    return session_user(app_state(request).engine, request.cookies.get(COOKIE))


def viewer(request: Request) -> UserInfo | None:
    """Who a safe (GET) request comes from: the bearer token, else the session; or nobody."""
    user = bearer_user(request)
    if user is not None:
        return user
    session = signed_in(request)
    return None if session is None else session.user


def require_bearer(request: Request) -> UserInfo:
    """The user of a state-changing API call: a bearer token is required.

    Raises:
        HTTPException: 401 without a valid token.
    """
    user = bearer_user(request)
    if user is None:
        raise _unauthorized("this call needs 'Authorization: Bearer TOKEN'")
    return user


def visible_agents(engine: Engine, user: UserInfo | None, names: Iterable[str]) -> set[str]:
    """The agent names among ``names`` whose private texts ``user`` may read."""
    wanted = set(names)
    if user is None:
        return set()
    if user.organiser:
        return wanted
    return {name for name, uid in owners(engine, wanted).items() if uid == user.id}


class RateLimiter:
    """At most ``count`` events per ``window_s`` for one key (an address, a user), in memory."""

    def __init__(self, count: int, window_s: float) -> None:
        self.count, self.window_s = count, window_s
        self._seen: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = monotonic()
        with self._lock:
            recent = [t for t in self._seen.get(key, []) if now - t < self.window_s]
            if len(self._seen) > 10_000:  # forget idle clients rather than grow without bound
                self._seen = {k: v for k, v in self._seen.items() if v and now - v[-1] < 60}
            if len(recent) >= self.count:
                self._seen[key] = recent
                return False
            recent.append(now)
            self._seen[key] = recent
            return True


def client_key(request: Request) -> str:
    """The client's address (behind a proxy: uvicorn's --proxy-headers sets it)."""
    return request.client.host if request.client else "unknown"


def settings_of(request: Request) -> Settings:
    return app_state(request).settings
