"""A tournament whose matches carry hostile text (lone surrogates, escapes, an action log
without a JSON form) runs to the end, stops, resumes, and stores every match."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.recorder import NOTE_KEY
from tournaments.executor import Executor, MatchTask
from tournaments.run import run_tournament

EVIL = "bad \ud800 \x1b]0;pwned\x07"


class Stop(Exception):
    pass


@pytest.fixture
def hostile_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every match comes back with text no database takes as it is; every third with a
    log that has no JSON form."""
    run = Executor.run
    calls = [0]

    def spoiled(self: Executor, tasks: Iterable[MatchTask]) -> Iterator[tuple[MatchTask, Any]]:
        for task, result in run(self, tasks):
            calls[0] += 1
            seat = result.seats[1]
            seat.forfeit, seat.error = "error", f"Traceback ...\nValueError: {EVIL}"
            result.outputs = {result.labels[1]: f"printed {EVIL}"}
            if calls[0] % 3 == 0:
                result.actions = [*result.actions, [seat.seat, object()]]
            yield task, result

    monkeypatch.setattr(Executor, "run", spoiled)


def test_hostile_text_neither_stops_nor_breaks_resume(
    tmp_path: Path, hostile_results: None
) -> None:
    url = f"sqlite:///{tmp_path / 'arena.db'}"
    path = tmp_path / "t.toml"
    path.write_text(
        """
[tournament]
name = "text"
env = "connect_four_v3"
format = "round-robin"
games_per_pairing = 6
seed = 3
[[entrants]]
agent = "random"
[[entrants]]
agent = "one-ply"
"""
    )

    def stop_after_four(_result, done: int, _total: int) -> None:  # type: ignore[no-untyped-def]
        if done == 4:
            raise Stop

    with pytest.raises(Stop):
        run_tournament(path, db_url=url, on_match=stop_after_four)
    outcome = run_tournament(path, db_url=url)
    assert (outcome.resumed, outcome.already_stored, outcome.played) == (True, 4, 2)

    with session_factory(connect(url))() as s:
        assert s.scalar(select(func.count()).select_from(m.Match)) == 6
        errors = set(s.scalars(select(m.Participant.error_text).where(m.Participant.slot == 1)))
        assert errors == {"Traceback ...\nValueError: bad \ufffd\ufffd\ufffd ]0;pwned"}
        notes = [
            match.outputs.get(NOTE_KEY) for match in s.scalars(select(m.Match).order_by(m.Match.id))
        ]
        assert notes.count("action log not stored: it holds a value of type object") == 2
        assert s.scalar(select(func.count()).select_from(m.RatingHistory)) == 12
