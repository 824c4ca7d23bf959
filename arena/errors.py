"""Errors the arena reports to its users as one line (and exit code 1 in the CLI)."""

from __future__ import annotations


class ArenaError(Exception):
    """A user-facing error: bad input, an unknown name, a broken package.

    The message is one line that names the file, key or agent at fault. ``detail``
    holds optional extra text (an agent's traceback) shown with ``-v``.
    """

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail
