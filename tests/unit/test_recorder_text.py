"""The recorder stores whatever text a match carries: cleaned, cut to its column, never a crash.

Each test runs on SQLite and, when ``ARENA_TEST_PG_URL`` is set, on PostgreSQL.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from arena.rating import RatingSystem
from arena.registry import get_env
from arena.result import AgentInfo, MatchResult
from arena.runner import play_match
from arena.sources import resolve_agent
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.recorder import NOTE_KEY, Recorder, plain_json

EVIL = "boom \ud800 \x1b]0;pwned\x07 \u202eevil\x00"
CLEAN = "boom \ufffd\ufffd\ufffd ]0;pwned evil"  # a lone surrogate is 3 bytes: 3 U+FFFD


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'text.db'}"
    return str(request.getfixturevalue("pg_url"))


def _match(seed: int = 0) -> MatchResult:
    spec = get_env("connect_four_v3")
    return play_match(spec, [resolve_agent("one-ply"), resolve_agent("random")], seed=seed)


def _stored(url: str, match_id: int) -> tuple[m.Match, list[m.Participant]]:
    with session_factory(connect(url))() as s:
        match = s.get_one(m.Match, match_id)
        return match, list(match.participants)


def test_surrogates_and_escapes_in_error_and_output_store_cleaned(url: str) -> None:
    result = _match()
    result.seats[1].forfeit, result.seats[1].error = "error", EVIL
    result.outputs = {"random": f"printed {EVIL}", f"odd{EVIL}": "x"}
    result.seats[0].label = "L" * 200  # longer than the column (80)
    match_id = Recorder(connect(url), RatingSystem()).record(result)
    assert match_id is not None
    match, seats = _stored(url, match_id)
    assert seats[1].error_text == CLEAN
    assert seats[0].label == "L" * 80
    assert match.outputs == {"random": f"printed {CLEAN}", f"odd{CLEAN}": "x"}
    assert match.actions == result.actions


def test_long_free_text_of_a_manifest_is_cut_to_its_column(url: str) -> None:
    result = _match()
    info = result.agents[0]
    result.agents[0] = AgentInfo(
        info.name, info.version, "sha-long", info.kind, learning_type="T" * 300 + "\x1b[2J"
    )
    Recorder(connect(url), RatingSystem()).record(result)
    with session_factory(connect(url))() as s:
        row = s.scalar(select(m.AgentVersion).where(m.AgentVersion.content_hash == "sha-long"))
        assert row is not None and row.learning_type == "T" * 128


def test_an_action_log_without_a_json_form_is_dropped_with_a_note(url: str) -> None:
    result = _match()
    result.actions = [*result.actions, ["player_0", object()]]
    match_id = Recorder(connect(url), RatingSystem()).record(result)
    assert match_id is not None
    match, seats = _stored(url, match_id)
    assert match.actions == []
    assert match.outputs[NOTE_KEY] == "action log not stored: it holds a value of type object"
    assert [s.rank for s in seats] == [s.rank for s in result.seats]
    with session_factory(connect(url))() as s:
        assert len(s.scalars(select(m.RatingHistory)).all()) == 2  # still rated

    nan = _match(1)
    nan.actions = [["player_0", float("nan")]]
    match_id = Recorder(connect(url), RatingSystem()).record(nan)
    assert match_id is not None
    match, _ = _stored(url, match_id)
    assert match.outputs == {NOTE_KEY: "action log not stored: it holds a non-finite number (nan)"}


def test_numpy_values_and_tuples_in_the_log_become_plain_json() -> None:
    assert plain_json([["a", np.int64(3)], ("b", np.array([0.5, 1.0], dtype=np.float32))]) == [
        ["a", 3],
        ["b", [0.5, 1.0]],
    ]
    cycle: list[object] = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="nested deeper than 64 levels"):
        plain_json(cycle)


def test_content_the_database_refuses_is_stored_bare_with_a_note(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Let an unserialisable log through the cleaning, so the JSON encoder refuses it.
    monkeypatch.setattr("arena.storage.recorder.plain_json", lambda value, depth=0: value)
    result = _match()
    result.actions = [["player_0", {1, 2}]]
    result.seats[1].forfeit, result.seats[1].error = "error", "Traceback ..."
    match_id = Recorder(connect(url), RatingSystem()).record(result)
    assert match_id is not None
    match, seats = _stored(url, match_id)
    assert match.actions == []
    assert list(match.outputs) == [NOTE_KEY]
    assert match.outputs[NOTE_KEY] == (
        "match content refused by the database (TypeError: Object of type set is not JSON "
        "serializable); stored without it"
    )
    assert seats[1].error_text == f"not stored ({NOTE_KEY} output says why)"
    assert (seats[1].forfeit_reason, seats[1].outcome) == ("error", "loss")
    with session_factory(connect(url))() as s:
        assert len(s.scalars(select(m.RatingHistory)).all()) == 2
