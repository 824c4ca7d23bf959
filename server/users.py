"""Users and their API tokens: ``arena user add | list | revoke | token``.

A token is ``secrets.token_urlsafe(32)`` (32 random bytes) and is shown once;
the database keeps its sha256 only. A slow password hash (bcrypt, argon2)
defends guessable secrets against a stolen database; a 256-bit random token
cannot be guessed, so one sha256 is as strong and lets a request find its user
by an indexed lookup of the hash, with no secret compared byte by byte.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select

from arena.errors import ArenaError
from arena.storage import session_factory
from arena.storage.accounts import User, WebSession
from arena.storage.models import utcnow

NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$")


def hash_secret(secret: str) -> str:
    """The sha256 (hex) the database keeps of a token or a session key."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    """32 random bytes, URL-safe: an API token, a session key or a CSRF token."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    organiser: bool
    created_at: datetime
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "organiser": self.organiser,
            "created_at": self.created_at.isoformat(),
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
        }


def info(user: User) -> UserInfo:
    return UserInfo(user.id, user.name, user.organiser, user.created_at, user.revoked_at)


def add_user(engine: Engine, name: str, *, organiser: bool = False) -> tuple[UserInfo, str]:
    """Create user ``name``; return it and its new token (the only time it is shown).

    Raises:
        ArenaError: the name is not 1-48 letters, digits, ``.``, ``_``, ``-``
            (starting with a letter or digit), or is taken.
    """
    if not NAME_RULE.match(name):
        raise ArenaError(
            f"user name {name!r}: use 1-48 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    token = new_secret()
    with session_factory(engine).begin() as session:
        if session.scalar(select(User.id).where(User.name == name)) is not None:
            raise ArenaError(
                f"user '{name}' already exists (arena user token {name} gives it a new token)"
            )
        user = User(name=name, organiser=organiser, token_hash=hash_secret(token))
        session.add(user)
        session.flush()
        return info(user), token


def list_users(engine: Engine) -> list[UserInfo]:
    """Every user, by name."""
    with session_factory(engine)() as session:
        return [info(u) for u in session.scalars(select(User).order_by(User.name))]


def _named(session: Any, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise ArenaError(f"no user '{name}' (arena user list shows them)")
    assert isinstance(user, User)
    return user


def revoke_user(engine: Engine, name: str) -> UserInfo:
    """Revoke ``name``'s token and end its browser sessions; its agents stay its own.

    Raises:
        ArenaError: no such user, or it is already revoked.
    """
    with session_factory(engine).begin() as session:
        user = _named(session, name)
        if user.revoked_at is not None:
            raise ArenaError(f"user '{name}' is already revoked")
        user.revoked_at = utcnow()
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        return info(user)


def reissue_token(engine: Engine, name: str) -> tuple[UserInfo, str]:
    """A new token for ``name`` (the old one stops working; a revoked user is restored).

    Raises:
        ArenaError: no such user.
    """
    token = new_secret()
    with session_factory(engine).begin() as session:
        user = _named(session, name)
        user.token_hash, user.revoked_at = hash_secret(token), None
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        return info(user), token


def user_by_token(engine: Engine, token: str) -> UserInfo | None:
    """The user holding ``token``, unless there is none or it is revoked."""
    if not token or len(token) > 256:
        return None
    with session_factory(engine)() as session:
        user = session.scalar(select(User).where(User.token_hash == hash_secret(token)))
        if user is None or user.revoked_at is not None:
            return None
        return info(user)
