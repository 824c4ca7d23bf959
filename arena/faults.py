"""An agent's failure, as the runner records it.

Hosts (in-process, sandboxed, a person at a terminal) raise :class:`AgentFault`;
the runner turns it into a forfeit of ``seat``. Kept in a module of its own so
that hosts and the sandbox depend on it, not on each other.
"""

from __future__ import annotations

from arena.textsafe import clean_text

REASONS = ("error", "timeout", "illegal", "crash")


class AgentFault(Exception):
    """An agent failed; ``reason`` is one of the protocol's forfeit reasons.

    The message is cleaned (valid UTF-8, no terminal control characters,
    capped), so whatever an agent put in it is safe to store and print.
    """

    def __init__(self, reason: str, message: str, *, seat: str | None = None) -> None:
        message = clean_text(message)
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.seat = seat
