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
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from arena.errors import ArenaError
from arena.result import MatchResult
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

log = logging.getLogger("arena.server")
SENT_AS = "tournament.toml"


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
        }


def _view(row: TournamentRequest, user: str) -> RequestView:
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


def requests(engine: Engine, *, limit: int = 50) -> list[RequestView]:
    """The newest tournament requests first."""
    with session_factory(engine)() as session:
        rows = session.execute(
            select(TournamentRequest, User.name)
            .join(User, User.id == TournamentRequest.user_id)
            .order_by(TournamentRequest.id.desc())
            .limit(limit)
        ).all()
    return [_view(*row) for row in rows]


def get_request(engine: Engine, request_id: int) -> RequestView | None:
    with session_factory(engine)() as session:
        row = session.execute(
            select(TournamentRequest, User.name)
            .join(User, User.id == TournamentRequest.user_id)
            .where(TournamentRequest.id == request_id)
        ).first()
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
        outcome = run_tournament(path, db_url=settings.db_url, on_match=on_match, on_plan=on_plan)
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
