"""Scheduled tournaments: store a file's ``[schedule]``, then run it whenever it is due.

``schedule_tournament`` validates a tournament file (its entrants included) and
upserts its :class:`~arena.storage.models.Schedule` row; a new schedule's first
run is due at once. ``run_scheduler`` runs every enabled schedule whose
``next_run_at`` has passed, then moves ``next_run_at`` to the first slot strictly
after the time the run ended. Slots of ``every`` are a grid anchored at the
schedule's first slot (so runs do not drift by their own duration); slots of
``cron`` are cron's (in UTC). After downtime a missed tournament runs once, not
once per missed slot. Times are timezone-naive UTC, like the rest of the schema.

After a ladder tournament's run succeeds (and its schedule has moved on), the
scheduler gives new submissions of its env placement matches against its entrants
(:func:`tournaments.placement.place_new_submissions`); a placement problem is
reported with the run and never fails it.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from croniter import croniter
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from arena.errors import ArenaError
from arena.hosts import HostPool
from arena.registry import get_env
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.models import utcnow
from tournaments.config import TournamentConfig, load_tournament
from tournaments.placement import PlacementReport, place_new_submissions
from tournaments.run import TournamentOutcome, prepare_entrants, run_tournament, upsert_tournament

UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# The scheduler wakes at least this often to pick up schedules added meanwhile.
WAKE_S = 60.0


def parse_every(text: str) -> float:
    """Seconds in a duration like ``"30s"``, ``"30m"``, ``"24h"``, ``"7d"`` or ``"1.5h"``."""
    text = text.strip()
    return float(text[:-1].strip()) * UNITS[text[-1]]


def next_run_after(
    now: datetime,
    *,
    every_s: float | None = None,
    cron: str | None = None,
    anchor: datetime | None = None,
) -> datetime:
    """The first slot strictly after ``now``.

    Args:
        now: naive UTC.
        every_s: the interval; its slots are ``anchor + k * every_s``
            (``now + every_s`` without an anchor).
        cron: a five-field cron expression, read in UTC.
        anchor: a past slot of an ``every`` schedule (its previous ``next_run_at``).
    """
    if cron is not None:
        slot: datetime = croniter(cron, now).get_next(datetime)
        return slot
    if every_s is None or every_s <= 0:
        raise ValueError("a schedule needs every_s > 0 or a cron expression")
    step = timedelta(seconds=every_s)
    if anchor is None:
        return now + step
    k = math.floor((now - anchor) / step) + 1
    slot = anchor + k * step
    while slot <= now:  # microsecond rounding
        slot += step
    return slot


@dataclass
class ScheduleInfo:
    """A stored schedule, as ``arena tournament schedule`` reports it."""

    id: int
    tournament: str
    env_id: str
    source_path: str
    every: str | None
    every_s: float | None
    cron: str | None
    enabled: bool
    next_run_at: datetime
    last_run_at: datetime | None
    created_at: datetime
    created: bool  # a new schedule (False: an existing one was updated)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tournament": self.tournament,
            "env": self.env_id,
            "source_path": self.source_path,
            "every": self.every,
            "every_s": self.every_s,
            "cron": self.cron,
            "enabled": self.enabled,
            "next_run_at": self.next_run_at.isoformat(),
            "last_run_at": self.last_run_at.isoformat() if self.last_run_at else None,
            "created_at": self.created_at.isoformat(),
            "created": self.created,
        }


@dataclass
class ScheduledRun:
    """One run the scheduler started: its outcome or its error."""

    tournament: str
    started_at: datetime
    ok: bool
    error: str | None
    played: int
    run: int | None
    resumed: bool
    next_run_at: datetime
    detail: str | None = None  # a traceback, for ``-v``
    # Ladders only (None otherwise): the placement reports after a successful run,
    # or why placement failed (the run itself stays ok).
    placements: list[PlacementReport] | None = None
    placement_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "tournament": self.tournament,
            "started_at": self.started_at.isoformat(),
            "ok": self.ok,
            "error": self.error,
            "played": self.played,
            "run": self.run,
            "next_run_at": self.next_run_at.isoformat(),
        }
        if self.placements is not None or self.placement_error is not None:
            data["placements"] = [p.to_dict() for p in self.placements or ()]
            data["placement_error"] = self.placement_error
        return data


def _timing(config: TournamentConfig) -> tuple[str | None, float | None, str | None]:
    """``(every text, every_s, cron)`` of the file's ``[schedule]``; checks what config does not."""
    path, table = config.path, config.schedule
    if not table:
        raise ArenaError(
            f'{path}: no [schedule] table to schedule (add every = "24h" or cron = "0 3 * * *")'
        )
    if "cron" in table:
        cron = " ".join(table["cron"].split())
        if not croniter.is_valid(cron):
            raise ArenaError(f"{path}: [schedule].cron: not a valid cron expression: {cron!r}")
        return None, None, cron
    every = "".join(table["every"].split())
    every_s = parse_every(every)
    if every_s <= 0:
        raise ArenaError(f"{path}: [schedule].every: must be longer than zero, got {every!r}")
    return every, every_s, None


