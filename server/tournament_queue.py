"""Tournaments organisers queue over the API, run one at a time by the worker.

``POST /api/tournaments`` stores the posted TOML under
``$ARENA_HOME/server/tournaments/<id>.toml`` once :func:`load_tournament`
accepts it (so a mistake is a 400 with its line now, not a failed run later);
the worker runs it with :func:`tournaments.run.run_tournament`, the code of
``arena tournament run``, and keeps ``played``/``planned`` current for the
pages and the event stream. Entrants name built-ins or stored packages
(``name@version``); a relative path would be relative to the stored file.
A worker that stops (Ctrl-C) leaves the request ``interrupted``: the next
worker runs the same file again, which resumes the run.

A file with a ``[schedule]`` table is scheduled instead
(:func:`tournaments.schedule.schedule_tournament`, the code of ``arena
tournament schedule``): its request stays ``scheduled`` and shows the latest
run's progress, and the worker runs it whenever it is due
(:func:`run_due_schedule`, through :func:`tournaments.schedule.run_scheduler`,
which also gives a ladder's new submissions their placement matches after each
run). Posting a file of the same tournament again updates its schedule; the
older request becomes ``replaced``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Engine, Select, select, update

from arena.errors import ArenaError
from arena.result import MatchResult
from arena.storage import models as m
from arena.storage import session_factory
from arena.storage.accounts import (
    FAILED,
    FINISHED,
    INTERRUPTED,
    QUEUED,
    RUNNING,
    TournamentRequest,
    User,
)
from arena.storage.models import utcnow
from arena.textsafe import clean_text
from server.settings import MAX_TOURNAMENT_BYTES, Settings
from server.users import UserInfo

if TYPE_CHECKING:
    from tournaments.run import TournamentOutcome
    from tournaments.schedule import ScheduledRun, ScheduleInfo

log = logging.getLogger("arena.server")
SENT_AS = "tournament.toml"
#: Request statuses of scheduled files (beside arena.storage.accounts' for one-off runs):
#: ``scheduled`` runs whenever due; ``replaced``: a newer file of the tournament took over.
SCHEDULED, REPLACED = "scheduled", "replaced"
#: A failed request's error as anyone but an organiser reads it: the text can name
#: the server's folders and an entrant's own error output.
HIDDEN_ERROR = "the run failed; the organisers can read why"


@dataclass(frozen=True)
class RequestView:
    id: int
    user: str
    name: str
    env_id: str
    status: str
    error: str | None
    run: int | None
    played: int
    planned: int
    created_at: datetime
    finished_at: datetime | None
    next_run_at: datetime | None = None  # scheduled requests: when the worker runs it next

    def to_dict(self) -> dict[str, Any]:
        return {
            "tournament": self.id,
            "name": self.name,
            "env": self.env_id,
            "status": self.status,
            "error": self.error,
            "run": self.run,
            "played": self.played,
            "planned": self.planned,
            "user": self.user,
            "created_at": self.created_at.isoformat(),
            "finished_at": None if self.finished_at is None else self.finished_at.isoformat(),
            "next_run_at": None if self.next_run_at is None else self.next_run_at.isoformat(),
        }


def shown_to(view: RequestView, user: UserInfo | None) -> RequestView:
    """``view`` as ``user`` may see it: the error text for organisers only."""
    if view.error is None or (user is not None and user.organiser):
        return view
    return replace(view, error=HIDDEN_ERROR)


def _view(row: TournamentRequest, user: str, next_run_at: datetime | None = None) -> RequestView:
    return RequestView(
        row.id,
        user,
        row.name,
        row.env_id,
        row.status,
        row.error,
        row.run,
        row.played,
        row.planned,
        row.created_at,
        row.finished_at,
        next_run_at if row.status == SCHEDULED else None,
    )


def queue_tournament(
    engine: Engine, settings: Settings, user: UserInfo, body: bytes
) -> RequestView:
    """Check a posted tournament file and queue it.

    Raises:
        ArenaError: too large, not UTF-8, or refused by ``load_tournament`` (the
            message names the file ``tournament.toml``).
    """
    from tournaments.config import load_tournament

    if len(body) > MAX_TOURNAMENT_BYTES:
        raise ArenaError(f"{SENT_AS}: over {MAX_TOURNAMENT_BYTES // 1024} KiB")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ArenaError(f"{SENT_AS}: not UTF-8 text") from None
    folder = settings.tournaments
    folder.mkdir(parents=True, exist_ok=True)
    draft = folder / f".incoming-{secrets.token_hex(8)}.toml"
    draft.write_text(text, encoding="utf-8")
    try:
        config = load_tournament(draft)
    except ArenaError as exc:
        draft.unlink(missing_ok=True)
        raise ArenaError(str(exc).replace(str(draft), SENT_AS)) from None
    if config.schedule:
        return _schedule(engine, settings, user, draft)
    with session_factory(engine).begin() as session:
        row = TournamentRequest(
            user_id=user.id, name=config.name, env_id=config.env_id, path="", status=QUEUED
        )
        session.add(row)
        session.flush()
        dest = folder / f"{row.id}.toml"
        draft.replace(dest)
        row.path = str(dest)
        return _view(row, user.name)


def _schedule(engine: Engine, settings: Settings, user: UserInfo, draft: Path) -> RequestView:
    """Schedule a checked file (entrants too) and store its request as ``scheduled``."""
    from tournaments.schedule import schedule_tournament

    dest = (settings.tournaments / f"schedule-{secrets.token_hex(8)}.toml").resolve()
    draft.replace(dest)
    try:
        info = schedule_tournament(dest, db_url=settings.db_url)
    except ArenaError as exc:
        dest.unlink(missing_ok=True)
        raise ArenaError(str(exc).replace(str(dest), SENT_AS)) from None
    with session_factory(engine).begin() as session:
        session.execute(
            update(TournamentRequest)
            .where(TournamentRequest.name == info.tournament, TournamentRequest.status == SCHEDULED)
            .values(status=REPLACED, finished_at=utcnow())
        )
        row = TournamentRequest(
            user_id=user.id,
            name=info.tournament,
            env_id=info.env_id,
            path=str(dest),
            status=SCHEDULED,
        )
        session.add(row)
        session.flush()
        return _view(row, user.name, info.next_run_at)


def _listed(
    where: ColumnElement[bool] | None = None, *, limit: int = 50
) -> Select[TournamentRequest, str, datetime]:  # the datetime: None without a schedule
    """Requests with their uploader and (scheduled ones) their schedule's next run, newest first."""
    query = (
        select(TournamentRequest, User.name, m.Schedule.next_run_at)
        .join(User, User.id == TournamentRequest.user_id)
        .outerjoin(m.Schedule, m.Schedule.source_path == TournamentRequest.path)
        .order_by(TournamentRequest.id.desc())
        .limit(limit)
    )
    return query if where is None else query.where(where)


