"""Fixtures of the browser tests: Debian's chromium through Playwright, and one real
``arena serve`` per test module and database (SQLite, and PostgreSQL when
``ARENA_TEST_PG_URL`` is set), with users ada (participant) and prof (organiser)
and two stored matches.

No browser is ever downloaded: the tests skip, saying why, without /usr/bin/chromium
or the playwright package (CI installs both).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.live_server import (
    LiveServer,
    add_user,
    start_server,
    stop_server,
)
from tests.pg import fresh_pg_database


@dataclass
class E2ESite:
    """A running server, its database as seen from the test, and the users' tokens."""

    server: LiveServer
    engine: Engine
    tokens: dict[str, str]
    #: A stored tic-tac-toe match (one-ply vs random) to replay.
    ttt_match: int

    @property
    def url(self) -> str:
        return self.server.url

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


# Module scope: the Playwright driver (a node process) ends with the browser tests, so
# the sandbox tests that look for left-behind processes never see it.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian: apt install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "playwright is not installed: pip install -e '.[dev]' (never playwright install)"
        )
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def e2e_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[E2ESite]:
    from arena.storage import connect
    from tests.server.server_helpers import record_match

    home = tmp_path_factory.mktemp(f"e2e-{request.param}")
    with _database(request.param, home) as db_url:
        server = start_server(db_url, home / "arena-home")
        engine = connect(db_url)
        try:
            tokens = {
                "ada": add_user(db_url, server.home, "ada"),
                "prof": add_user(db_url, server.home, "prof", organiser=True),
            }
            match_id = record_match(engine, "tictactoe_v3", ["one-ply", "random"], seed=3)
            record_match(engine, "connect_four_v3", ["one-ply", "random"], seed=1)
            yield E2ESite(server, engine, tokens, match_id)
        finally:
            engine.dispose()
            status = stop_server(server)
        log = server.log_text()
        assert status == 0, log
        assert log.rstrip().endswith("server stopped"), log


def _database(kind: str, home: Path) -> Any:
    if kind == "sqlite":
        from contextlib import nullcontext

        return nullcontext(f"sqlite:///{home / 'arena.db'}")
    admin_url = os.environ.get("ARENA_TEST_PG_URL")
    if not admin_url:
        pytest.skip("PostgreSQL not available: set ARENA_TEST_PG_URL (.ci/postgres.sh starts one)")
    return fresh_pg_database(admin_url)


@pytest.fixture
def page(browser: Any, e2e_site: E2ESite) -> Iterator[Any]:
    context = browser.new_context(base_url=e2e_site.url)
    context.set_default_timeout(20_000)
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page: Any, token: str) -> None:
    """Sign in through /login as a person would; lands on /submit."""
    page.goto("/login")
    page.fill("input[name=token]", token)
    page.click("form.login button[type=submit]")
    page.wait_for_url("**/submit")
