"""When a training loop saves its checkpoint: every N steps, every M minutes, and on Ctrl-C.

Every trainer drives one :class:`Checkpoints` the same way::

    with Checkpoints(save, path, step=step, every_steps=..., every_minutes=...) as ckpt:
        while step < total:
            with ckpt.update():      # the code that changes the trainer's state
                ...
            evaluate / log           # reads the state only: Ctrl-C stops it at once
            ckpt.reached(step)       # saves when a cadence is due
        ckpt.save()                  # the final checkpoint

``save()`` (the trainer's) writes the checkpoint atomically and returns the step
it holds. Ctrl-C (SIGINT, and SIGTERM/SIGHUP, which ``arena`` turns into the
same) is held back while an update or a save runs, so the state written is
always one the trainer reached between two updates; elsewhere it stops the run
at once. Either way the block saves on its way out and raises
:class:`~arena.trainer.TrainingInterrupted`, which ``arena train`` turns into
one line saying how to resume. A second Ctrl-C while that save runs waits for
it to finish.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from arena.trainer import TrainingInterrupted

# SIGHUP does not exist on Windows.
SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Checkpoints:
    """The checkpoint cadences of one run, and its way out on Ctrl-C.

    Args:
        save: writes the checkpoint (atomically) and returns the step it holds.
        path: the checkpoint file (named in the interruption).
        step: where the run starts (0, or the resumed step).
        every_steps: save when the step reaches the next multiple of this (0: off).
        every_minutes: also save when this many minutes passed since the last
            save (0: off), so a slow run never loses more than that.
        clock: seconds, monotonic; tests pass their own.
    """

    def __init__(
        self,
        save: Callable[[], int],
        path: Path,
        *,
        step: int,
        every_steps: int,
        every_minutes: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._save = save
        self.path = path
        self.step = step
        self.every_steps = every_steps
        self.every_minutes = every_minutes
        self._clock = clock
        self._last_save = clock()
        self._next_step = self._after(step)
        self._held = 0  # > 0 while an update or a save runs: signals wait
        self._requested = False  # a signal came
        self._torn = False  # a KeyboardInterrupt escaped from inside an update
        self._saved_step: int | None = None  # the step saved, while the state is still that
        self._disk_step = step if path.is_file() else None  # what the file on disk holds
        self._previous: dict[int, Any] = {}

    # -- the loop's side ------------------------------------------------------

    @contextmanager
    def update(self) -> Iterator[None]:
        """Run a block that changes the trainer's state; Ctrl-C waits until it ends."""
        self._saved_step = None
        self._held += 1
        try:
            yield
        except KeyboardInterrupt:
            self._torn = True  # raised by the code itself, not by our handler
            raise
        finally:
            self._held -= 1
        if self._requested and not self._held:
            raise KeyboardInterrupt

    def reached(self, step: int) -> None:
        """The state is consistent at ``step``: save if a cadence is due, stop if asked."""
        self.step = step
        if self._requested:
            raise KeyboardInterrupt
        by_steps = self.every_steps > 0 and step >= self._next_step
        by_time = (
            self.every_minutes > 0 and self._clock() - self._last_save >= self.every_minutes * 60
        )
        if by_steps or by_time:
            self.save()

    def save(self) -> int:
        """Write the checkpoint now (Ctrl-C waits for it); returns its step."""
        self._held += 1
        try:
            step = self._save()
        finally:
            self._held -= 1
        self.step = self._saved_step = self._disk_step = step
        self._last_save = self._clock()
        self._next_step = self._after(step)
        if self._requested and not self._held:
            raise KeyboardInterrupt
        return step

    @property
    def requested(self) -> bool:
        """Ctrl-C was pressed (the run stops at the next safe point)."""
        return self._requested

    # -- the signals ----------------------------------------------------------

    def _after(self, step: int) -> int:
        every = self.every_steps
        return (step // every + 1) * every if every > 0 else 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._requested = True
        if not self._held:
            raise KeyboardInterrupt

    def __enter__(self) -> Checkpoints:
        # Python lets only the main thread set handlers; elsewhere Ctrl-C never arrives.
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, TrainingInterrupted):
                self._held += 1  # from here on a second Ctrl-C only waits
                self._interrupted()
        finally:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)
            self._previous.clear()

    def _interrupted(self) -> None:
        if self._torn:  # stopped mid-update: the state in memory is not one to keep
            if self._disk_step is None:
                raise TrainingInterrupted(self.step, saved=False, checkpoint=None) from None
            raise TrainingInterrupted(self._disk_step, saved=False, checkpoint=self.path) from None
        step = self._saved_step if self._saved_step is not None else self._save()
        raise TrainingInterrupted(step, saved=True, checkpoint=self.path) from None