def requests(engine: Engine, *, limit: int = 50, name: str | None = None) -> list[RequestView]:
    """The newest tournament requests first (``name``: that tournament's only)."""
    where = None if name is None else TournamentRequest.name == name
    with session_factory(engine)() as session:
        rows = session.execute(_listed(where, limit=limit)).all()
    return [_view(*row) for row in rows]


def get_request(engine: Engine, request_id: int) -> RequestView | None:
    with session_factory(engine)() as session:
        row = session.execute(_listed(TournamentRequest.id == request_id)).first()
    return None if row is None else _view(*row)


def next_to_run(engine: Engine) -> int | None:
    """The oldest request waiting: queued, or interrupted (its run resumes)."""
    with session_factory(engine)() as session:
        return session.scalar(
            select(TournamentRequest.id)
            .where(TournamentRequest.status.in_([QUEUED, INTERRUPTED]))
            .order_by(TournamentRequest.id)
            .limit(1)
        )


def _update(engine: Engine, request_id: int, **values: Any) -> None:
    with session_factory(engine).begin() as session:
        row = session.get_one(TournamentRequest, request_id)
        for key, value in values.items():
            setattr(row, key, value)


def executor_of(settings: Settings) -> dict[str, Any]:
    """Where the worker's tournaments play their matches (``run_tournament``'s options)."""
    return {
        "workers": settings.match_workers,
        "backend": settings.backend,
        "ray_address": settings.ray_address,
    }


