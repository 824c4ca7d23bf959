"""Throwaway PostgreSQL databases for the tests (the server: ``ARENA_TEST_PG_URL``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def fresh_pg_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``admin_url`` (a role that may create
    databases), dropped afterwards with the connections still open to it."""
    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"arena_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        # FORCE ends connections the test's engines still hold in their pools.
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