def schedule_tournament(
    path: Path, *, db_url: str | None = None, now: datetime | None = None
) -> ScheduleInfo:
    """Validate ``path`` (entrants included) and create or update its schedule.

    A new schedule is due at once. Updating one keeps its ``next_run_at`` unless
    the timing changed; then the next run is the new timing's first slot after
    the last run (at once if there was none, or if that slot has passed).

    Raises:
        ArenaError: the file is invalid, has no ``[schedule]`` table, or its
            tournament name is taken on another env.
    """
    config = load_tournament(path)
    every, every_s, cron = _timing(config)
    spec = get_env(config.env_id)
    with HostPool(config.limits) as hosts:
        prepare_entrants(config, spec, hosts)  # a broken entrant fails now, not at 3 am
    now = now or utcnow()
    source_path = str(path.resolve())

    engine = connect(db_url)
    try:
        with session_factory(engine).begin() as session:
            tournament = upsert_tournament(session, path, config)
            schedule = session.scalar(
                select(m.Schedule).where(m.Schedule.tournament_id == tournament.id)
            )
            created = schedule is None
            if schedule is None:
                schedule = m.Schedule(
                    tournament_id=tournament.id,
                    source_path=source_path,
                    every_s=every_s,
                    cron=cron,
                    next_run_at=now,
                    enabled=True,
                    created_at=now,
                )
                session.add(schedule)
            elif (schedule.every_s, schedule.cron) != (every_s, cron):
                schedule.every_s, schedule.cron = every_s, cron
                last = schedule.last_run_at
                first = now if last is None else next_run_after(last, every_s=every_s, cron=cron)
                schedule.next_run_at = max(now, first)  # a passed slot is due at once
            schedule.source_path, schedule.enabled = source_path, True
            session.flush()
            return ScheduleInfo(
                id=schedule.id,
                tournament=tournament.name,
                env_id=tournament.env_id,
                source_path=schedule.source_path,
                every=every,
                every_s=schedule.every_s,
                cron=schedule.cron,
                enabled=schedule.enabled,
                next_run_at=schedule.next_run_at,
                last_run_at=schedule.last_run_at,
                created_at=schedule.created_at,
                created=created,
            )
    finally:
        engine.dispose()


