"""Uploaded packages: who may submit under a name, the rate limit, and the worker's check.

An upload is stored as a submission with status ``checking``; the worker checks
it with :func:`arena.packages.submit_package`, the code of ``arena agent
submit`` (the archive rules of :mod:`arena.archives`, the manifest, the import
and smoke matches in the sandbox), and sets ``accepted`` or ``refused`` with the
reason. The reason shows the uploaded file by the name it was sent under, never
the server's folders.

An agent name belongs to the user who first submitted it (``agent_owners``).
A name the arena already has with no owner (a built-in that has played, a
package submitted at the shell) is the organisers': participants cannot take it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError

from arena.archives import unpack_archive
from arena.errors import ArenaError
from arena.home import arena_home
from arena.manifest import load_manifest
from arena.storage import models as m
from arena.storage import session_factory
from arena.storage.accounts import (
    ACCEPTED,
    CHECKING,
    REFUSED,
    AgentOwner,
    Submission,
    User,
)
from arena.storage.models import utcnow
from arena.textsafe import clean_text
from server.settings import Settings
from server.uploads import Received
from server.users import UserInfo

log = logging.getLogger("arena.server")


@dataclass(frozen=True)
class SubmissionView:
    id: int
    user_id: int
    user: str
    status: str
    agent: str | None
    version: str | None
    reason: str | None
    detail: str | None
    filename: str
    created_at: datetime
    checked_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """What ``GET /api/submissions/ID`` shows its uploader (or an organiser)."""
        return {
            "submission": self.id,
            "status": self.status,
            "agent": self.agent,
            "version": self.version,
            "reason": self.reason,
            "detail": self.detail,
            "user": self.user,
            "filename": self.filename,
            "created_at": self.created_at.isoformat(),
            "checked_at": None if self.checked_at is None else self.checked_at.isoformat(),
        }


class Refused(Exception):
    """An upload refused at once (HTTP 403): the name is someone else's."""

    def __init__(self, message: str, submission: SubmissionView) -> None:
        super().__init__(message)
        self.message, self.submission = message, submission


def _view(sub: Submission, user: str) -> SubmissionView:
    return SubmissionView(
        sub.id,
        sub.user_id,
        user,
        sub.status,
        sub.agent,
        sub.version,
        sub.reason,
        sub.detail,
        sub.filename,
        sub.created_at,
        sub.checked_at,
    )


def get_submission(engine: Engine, submission_id: int) -> SubmissionView | None:
    with session_factory(engine)() as session:
        row = session.execute(
            select(Submission, User.name)
            .join(User, User.id == Submission.user_id)
            .where(Submission.id == submission_id)
        ).first()
    return None if row is None else _view(*row)


def user_submissions(engine: Engine, user_id: int, limit: int = 20) -> list[SubmissionView]:
    """A user's newest submissions first."""
    with session_factory(engine)() as session:
        rows = session.execute(
            select(Submission, User.name)
            .join(User, User.id == Submission.user_id)
            .where(Submission.user_id == user_id)
            .order_by(Submission.id.desc())
            .limit(limit)
        ).all()
    return [_view(*row) for row in rows]


def retry_after(engine: Engine, user: UserInfo, per_hour: int) -> int | None:
    """Seconds until ``user`` may upload again, or None if they may now (organisers always)."""
    if user.organiser:
        return None
    since = utcnow() - timedelta(hours=1)
    with session_factory(engine)() as session:
        count, oldest = session.execute(
            select(func.count(), func.min(Submission.created_at)).where(
                Submission.user_id == user.id, Submission.created_at > since
            )
        ).one()
    if count < per_hour:
        return None
    return max(1, int((oldest + timedelta(hours=1) - utcnow()).total_seconds()) + 1)


