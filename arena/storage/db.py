"""Engines, sessions and migrations.

SQLite by default at ``$ARENA_HOME/arena.db`` in WAL mode; any SQLAlchemy URL
(PostgreSQL for a shared deployment) through ``--db`` or ``ARENA_DB``. The schema
is always built by Alembic migrations, never by ``create_all``, so a database
made today upgrades cleanly tomorrow.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from arena.errors import ArenaError

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration; tests check it against the migration scripts so that
# opening an up-to-date database needs no scan of the scripts.
HEAD = "0003"


def default_url() -> str:
    """``$ARENA_DB`` or SQLite at ``$ARENA_HOME/arena.db`` (default ``./.arena``)."""
    url = os.environ.get("ARENA_DB")
    if url:
        return url
    home = Path(os.environ.get("ARENA_HOME", ".arena"))
    return f"sqlite:///{home / 'arena.db'}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL lets readers (leaderboard, reports) run while the single writer writes;
    # NORMAL sync is durable across process crashes, which is what resume needs.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def connect(url: str | None = None, *, migrate: bool = True) -> Engine:
    """Open (and create or upgrade) the database at ``url``.

    Raises:
        ArenaError: the URL is malformed or the database cannot be opened.
    """
    url = url or default_url()
    shown = url
    try:
        parsed = make_url(url)
        shown = parsed.render_as_string(hide_password=True)
        if parsed.drivername == "postgresql":
            # The driver the [postgres] extra installs (SQLAlchemy 2.0 would pick psycopg2).
            parsed = parsed.set(drivername="postgresql+psycopg")
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(
                parents=True, exist_ok=True
            )
        engine = create_engine(parsed)
    except ImportError as exc:
        hint = ""
        if shown.startswith("postgres"):
            hint = " (pip install 'arena[postgres]' provides psycopg, for postgresql:// URLs)"
        raise ArenaError(f"database URL {shown!r}: {exc}{hint}") from None
    except Exception as exc:
        raise ArenaError(f"database URL {shown!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        upgrade(engine)
    return engine


def sqlite_problem(path: Path) -> str:
    """Why SQLite may fail at ``path`` (its messages do not say): `` (read-only file system)``,
    `` (no write permission on ...)``, `` (no space left on device)``, or ``""``.

    SQLite in WAL mode writes ``-wal`` and ``-shm`` files next to the database even to
    read, so each of these stops every command.
    """
    if str(path) in ("", ":memory:"):
        return ""
    folder = path.expanduser().absolute().parent
    try:
        fs = os.statvfs(folder)
    except OSError:
        return ""
    if fs.f_flag & os.ST_RDONLY:
        return f" ({folder} is on a read-only file system)"
    for where in (folder, path):
        if where.exists() and not os.access(where, os.W_OK):
            return f" (no write permission on {where})"
    if fs.f_bavail == 0:
        return f" (no space left on the device of {folder})"
    return ""


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is already there)."""
    try:
        with engine.connect() as conn:
            # Read Alembic's version table directly: importing Alembic just to
            # learn that nothing is to be done costs most of a command's start-up.
            current = None
            if inspect(conn).has_table("alembic_version"):
                current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:
        # One line: drivers' messages (psycopg's) span several.
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        if engine.dialect.name == "sqlite" and engine.url.database:
            reason += sqlite_problem(Path(engine.url.database))
        raise ArenaError(f"cannot open database {engine.url!r}: {reason}") from None
    if current == HEAD:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
