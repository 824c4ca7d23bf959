"""server/cache.py: the home page and /api/leaderboard compute a leaderboard once per state
of the stored results, and show a newly recorded match at the next request."""

from __future__ import annotations

from typing import Any

import pytest

import server.cache
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