def name_refusal(session: Any, user: UserInfo, name: str) -> str | None:
    """Why ``user`` may not submit under ``name``; None if they may."""
    kind = session.scalar(select(m.Agent.kind).where(m.Agent.name == name))
    if kind == "human":  # one name, one kind: a person's games and a package never mix
        return f"agent name '{name}' is a person's (the name they play under); choose another name"
    owner = session.execute(
        select(User.id, User.name)
        .join(AgentOwner, AgentOwner.user_id == User.id)
        .where(AgentOwner.agent_name == name)
    ).first()
    if owner is not None:
        if owner[0] == user.id or user.organiser:
            return None
        return f"agent name '{name}' belongs to another user; choose another name"
    if kind is not None and not user.organiser:
        return f"agent name '{name}' is taken by an agent of the arena's own; choose another name"
    return None


def claim_person_name(engine: Engine, user: UserInfo, name: str) -> None:
    """Record ``name``, the name ``user`` plays under in the browser, as theirs.

    Then nobody else can upload a package under it (:func:`name_refusal`), so a
    person's rating never shares its name with another user's machine.

    Raises:
        ArenaError: another user owns the name (their upload, or their games).
    """
    with session_factory(engine).begin() as session:
        owner = session.scalar(select(AgentOwner.user_id).where(AgentOwner.agent_name == name))
        if owner == user.id:
            return
        if owner is not None:
            raise ArenaError(f"agent name '{name}' belongs to another user")
        try:
            with session.begin_nested():
                session.add(AgentOwner(agent_name=name, user_id=user.id))
        except IntegrityError:  # claimed a moment ago
            owner = session.scalar(select(AgentOwner.user_id).where(AgentOwner.agent_name == name))
            if owner != user.id:
                raise ArenaError(f"agent name '{name}' belongs to another user") from None


def public_text(text: str | None, upload: Path, filename: str) -> str | None:
    """An error text as its uploader sees it: the upload by its own name, no server folders."""
    if text is None:
        return None
    shown = text.replace(str(upload), filename)
    home = str(arena_home().absolute())
    shown = shown.replace(home, "$ARENA_HOME")
    return clean_text(shown)


def peek_name(path: Path, max_bytes: int | None) -> tuple[str, str] | None:
    """The name and version an archive's manifest declares; None when it cannot be read
    (the check then refuses it with the reason)."""
    try:
        manifest = load_manifest(unpack_archive(path, max_bytes=max_bytes))
    except (ArenaError, OSError):
        return None
    return manifest.name, manifest.version


def create_submission(
    engine: Engine, settings: Settings, user: UserInfo, received: Received
) -> SubmissionView:
    """Store an upload as a submission to check, moved to ``uploads/<id>/<filename>``.

    Raises:
        Refused: the manifest names an agent that is not ``user``'s to submit (the
            submission is stored as refused, with that reason).
    """
    peeked = peek_name(received.path, settings.max_package_bytes)
    with session_factory(engine).begin() as session:
        sub = Submission(
            user_id=user.id,
            status=CHECKING,
            filename=received.filename,
            path="",
            size=received.size,
        )
        if peeked is not None:
            sub.agent, sub.version = peeked
            why = name_refusal(session, user, peeked[0])
            if why is not None:
                sub.status, sub.reason, sub.checked_at = REFUSED, why, utcnow()
        session.add(sub)
        session.flush()
        folder = settings.uploads / str(sub.id)
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / received.filename
        received.path.replace(dest)
        received.path.parent.rmdir()
        sub.path = str(dest)
        view = _view(sub, user.name)
    if view.status == REFUSED:
        raise Refused(view.reason or "", view)
    return view


def next_to_check(engine: Engine) -> int | None:
    """The oldest submission still ``checking``."""
    with session_factory(engine)() as session:
        return session.scalar(
            select(Submission.id)
            .where(Submission.status == CHECKING)
            .order_by(Submission.id)
            .limit(1)
        )


