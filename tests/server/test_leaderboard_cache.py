"""server/cache.py: the home page and /api/leaderboard compute a leaderboard once per state
of the stored results, and show a newly recorded match at the next request; concurrent
requests share a fingerprint query begun after they arrived."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import server.cache
from server.cache import SharedProbe
from tests.server.server_helpers import Site, record_match


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The queries the cache passed on to tournaments.leaderboard.leaderboard."""
    calls: list[dict[str, Any]] = []
    real = server.cache.leaderboard

    def counting(engine: Any, **query: Any) -> Any:
        calls.append(query)
        return real(engine, **query)

    monkeypatch.setattr(server.cache, "leaderboard", counting)
    return calls


def _games(site: Site, query: str = "") -> dict[str, int]:
    rows = site.client.get(f"/api/leaderboard{query}").json()
    return {r["agent"]: r["games"] for r in rows}


def test_the_leaderboard_is_computed_once_until_a_match_is_recorded(
    site: Site, computed: list[dict[str, Any]]
) -> None:
    record_match(site.engine, "tictactoe_v3", ["one-ply", "random"], seed=0)
    assert _games(site) == {"one-ply": 1, "random": 1}
    assert _games(site) == {"one-ply": 1, "random": 1}
    assert len(computed) == 1

    record_match(site.engine, "tictactoe_v3", ["one-ply", "random"], seed=1)
    assert _games(site) == {"one-ply": 2, "random": 2}
    assert len(computed) == 2

    # Each query is kept apart; the home page shares the all-envs rows.
    assert _games(site, "?env=tictactoe_v3") == {"one-ply": 2, "random": 2}
    assert site.client.get("/").status_code == 200
    assert computed == [
        {"env_id": None, "tournament": None, "role": None},
        {"env_id": None, "tournament": None, "role": None},
        {"env_id": "tictactoe_v3", "tournament": None, "role": None},
    ]


def test_the_home_page_shows_a_new_match_at_the_next_request(site: Site) -> None:
    record_match(site.engine, "tictactoe_v3", ["one-ply", "random"])
    assert "connect_four_v3" not in site.client.get("/").text
    record_match(site.engine, "connect_four_v3", ["one-ply", "random"])
    assert '<a href="/envs/connect_four_v3">connect_four_v3</a>' in site.client.get("/").text


def test_errors_are_not_kept(site: Site, computed: list[dict[str, Any]]) -> None:
    for _ in range(2):
        bad = site.client.get("/api/leaderboard?env=chess_v0")
        assert (bad.status_code, bad.json()) == (
            400,
            {"detail": "unknown env 'chess_v0' (see arena envs)"},
        )
    assert len(computed) == 2
    assert server.cache.SHARED.size(site.engine) == 0  # nothing kept per bad query


def test_a_shared_probe_never_answers_with_a_call_begun_before_its_caller() -> None:
    calls: list[int] = []
    first_running, release_first = threading.Event(), threading.Event()

    def probe() -> int:
        calls.append(len(calls) + 1)
        if len(calls) == 1:
            first_running.set()
            assert release_first.wait(30)
        return len(calls)

    shared = SharedProbe(probe)
    got: dict[str, int] = {}
    first = threading.Thread(target=lambda: got.update(a=shared()))
    first.start()
    assert first_running.wait(30)
    # These arrive while call 1 runs: they need a call that starts after them.
    later = [threading.Thread(target=lambda k=k: got.update({k: shared()})) for k in "bc"]
    for thread in later:
        thread.start()
    release_first.set()
    for thread in [first, *later]:
        thread.join(30)
    assert got["a"] == 1
    assert got["b"] >= 2 and got["c"] >= 2
    assert len(calls) <= 3
    # One at a time, each caller gets its own call.
    assert [shared(), shared()] == [len(calls) - 1, len(calls)]
