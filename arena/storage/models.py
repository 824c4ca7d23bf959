"""The schema. Every match row carries what replays it: env id and version, the
keyword arguments the env was built with, seed, agent versions (content hashes)
and the action log, so a replay reads the match alone.

The tournament tables (``tournaments``, ``runs``, ``planned_games``,
``schedules``) live here with the platform's own, not in ``tournaments/``: the
database has one schema and one migration chain, and every reader (the CLI, the
scheduler, the report, the coming web service) opens it through
:func:`arena.storage.connect`, which upgrades it to one ``HEAD``. Matches point at
their run and ratings count tournament games, so the tables are joined in both
directions; two chains over one database would have to be ordered against each
other on every upgrade. The platform keeps the tournament config as opaque
JSON and does not read its shape: what a match needs later is copied onto the
match row when it is recorded (``Match.env_kwargs``; migration 0003 copied it
once for the matches stored before the column).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Agent(Base):
    """An agent by name; its versions hold the code."""

    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    versions: Mapped[list[AgentVersion]] = relationship(back_populates="agent")


class AgentVersion(Base):
    """One immutable version of an agent, identified by its content hash."""

    __tablename__ = "agent_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    version: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    learning_type: Mapped[str] = mapped_column(String(128), default="")
    source: Mapped[str] = mapped_column(String(16))  # builtin | path | registry | human
    path: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    agent: Mapped[Agent] = relationship(back_populates="versions")


class Tournament(Base):
    __tablename__ = "tournaments"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    env_id: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    source_path: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    runs: Mapped[list[Run]] = relationship(back_populates="tournament")


class Run(Base):
    """One run of a tournament: its plan is fixed when it starts, so it can resume."""

    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("tournament_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tournament_id: Mapped[int] = mapped_column(ForeignKey("tournaments.id"))
    number: Mapped[int]
    # running | interrupted (Ctrl-C; resumes) | finished | abandoned
    status: Mapped[str] = mapped_column(String(16), default="running")
    plan_hash: Mapped[str] = mapped_column(String(64))
    planned: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    tournament: Mapped[Tournament] = relationship(back_populates="runs")


class Match(Base):
    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("run_id", "game_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), index=True)
    game_key: Mapped[str | None] = mapped_column(String(128))
    env_id: Mapped[str] = mapped_column(String(64), index=True)
    env_version: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int]
    steps: Mapped[int]
    duration_s: Mapped[float]
    # Whether the match moved ratings. A match of a role-asymmetric env is rated
    # only with its duplicate pair (:func:`arena.rating.compare_pair`): both rows
    # turn rated when the second is stored, and an unpaired one stays unrated.
    rated: Mapped[bool] = mapped_column(default=True)
    # The id of the first match of its duplicate pair, on both matches of the
    # pair; NULL outside pairs. No foreign key: migration 0004 adds the column
    # to a large table without rewriting it.
    duplicate_id: Mapped[int | None] = mapped_column(index=True)
    actions: Mapped[list[Any]] = mapped_column(JSON)
    # What the env was built with (a tournament's env_kwargs); the server default
    # lets the column be added to a large table without rewriting it.
    env_kwargs: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, server_default=text("'{}'")
    )
    outputs: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    participants: Mapped[list[Participant]] = relationship(
        back_populates="match", order_by="Participant.id"
    )


class Participant(Base):
    """One seat of a match."""

    __tablename__ = "participants"
    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id"), index=True)
    agent_version_id: Mapped[int] = mapped_column(ForeignKey("agent_versions.id"), index=True)
    slot: Mapped[int]  # which of the match's agents (0-based, in side order)
    label: Mapped[str] = mapped_column(String(80))
    seat: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(64))
    team: Mapped[int]
    reward: Mapped[float]
    rank: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(8))  # win | draw | loss
    forfeit_reason: Mapped[str | None] = mapped_column(String(16))
    error_text: Mapped[str | None] = mapped_column(Text)
    match: Mapped[Match] = relationship(back_populates="participants")
    agent_version: Mapped[AgentVersion] = relationship()


class Rating(Base):
    """The current TrueSkill rating of one agent version on one env, in one role.

    ``role`` is ``""`` for the overall rating, the only one symmetric and
    cooperative envs have; role-asymmetric envs also rate each role from its
    role contests (``adversary``, ``agent`` in simple_tag).
    """

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("agent_version_id", "env_id", "role", name="uq_ratings_version_env_role"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_version_id: Mapped[int] = mapped_column(ForeignKey("agent_versions.id"))
    env_id: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(64), default="", server_default=text("''"))
    mu: Mapped[float]
    sigma: Mapped[float]
    games: Mapped[int] = mapped_column(default=0)
    wins: Mapped[int] = mapped_column(default=0)
    draws: Mapped[int] = mapped_column(default=0)
    losses: Mapped[int] = mapped_column(default=0)
    forfeits: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    agent_version: Mapped[AgentVersion] = relationship()


class RatingHistory(Base):
    """A rating after each rated match, for history plots.

    Its role is its rating's; a duplicate pair's updates point at the pair's
    second match, the one whose recording rated the pair.
    """

    __tablename__ = "rating_history"
    __table_args__ = (Index("ix_rating_history_rating", "rating_id", "match_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id"))
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id"))
    mu: Mapped[float]
    sigma: Mapped[float]


class PlannedGame(Base):
    """One game of a run's plan, stored before it is played so a run can resume.

    Formats that pair by results (swiss, knockout, ladder) store each round's
    games when the round is drawn.
    """

    __tablename__ = "planned_games"
    __table_args__ = (UniqueConstraint("run_id", "game_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    game_key: Mapped[str] = mapped_column(String(128))
    round: Mapped[int]
    # Entrant indices in side order; background agent k of a role contest is -1 - k.
    entrants: Mapped[list[int]] = mapped_column(JSON)
    seed: Mapped[int]


class Schedule(Base):
    """A tournament file that the scheduler runs every so often."""

    __tablename__ = "schedules"
    id: Mapped[int] = mapped_column(primary_key=True)
    tournament_id: Mapped[int] = mapped_column(ForeignKey("tournaments.id"), unique=True)
    source_path: Mapped[str] = mapped_column(Text)
    every_s: Mapped[float | None]
    cron: Mapped[str | None] = mapped_column(String(128))
    next_run_at: Mapped[datetime]
    last_run_at: Mapped[datetime | None]
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