def _claim(engine: Engine, user: UserInfo, name: str) -> bool:
    """Take ``name`` for ``user`` if nobody has; True if this call took it.

    Raises:
        ArenaError: the name is not ``user``'s to submit.
    """
    with session_factory(engine).begin() as session:
        why = name_refusal(session, user, name)
        if why is not None:
            raise ArenaError(why)
        if session.scalar(select(AgentOwner.id).where(AgentOwner.agent_name == name)):
            return False
        if session.scalar(select(m.Agent.id).where(m.Agent.name == name)) is not None:
            return False  # an organiser submitting under the arena's own name: it stays the arena's
        try:
            with session.begin_nested():
                session.add(AgentOwner(agent_name=name, user_id=user.id))
        except IntegrityError:  # another worker claimed it a moment ago
            why = name_refusal(session, user, name)
            if why is not None:
                raise ArenaError(why) from None
            return False
    return True


def _release(engine: Engine, user: UserInfo, name: str) -> None:
    with session_factory(engine).begin() as session:
        session.execute(
            delete(AgentOwner).where(AgentOwner.agent_name == name, AgentOwner.user_id == user.id)
        )


def _finish(
    engine: Engine,
    sub_id: int,
    status: str,
    *,
    agent: str | None = None,
    version: str | None = None,
    reason: str | None = None,
    detail: str | None = None,
) -> None:
    with session_factory(engine).begin() as session:
        sub = session.get_one(Submission, sub_id)
        sub.status, sub.reason, sub.detail, sub.checked_at = status, reason, detail, utcnow()
        if agent is not None:
            sub.agent, sub.version = agent, version


def check_submission(engine: Engine, settings: Settings, sub_id: int) -> SubmissionView:
    """The worker's step: check submission ``sub_id`` as ``arena agent submit`` does."""
    from arena.check import SmokeFailure
    from arena.packages import submit_package

    view = get_submission(engine, sub_id)
    if view is None or view.status != CHECKING:
        raise ArenaError(f"no submission {sub_id} waiting to be checked")
    with session_factory(engine)() as session:
        owner = session.get_one(User, view.user_id)
        user = UserInfo(owner.id, owner.name, owner.organiser, owner.created_at, owner.revoked_at)
    path = _upload_path(engine, sub_id)
    if user.revoked:
        _finish(engine, sub_id, REFUSED, reason="its uploader's token was revoked")
        return get_submission(engine, sub_id) or view
    claimed = False
    name: str | None = None
    try:
        peeked = peek_name(path, settings.max_package_bytes)
        if peeked is not None:
            name = peeked[0]
            claimed = _claim(engine, user, name)
        report = submit_package(path, db_url=settings.db_url, max_bytes=settings.max_package_bytes)
    except ArenaError as exc:
        if claimed and name is not None:
            _release(engine, user, name)
        reason = str(exc)
        if isinstance(exc, SmokeFailure):
            reason = "\n".join([reason, *exc.output_tail()])
        _finish(
            engine,
            sub_id,
            REFUSED,
            reason=public_text(reason, path, view.filename),
            detail=public_text(exc.detail, path, view.filename),
        )
    except Exception as exc:  # a bug of ours: refuse it rather than retry it forever
        log.exception("checking submission %s failed", sub_id)
        if claimed and name is not None:
            _release(engine, user, name)
        _finish(
            engine,
            sub_id,
            REFUSED,
            reason=f"the server failed while checking it ({type(exc).__name__}); "
            "tell the organisers",
        )
    else:
        note = None
        if not report.stored:
            note = (
                f"already submitted: {report.name} {report.version} "
                f"(sha256 {report.content_hash[:12]})"
            )
        _finish(engine, sub_id, ACCEPTED, agent=report.name, version=report.version, reason=note)
    done = get_submission(engine, sub_id)
    assert done is not None
    return done


def _upload_path(engine: Engine, sub_id: int) -> Path:
    with session_factory(engine)() as session:
        return Path(session.get_one(Submission, sub_id).path)
