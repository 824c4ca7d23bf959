"""The background worker: checks uploads, runs queued and scheduled tournaments, places.

``arena serve`` runs one in a thread beside the web app; ``arena worker`` runs
one alone against the same database (``arena serve --no-worker`` then leaves
the work to it). Run one worker per database: two would both check the same
upload. The worker keeps no state of its own: every job is a row, so a worker
that stops mid-job (Ctrl-C, a crash) leaves an upload ``checking`` (checked
again: submitting is idempotent) or a tournament ``interrupted`` (its run
resumes); a scheduled run stopped mid-way leaves its schedule due, and resumes.

One step does one job, in this order: an upload to check (then, if it was
accepted, placement matches for it against every scheduled ladder), a queued
or interrupted tournament request, a due schedule. The worker replaces
``arena scheduler run``: run one or the other against a database, not both.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, update

from arena.storage import session_factory
from arena.storage.accounts import ACCEPTED, INTERRUPTED, RUNNING, TournamentRequest
from arena.storage.models import utcnow
from server.settings import Settings
from server.submissions import check_submission, next_to_check
from server.tournament_queue import next_to_run, place_for_ladders, run_due_schedule, run_request

log = logging.getLogger("arena.server")


class Worker:
    """One job at a time, uploads before tournaments (a student waits on a check).

    ``clock`` is naive UTC (as the schema's times): when schedules are due.
    """

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        say: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine, self.settings, self.clock = engine, settings, clock
        self.stopping = threading.Event()
        self.say = say or (lambda line: log.info(line))
        self._thread: threading.Thread | None = None

    def recover(self) -> None:
        """Tournaments left ``running`` by a worker that died become ``interrupted`` (resumed)."""
        with session_factory(self.engine).begin() as session:
            session.execute(
                update(TournamentRequest)
                .where(TournamentRequest.status == RUNNING)
                .values(status=INTERRUPTED)
            )

    def step(self) -> bool:
        """Do the oldest job; False when there was none."""
        sub_id = next_to_check(self.engine)
        if sub_id is not None:
            view = check_submission(self.engine, self.settings, sub_id)
            what = f"{view.agent} {view.version}" if view.agent else view.filename
            self.say(f"submission {view.id} ({what}) from {view.user}: {view.status}")
            if view.status == ACCEPTED:
                for line in place_for_ladders(self.engine, self.settings):
                    self.say(line)
            return True
        request_id = next_to_run(self.engine)
        if request_id is not None:
            done = run_request(
                self.engine, self.settings, request_id, should_stop=self.stopping.is_set
            )
            self.say(
                f"tournament '{done.name}' (request {done.id}): {done.status}, "
                f"{done.played}/{done.planned} stored" + (f": {done.error}" if done.error else "")
            )
            return True
        try:
            ran = run_due_schedule(
                self.engine, self.settings, should_stop=self.stopping.is_set, now=self.clock
            )
        except KeyboardInterrupt:
            if not self.stopping.is_set():
                raise  # a real Ctrl-C: the caller stops too
            self.say("scheduled run stopped; it resumes when the worker starts again")
            return True
        if ran is not None:
            outcome = f"run {ran.run}, {ran.played} played" if ran.ok else f"failed: {ran.error}"
            self.say(
                f"scheduled tournament '{ran.tournament}': {outcome}; "
                f"next run at {ran.next_run_at:%Y-%m-%d %H:%M} UTC"
            )
            if ran.placement_error:
                self.say(f"placement for '{ran.tournament}' failed: {ran.placement_error}")
            return True
        return False

    def run(self) -> None:
        """Work until :meth:`stop`; an unexpected failure is logged and the loop goes on."""
        self.recover()
        while not self.stopping.is_set():
            try:
                busy = self.step()
            except Exception:
                log.exception("the worker's step failed")
                busy = False
            if not busy:
                self.stopping.wait(self.settings.poll_s)

    def start(self) -> threading.Thread:
        """Run in a background thread (``arena serve``)."""
        self._thread = threading.Thread(target=self.run, name="arena-worker", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the current job (a tournament: after its current match) and wait."""
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
