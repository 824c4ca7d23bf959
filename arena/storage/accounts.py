"""The web service's tables (``arena serve``): users, sessions, uploads, name owners, queues.

They live on the platform's one ``Base`` and migration chain (migration 0005),
like the tournament tables, so the CLI, ``arena serve`` and ``arena worker``
open one schema at one ``HEAD``. Nothing in the platform reads them; the
``server`` package does.

- ``users``: a person with an API token. Only the sha256 of the token is
  stored: tokens are 32 random bytes (``secrets.token_urlsafe``), so a fast
  hash is enough (nothing to brute-force), and a stolen database yields no token.
- ``web_sessions``: a browser sign-in (the cookie's random key, hashed) with
  its CSRF token.
- ``submissions``: one uploaded package archive and its check's outcome.
- ``agent_owners``: which user an agent name belongs to (the first to submit
  it). Keyed by name, not by ``agents.id``: the claim is taken before the check
  stores the agent's first version.
- ``tournament_requests``: tournament files organisers queued for the worker.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from arena.storage.models import Base, utcnow

#: Submission statuses.
CHECKING, ACCEPTED, REFUSED = "checking", "accepted", "refused"
#: Tournament request statuses; ``interrupted`` is picked up again, and resumes its run.
QUEUED, RUNNING, FINISHED, FAILED, INTERRUPTED = (
    "queued",
    "running",
    "finished",
    "failed",
    "interrupted",
)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(48), unique=True)
    organiser: Mapped[bool] = mapped_column(default=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the cookie
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_user_created", "user_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), index=True)  # checking | accepted | refused
    agent: Mapped[str | None] = mapped_column(String(64))  # from the manifest, once read
    version: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)  # why refused, or "already submitted"
    detail: Mapped[str | None] = mapped_column(Text)  # the agent's traceback, for its uploader
    filename: Mapped[str] = mapped_column(String(128))  # as uploaded (checked safe)
    path: Mapped[str] = mapped_column(Text)  # where the server keeps the upload
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_at: Mapped[datetime | None]


class AgentOwner(Base):
    __tablename__ = "agent_owners"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_name: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TournamentRequest(Base):
    __tablename__ = "tournament_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(128))
    env_id: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)  # the stored tournament file
    # queued | running | finished | failed | interrupted
    status: Mapped[str] = mapped_column(String(16), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    run: Mapped[int | None]
    played: Mapped[int] = mapped_column(default=0)
    planned: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