def run_request(
    engine: Engine,
    settings: Settings,
    request_id: int,
    *,
    should_stop: Callable[[], bool] = lambda: False,
) -> RequestView:
    """The worker's step: run (or resume) a queued tournament, keeping its progress stored.

    ``should_stop`` is asked after each stored match; when it says so, the run
    stops as on Ctrl-C (marked interrupted, resumable) and the request becomes
    ``interrupted``.
    """
    from tournaments.run import RunInterrupted, run_tournament

    request = get_request(engine, request_id)
    if request is None or request.status not in (QUEUED, INTERRUPTED):
        raise ArenaError(f"no tournament request {request_id} waiting to run")
    with session_factory(engine)() as session:
        path = Path(session.get_one(TournamentRequest, request_id).path)
    _update(engine, request_id, status=RUNNING, started_at=utcnow(), error=None)

    def on_plan(done: int, planned: int) -> None:
        _update(engine, request_id, played=done, planned=planned)

    def on_match(_result: MatchResult, done: int, planned: int) -> None:
        _update(engine, request_id, played=done, planned=planned)
        if should_stop():
            raise KeyboardInterrupt  # the run's own Ctrl-C path: marked interrupted, resumable

    try:
        outcome = run_tournament(
            path,
            db_url=settings.db_url,
            on_match=on_match,
            on_plan=on_plan,
            **executor_of(settings),
        )
    except RunInterrupted as stopped:
        _update(
            engine, request_id, status=INTERRUPTED, played=stopped.stored, planned=stopped.planned
        )
        if not should_stop():
            raise KeyboardInterrupt from None  # a real Ctrl-C: the caller stops too
    except ArenaError as exc:
        error = clean_text(str(exc).replace(str(path), SENT_AS))
        _update(engine, request_id, status=FAILED, error=error, finished_at=utcnow())
    except Exception as exc:
        log.exception("tournament request %s failed", request_id)
        _update(
            engine,
            request_id,
            status=FAILED,
            error=f"the server failed while running it ({type(exc).__name__})",
            finished_at=utcnow(),
        )
    else:
        _update(
            engine,
            request_id,
            status=FINISHED,
            run=outcome.run,
            played=outcome.planned,
            planned=outcome.planned,
            finished_at=utcnow(),
        )
    done = get_request(engine, request_id)
    assert done is not None
    return done


def _every_text(seconds: float | None) -> str | None:
    """``86400.0`` -> ``"1d"``: the largest unit that divides the interval."""
    if seconds is None:
        return None
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def schedules(engine: Engine) -> list[ScheduleInfo]:
    """Every stored schedule (the server's and ``arena tournament schedule``'s), next due first."""
    from tournaments.schedule import ScheduleInfo

    with session_factory(engine)() as session:
        rows = session.execute(
            select(m.Schedule, m.Tournament.name, m.Tournament.env_id)
            .join(m.Tournament, m.Tournament.id == m.Schedule.tournament_id)
            .order_by(m.Schedule.next_run_at, m.Schedule.id)
        ).all()
        return [
            ScheduleInfo(
                id=s.id,
                tournament=name,
                env_id=env_id,
                source_path=s.source_path,
                every=_every_text(s.every_s),
                every_s=s.every_s,
                cron=s.cron,
                enabled=s.enabled,
                next_run_at=s.next_run_at,
                last_run_at=s.last_run_at,
                created_at=s.created_at,
                created=False,
            )
            for s, name, env_id in rows
        ]


