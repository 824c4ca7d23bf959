"""Live events for ``GET /api/events`` (Server-Sent Events), read from the database.

No broker: every stream polls the tables the worker and the tournament runs
write (new matches, checked submissions, tournament progress) from a cursor,
so events reach every web process, whichever process wrote the rows. Events
carry what the public pages show: a refused submission's reason is its
uploader's alone, so the stream says only that it was refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from arena.storage import models as m
from arena.storage.accounts import ACCEPTED, Submission, TournamentRequest
from arena.storage.models import utcnow
from server.queries import match_list

EPOCH = datetime(1970, 1, 1)
MAX_BATCH = 100


@dataclass(frozen=True)
class Cursor:
    """Where a stream stands: the last match id, and the last change times it has seen."""

    match_id: int
    submissions: datetime
    tournaments: datetime

    def text(self) -> str:
        return f"{self.match_id}|{self.submissions.isoformat()}|{self.tournaments.isoformat()}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """A cursor from its text (an SSE ``Last-Event-ID``); None if it is not one."""
        if not text:
            return None
        try:
            match_id, subs, tours = text.split("|")
            return cls(int(match_id), datetime.fromisoformat(subs), datetime.fromisoformat(tours))
        except ValueError:
            return None


@dataclass(frozen=True)
class Event:
    kind: str  # match | submission | tournament
    data: dict[str, Any]

    def frame(self, cursor: Cursor) -> str:
        """The event as an SSE frame, with the cursor as its id (a reconnect resumes there)."""
        data = json.dumps(self.data, ensure_ascii=True, separators=(",", ":"))
        return f"id: {cursor.text()}\nevent: {self.kind}\ndata: {data}\n\n"


def start_cursor(engine: Engine) -> Cursor:
    """Now: a new stream sends what happens from here on."""
    with engine.connect() as conn:
        last = conn.scalar(select(func.max(m.Match.id))) or 0
    now = utcnow()
    return Cursor(int(last), now, now)


def events_since(engine: Engine, cursor: Cursor) -> tuple[list[Event], Cursor]:
    """What happened after ``cursor``, oldest first, and the cursor after it."""
    events: list[Event] = []
    newest = match_list(engine, limit=MAX_BATCH)
    matches = sorted((x for x in newest if x.match_id > cursor.match_id), key=lambda x: x.match_id)
    last_match = cursor.match_id
    for match in matches:
        shown = match.to_dict()
        shown["players"] = [
            {"agent": p.agent, "version": p.version, "outcome": p.outcome} for p in match.players
        ]
        events.append(Event("match", shown))
        last_match = match.match_id
    last_sub, last_tour = cursor.submissions, cursor.tournaments
    with engine.connect() as conn:
        subs = conn.execute(
            select(
                Submission.id,
                Submission.status,
                Submission.agent,
                Submission.version,
                Submission.checked_at,
            )
            .where(Submission.checked_at > cursor.submissions)
            .order_by(Submission.checked_at)
            .limit(MAX_BATCH)
        ).all()
        tours = conn.execute(
            select(
                TournamentRequest.id,
                TournamentRequest.name,
                TournamentRequest.status,
                TournamentRequest.played,
                TournamentRequest.planned,
                TournamentRequest.updated_at,
            )
            .where(TournamentRequest.updated_at > cursor.tournaments)
            .order_by(TournamentRequest.updated_at)
            .limit(MAX_BATCH)
        ).all()
    for sub_id, status, agent, version, checked in subs:
        data: dict[str, Any] = {"submission": sub_id, "status": status}
        if status == ACCEPTED:
            data.update(agent=agent, version=version)
        events.append(Event("submission", data))
        if checked is not None:  # the WHERE: checked_at > the cursor
            last_sub = max(last_sub, checked)
    for tid, name, status, played, planned, updated in tours:
        events.append(
            Event(
                "tournament",
                {
                    "tournament": tid,
                    "name": name,
                    "status": status,
                    "played": played,
                    "planned": planned,
                },
            )
        )
        last_tour = max(last_tour, updated)
    return events, Cursor(last_match, last_sub, last_tour)
