"""What was drawn for the last few stored matches (replays, PNG frames): kept, drawn one at a time.

A stored match never changes, so what is drawn from it can be kept. Drawing
(rebuilding a match, rendering its images) can take seconds, and every request
that waits for it holds a server thread: so one thing is drawn at a time, only
requests for that same thing wait (at most ``waiters`` of them), and any other
is refused with :class:`Busy` (HTTP 503) until the drawing ends.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class Busy(Exception):
    """The server is drawing something else (HTTP 503: try again soon)."""


class DrawCache(Generic[T]):
    """The last ``entries`` things drawn, at most ``max_bytes`` by ``size`` (the newest
    stays even when over)."""

    def __init__(
        self,
        entries: int,
        max_bytes: int,
        size: Callable[[T], int],
        *,
        busy: str,
        waiters: int = 8,
    ) -> None:
        self.entries, self.max_bytes, self.busy, self.waiters = entries, max_bytes, busy, waiters
        self._size = size
        self._kept: OrderedDict[Hashable, tuple[T, int]] = OrderedDict()
        self._draw_lock = threading.Lock()  # held while drawing
        self._guard = threading.Lock()  # held briefly: the dict and the counts
        self._drawing: Hashable | None = None
        self._waiting = 0

    def get(self, key: Hashable, draw: Callable[[], T]) -> T:
        """What ``draw`` makes for ``key``, drawn on a miss.

        Raises:
            Busy: something else is being drawn, or too many requests wait already.
        """
        with self._guard:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key][0]
            if self._drawing not in (None, key) or self._waiting >= self.waiters:
                raise Busy(self.busy)
            self._waiting += 1
            self._drawing = key
        try:
            with self._draw_lock:
                with self._guard:
                    if key in self._kept:  # drawn while this request waited
                        return self._kept[key][0]
                value = draw()
                with self._guard:
                    self._kept[key] = (value, self._size(value))
                    while len(self._kept) > 1 and (
                        len(self._kept) > self.entries or self.size() > self.max_bytes
                    ):
                        self._kept.popitem(last=False)
                return value
        finally:
            with self._guard:
                self._waiting -= 1
                if self._waiting == 0:
                    self._drawing = None

    def __len__(self) -> int:
        return len(self._kept)

    def size(self) -> int:
        """Bytes held (as ``size`` counts them)."""
        return sum(n for _, n in self._kept.values())
