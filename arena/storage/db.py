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
HEAD = "0005"


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


def connect(url: str | None = None, *, migrate: bool = True, read_only: bool = False) -> Engine:
    """Open (and create or upgrade) the database at ``url``.

    ``read_only`` is for the commands that only read (leaderboard, report, replay,
    status, logs): they never create a file or a folder (a SQLite file that does
    not exist yet reads as an empty database), and a SQLite database
    they cannot write (a read-only file system, a file or folder without write
    permission) is opened as immutable, so that it can still be read. A database
    that is writable is upgraded as usual; one that is not, and is behind
    ``HEAD``, is an error that says so.

    Raises:
        ArenaError: the URL is malformed or the database cannot be opened.
    """
    url = url or default_url()
    shown = url
    immutable = False
    try:
        parsed = make_url(url)
        shown = parsed.render_as_string(hide_password=True)
        if parsed.drivername == "postgresql":
            # The driver the [postgres] extra installs (SQLAlchemy 2.0 would pick psycopg2).
            parsed = parsed.set(drivername="postgresql+psycopg")
        path = _sqlite_file(parsed.drivername, parsed.database)
        if path is not None and read_only:
            if not path.exists():
                # Nothing stored yet: read an empty database in memory, so that every
                # reader answers as for an empty arena ("no rated matches yet").
                parsed = make_url("sqlite://")
            elif sqlite_problem(path):
                # SQLite reads a WAL database only where it may write its -shm file;
                # a database nobody here can write cannot change under the reader.
                immutable = True
                parsed = make_url(f"sqlite:///file:{path.absolute()}?immutable=1&uri=true")
        elif path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
    except ArenaError:
        raise
    except ImportError as exc:
        hint = ""
        if shown.startswith("postgres"):
            hint = " (pip install 'arena[postgres]' provides psycopg, for postgresql:// URLs)"
        raise ArenaError(f"database URL {shown!r}: {exc}{hint}") from None
    except Exception as exc:
        raise ArenaError(f"database URL {shown!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_readonly_pragmas if immutable else _sqlite_pragmas)
    if immutable:
        check_current(engine)
    elif migrate:
        upgrade(engine)
    return engine


def _sqlite_file(drivername: str, database: str | None) -> Path | None:
    """The file of a SQLite URL, or None (another backend, or an in-memory database)."""
    if not drivername.startswith("sqlite") or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None  # a URI the caller built; SQLite resolves it
    return Path(database).expanduser()


def _sqlite_readonly_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


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


def _current_revision(engine: Engine) -> str | None:
    """The schema revision stored in the database (None for an empty database)."""
    try:
        with engine.connect() as conn:
            # Read Alembic's version table directly: importing Alembic just to
            # learn that nothing is to be done costs most of a command's start-up.
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:
        # One line: drivers' messages (psycopg's) span several.
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        if engine.dialect.name == "sqlite" and engine.url.database:
            reason += sqlite_problem(Path(engine.url.database))
        raise ArenaError(f"cannot open database {engine.url!r}: {reason}") from None


def check_current(engine: Engine) -> None:
    """Raise unless a database that will not be upgraded is already at ``HEAD``."""
    current = _current_revision(engine)
    if current != HEAD:
        raise ArenaError(
            f"database {engine.url.render_as_string(hide_password=True)!r} is read-only and "
            f"at schema {current or 'none'}; this arena reads schema {HEAD}: open it once "
            "where it can be written, and it is upgraded"
        )


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is already there)."""
    if _current_revision(engine) == HEAD:
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
