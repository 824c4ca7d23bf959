"""Errors the arena reports to its users as one line (and exit code 1 in the CLI)."""

from __future__ import annotations

import os
import sys


class ArenaError(Exception):
    """A user-facing error: bad input, an unknown name, a broken package.

    The message is one line that names the file, key or agent at fault. ``detail``
    holds optional extra text (an agent's traceback) shown with ``-v``.
    """

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


def environment_error(exc: BaseException, *, db: str | None = None, why: str = "") -> str | None:
    """One line for a failure of the machine rather than of the input, else None.

    A full disk, a read-only folder, a missing permission: an :class:`OSError`,
    named by its path; a database that cannot be written (full, read-only,
    locked, unreachable): SQLAlchemy's ``OperationalError``, named by ``db``
    (the database URL, its password hidden), followed by ``why`` when the caller
    could tell (`` (… is on a read-only file system)``).
    """
    if isinstance(exc, OSError):
        what = exc.strerror or str(exc)
        if exc.filename is None:
            return what
        where = os.fsdecode(exc.filename)
        if exc.filename2 is not None:
            where += f" -> {os.fsdecode(exc.filename2)}"
        return f"{where}: {what}"
    sa = sys.modules.get("sqlalchemy.exc")  # loaded whenever SQLAlchemy raised it
    if sa is not None and isinstance(exc, sa.OperationalError):
        reason = " ".join(str(exc.orig if exc.orig is not None else exc).split())
        return f"database {db}: {reason}{why}" if db else f"database: {reason}{why}"
    return None
