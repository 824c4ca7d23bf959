"""Limits every request meets before a handler runs: body size, id range, event streams.

- :class:`RequestGuard`: a request body (JSON, a form) over :data:`MAX_BODY_BYTES`
  is refused with 413 before any handler reads it; the uploads and the
  tournament file stream their own, larger, limits (:data:`OWN_LIMITS`).
- Control characters (a NUL, CR, LF, ESC...) in a path, and a NUL in a query,
  are a 400: no name holds one, and PostgreSQL refuses a NUL in a string (a 500
  there).
- :data:`RowId`: a path id past what the database's integers hold is a 422,
  not an overflow inside the database driver (a 500).
- :class:`StreamSlots`: event streams (``GET /api/events``) open per client
  address and in all, each of which polls the database.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Annotated, Any
from urllib.parse import unquote_to_bytes

from fastapi import Path
from starlette.responses import StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The largest body of a JSON call or a form (a move, a new game, a sign-in).
MAX_BODY_BYTES = 64 * 1024
#: (method, path) that read and limit their own bodies: uploads and tournament files.
OWN_LIMITS = {("POST", "/api/agents"), ("POST", "/submit"), ("POST", "/api/tournaments")}
#: The largest id a path may name: PostgreSQL's INTEGER (SQLite's is wider).
MAX_ID = 2**31 - 1

RowId = Annotated[int, Path(ge=0, le=MAX_ID)]
CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


def too_big_message() -> str:
    return f"the request body is over {MAX_BODY_BYTES // 1024} KiB"


class RequestGuard:
    """ASGI middleware: refuse control characters in the address (400); read a request's
    body up to the limit, then hand it on, or answer 413.

    Buffering at most :data:`MAX_BODY_BYTES` is cheap, and the handler then
    never sees a body it would have to stop reading half-way.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A query may carry CR or LF (sign-in's next= refuses them itself); never a NUL.
        if CONTROL.search(scope["path"].encode("utf-8", "replace")) or b"\x00" in (
            unquote_to_bytes(scope.get("query_string", b""))
        ):
            await _refuse(scope, send, 400, "the address holds a control character")
            return
        if (scope["method"], scope["path"]) in OWN_LIMITS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            await _refuse(scope, send, 413, too_big_message())
            return
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
            if len(body) > MAX_BODY_BYTES:
                await _refuse(scope, send, 413, too_big_message())
                return
        whole: Message = {"type": "http.request", "body": bytes(body), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)


async def _refuse(scope: Scope, send: Send, status: int, message: str) -> None:
    """Answer ``status`` with ``message``: JSON under /api/, plain text elsewhere."""
    if scope["path"].startswith("/api/"):
        kind, text = b"application/json", json.dumps({"detail": message})
    else:
        kind, text = b"text/plain; charset=utf-8", message
    data = text.encode("utf-8")
    headers = [(b"content-type", kind), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives ``messages`` first, then the real one's (a disconnect)."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


class StreamSlots:
    """Open event streams: at most ``per_client`` for one client address, ``total`` in all."""

    def __init__(self, per_client: int, total: int) -> None:
        self.per_client, self.total = per_client, total
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def refusal(self, key: str) -> str | None:
        """Why a stream for ``key`` cannot open now (None: it took a slot; give it back)."""
        with self._lock:
            if self._open.get(key, 0) >= self.per_client:
                return f"at most {self.per_client} event streams per client; close one"
            if sum(self._open.values()) >= self.total:
                return "the server has too many event streams open; try later"
            self._open[key] = self._open.get(key, 0) + 1
            return None

    def take(self, key: str) -> bool:
        return self.refusal(key) is None

    def give(self, key: str) -> None:
        with self._lock:
            left = self._open.get(key, 0) - 1
            if left > 0:
                self._open[key] = left
            else:
                self._open.pop(key, None)

    def open(self) -> int:
        with self._lock:
            return sum(self._open.values())


class SlotStream(StreamingResponse):
    """A streamed response that gives its :class:`StreamSlots` slot back when it ends,
    however it ends: a client gone before the first byte never runs the body's
    generator, so a release inside the generator would leak the slot."""

    def __init__(self, content: Any, slots: StreamSlots, key: str, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.slots, self.key = slots, key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slots.give(self.key)
