"""Shared fixtures: every test gets its own ARENA_HOME so nothing touches ./.arena."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg import fresh_pg_database

# A test run started in the background by a shell without job control (`(make test &)`,
# some CI runners) inherits SIGINT ignored (POSIX), and Python then installs no
# KeyboardInterrupt handler: the Ctrl-C tests would find nothing to interrupt, and
# their child processes would ignore SIGINT too. Python's own handler is restored
# (children then start with the default disposition, and install theirs).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_C4 = ROOT / "examples" / "agents" / "c4-heuristic"


@pytest.fixture(autouse=True)
def arena_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "arena-home"
    monkeypatch.setenv("ARENA_HOME", str(home))
    monkeypatch.delenv("ARENA_DB", raising=False)
    return home


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test.

    The server comes from ``ARENA_TEST_PG_URL`` (a role that may create databases;
    ``eval "$(.ci/postgres.sh)"`` starts one). Skips when it is unset or when the
    driver is not installed; a set URL whose server cannot be reached fails.
    """
    admin_url = os.environ.get("ARENA_TEST_PG_URL")
    if not admin_url:
        pytest.skip(
            "PostgreSQL not available: set ARENA_TEST_PG_URL (CI starts one with .ci/postgres.sh)"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"PostgreSQL driver not installed ({exc}): pip install -e '.[postgres]'")
    with fresh_pg_database(admin_url) as url:
        yield url