def run_scheduler(
    *,
    db_url: str | None = None,
    once: bool = False,
    on_run: Callable[[ScheduledRun], None] | None = None,
    max_runs: int | None = None,
    stop: Callable[[], bool] | None = None,
    now: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] | None = None,
    run: Callable[..., TournamentOutcome] | None = None,
    place: Callable[..., list[PlacementReport]] | None = None,
) -> list[ScheduledRun]:
    """Run due schedules; with ``once`` return after one pass, else loop.

    A tournament that fails (its file was deleted, an entrant broke) becomes a
    :class:`ScheduledRun` with ``ok=False``; its ``next_run_at`` advances as
    usual and the scheduler goes on. Between passes it sleeps until the earliest
    ``next_run_at``, waking at least every :data:`WAKE_S` seconds. Ctrl-C during
    a run leaves the schedule due, and the next start resumes the unfinished run.

    Args:
        db_url: the database holding the schedules (and the matches).
        once: run what is due now, then return.
        on_run: called with each finished run, as it finishes.
        max_runs: return after this many runs (for tests).
        stop: return when this says so (checked after every run and every sleep).
        now: the clock (naive UTC; default ``utcnow``). Injectable for tests.
        sleep: waits some seconds (default ``time.sleep``).
        run: runs one tournament file (default ``run_tournament``).
        place: places new submissions after a ladder's run (default
            ``place_new_submissions``, with its default targets).

    Returns:
        The runs made (all of them: keep ``max_runs`` or ``stop`` for long loops).
    """
    now, sleep, run = now or utcnow, sleep or time.sleep, run or run_tournament
    place = place or place_new_submissions
    engine = connect(db_url)
    sessions = session_factory(engine)
    runs: list[ScheduledRun] = []

    def finished() -> bool:
        return (max_runs is not None and len(runs) >= max_runs) or (stop is not None and stop())

    try:
        while True:
            with sessions() as session:
                due = session.execute(
                    select(m.Schedule.id, m.Tournament.name, m.Schedule.source_path)
                    .join(m.Tournament, m.Schedule.tournament_id == m.Tournament.id)
                    .where(m.Schedule.enabled, m.Schedule.next_run_at <= now())
                    .order_by(m.Schedule.next_run_at, m.Schedule.id)
                ).all()
            for schedule_id, name, source_path in due:
                result = _run_one(sessions, schedule_id, name, source_path, db_url, now, run, place)
                runs.append(result)
                if on_run is not None:
                    on_run(result)
                if finished():
                    return runs
            if once or finished():
                return runs
            with sessions() as session:
                earliest = session.scalar(
                    select(func.min(m.Schedule.next_run_at)).where(m.Schedule.enabled)
                )
            delay = WAKE_S if earliest is None else (earliest - now()).total_seconds()
            sleep(min(WAKE_S, max(0.0, delay)))
            if finished():
                return runs
    finally:
        engine.dispose()


def _run_one(
    sessions: sessionmaker[Session],
    schedule_id: int,
    name: str,
    source_path: str,
    db_url: str | None,
    now: Callable[[], datetime],
    run: Callable[..., TournamentOutcome],
    place: Callable[..., list[PlacementReport]],
) -> ScheduledRun:
    started = now()
    outcome: TournamentOutcome | None = None
    error = detail = None
    try:
        outcome = run(Path(source_path), db_url=db_url)
    except ArenaError as exc:
        error, detail = " ".join(str(exc).splitlines()), exc.detail
    except Exception as exc:  # a long-running scheduler outlives one tournament's bug
        error = f"{type(exc).__name__}: {' '.join(str(exc).splitlines())}"
        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    with sessions.begin() as session:
        schedule = session.get(m.Schedule, schedule_id)
        if schedule is None:  # removed while it ran
            next_at = now()
        else:
            next_at = next_run_after(
                now(), every_s=schedule.every_s, cron=schedule.cron, anchor=schedule.next_run_at
            )
            schedule.last_run_at, schedule.next_run_at = started, next_at
    # Placement comes after the schedule moved on: Ctrl-C during placement must not
    # leave a finished ladder due (it would start its next run), and placement
    # resumes by itself next time (unsettled versions are still unsettled).
    placements: list[PlacementReport] | None = None
    placement_error = None
    if outcome is not None:
        with sessions() as session:
            fmt = session.scalar(
                select(m.Tournament.format).where(m.Tournament.name == outcome.name)
            )
        if fmt == "ladder":
            try:
                placements = place(db_url, tournament_path=Path(source_path))
            except ArenaError as exc:
                placement_error, detail = " ".join(str(exc).splitlines()), exc.detail
            except Exception as exc:  # as for runs: the scheduler outlives a bug
                placement_error = f"{type(exc).__name__}: {' '.join(str(exc).splitlines())}"
                detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return ScheduledRun(
        tournament=outcome.name if outcome is not None else name,
        started_at=started,
        ok=outcome is not None,
        error=error,
        played=outcome.played if outcome is not None else 0,
        run=outcome.run if outcome is not None else None,
        resumed=outcome.resumed if outcome is not None else False,
        next_run_at=next_at,
        detail=detail,
        placements=placements,
        placement_error=placement_error,
    )
