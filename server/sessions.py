"""Browser sign-ins: a random cookie key (stored hashed) and the session's CSRF token.

Signing in with a token on ``/login`` opens a session; the cookie holds the
session key, never the API token, so signing out (or revoking the user) ends it
on the server. Every state-changing form carries the session's CSRF token
(the synchronizer-token pattern); the sign-in form itself, which has no session
yet, uses a double-submit cookie.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, delete, select

from arena.storage import session_factory
from arena.storage.accounts import User, WebSession
from arena.storage.models import utcnow
from server.users import UserInfo, hash_secret, info, new_secret

COOKIE = "arena_session"
LOGIN_CSRF_COOKIE = "arena_login_csrf"


@dataclass(frozen=True)
class SignedIn:
    user: UserInfo
    csrf: str


def open_session(engine: Engine, user_id: int, *, days: float) -> tuple[str, str]:
    """A new session for ``user_id``: ``(cookie key, csrf token)``; expired ones are dropped."""
    key, csrf = new_secret(), new_secret()
    now = utcnow()
    with session_factory(engine).begin() as session:
        session.execute(delete(WebSession).where(WebSession.expires_at < now))
        session.add(
            WebSession(
                user_id=user_id,
                key_hash=hash_secret(key),
                csrf=csrf,
                expires_at=now + timedelta(days=days),
            )
        )
    return key, csrf


def session_user(engine: Engine, key: str | None) -> SignedIn | None:
    """Who the cookie ``key`` signs in, unless it is unknown, expired or revoked."""
    if not key or len(key) > 256:
        return None
    with session_factory(engine)() as session:
        row = session.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.key_hash == hash_secret(key))
        ).first()
        if row is None:
            return None
        web, user = row
        if web.expires_at < utcnow() or user.revoked_at is not None:
            return None
        return SignedIn(info(user), web.csrf)


def close_session(engine: Engine, key: str | None) -> None:
    """End the session of cookie ``key`` (nothing if there is none)."""
    if not key:
        return
    with session_factory(engine).begin() as session:
        session.execute(delete(WebSession).where(WebSession.key_hash == hash_secret(key)))


def same_secret(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of two secrets; a missing one never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
