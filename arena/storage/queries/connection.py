"""What every reader takes: an engine, or a connection already open."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeAlias

from sqlalchemy import Connection, Engine

#: An engine (each read opens and closes its own connection) or an open
#: connection (the caller's: several reads see one snapshot).
Bind: TypeAlias = Engine | Connection


@contextmanager
def connected(bind: Bind) -> Iterator[Connection]:
    """``bind`` itself when it is a connection (left open), else a new one closed after."""
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as conn:
        yield conn