def schedule_due(engine: Engine, now: datetime) -> bool:
    """Whether an enabled schedule's next run is at or before ``now`` (cheap: one query)."""
    with session_factory(engine)() as session:
        found = session.scalar(
            select(m.Schedule.id).where(m.Schedule.enabled, m.Schedule.next_run_at <= now).limit(1)
        )
    return found is not None


def run_due_schedule(
    engine: Engine,
    settings: Settings,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    now: Callable[[], datetime] = utcnow,
) -> ScheduledRun | None:
    """The worker's step for schedules: run the most overdue one (None: none is due).

    The run goes through :func:`tournaments.schedule.run_scheduler` (so the
    schedule moves on as ``arena scheduler run`` moves it, and a ladder's new
    submissions get placement matches afterwards). The request that scheduled
    the file, if the server has one, keeps the run's progress. When
    ``should_stop`` says so after a stored match, the run stops as on Ctrl-C:
    marked interrupted, the schedule still due, and :class:`KeyboardInterrupt`
    raised for the worker to stop; the next run resumes it.
    """
    from tournaments.run import RunInterrupted, run_tournament
    from tournaments.schedule import run_scheduler

    if not schedule_due(engine, now()):
        return None

    def run(path: Path, *, db_url: str | None = None) -> TournamentOutcome:
        with session_factory(engine)() as session:
            request_id = session.scalar(
                select(TournamentRequest.id).where(
                    TournamentRequest.path == str(path), TournamentRequest.status == SCHEDULED
                )
            )

        def progress(done: int, planned: int) -> None:
            if request_id is not None:
                _update(engine, request_id, played=done, planned=planned)

        def on_match(_result: MatchResult, done: int, planned: int) -> None:
            progress(done, planned)
            if should_stop():
                raise KeyboardInterrupt  # the run's own Ctrl-C path: marked interrupted

        if request_id is not None:
            _update(engine, request_id, started_at=utcnow(), finished_at=None, error=None)
        try:
            outcome = run_tournament(
                path, db_url=db_url, on_match=on_match, on_plan=progress, **executor_of(settings)
            )
        except RunInterrupted:
            # Not an Exception for the scheduler: a failed run would move the schedule on.
            raise KeyboardInterrupt from None
        except ArenaError as exc:
            if request_id is not None:
                error = clean_text(str(exc).replace(str(path), SENT_AS))
                _update(engine, request_id, error=error, finished_at=utcnow())
            raise
        if request_id is not None:
            _update(
                engine,
                request_id,
                run=outcome.run,
                played=outcome.planned,
                planned=outcome.planned,
                finished_at=utcnow(),
            )
        return outcome

    done = run_scheduler(db_url=settings.db_url, once=True, max_runs=1, now=now, run=run)
    return done[0] if done else None


def place_for_ladders(engine: Engine, settings: Settings) -> list[str]:
    """Placement matches for new submissions against every enabled scheduled ladder.

    The worker calls this once an upload is accepted, so a newcomer is rated
    before the ladder's next run (which places it too, if this was missed).
    Returns one line per ladder that placed someone, or that could not place.
    """
    from tournaments.placement import place_new_submissions

    with session_factory(engine)() as session:
        ladders = session.execute(
            select(m.Tournament.name, m.Schedule.source_path)
            .join(m.Schedule, m.Schedule.tournament_id == m.Tournament.id)
            .where(m.Schedule.enabled, m.Tournament.format == "ladder")
            .order_by(m.Schedule.id)
        ).all()
    lines = []
    for name, source_path in ladders:
        try:
            reports = place_new_submissions(settings.db_url, tournament_path=Path(source_path))
        except ArenaError as exc:
            lines.append(f"placement for '{name}' failed: {clean_text(str(exc))}")
            continue
        for r in reports:
            lines.append(
                f"placement for '{name}': {r.agent} {r.version}: {r.status}, {r.games} games"
            )
    return lines
