"""What one ``arena serve`` (or ``arena worker``) is configured with."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from arena.errors import ArenaError
from arena.home import arena_home

MIB = 1024 * 1024
#: The largest upload (the archive as sent), MiB; ``ARENA_MAX_UPLOAD_MB`` changes it.
DEFAULT_MAX_UPLOAD_MB = 20
UPLOAD_ENV = "ARENA_MAX_UPLOAD_MB"
#: Uploads a participant may make in an hour (organisers are not limited).
DEFAULT_UPLOADS_PER_HOUR = 12
#: Upload attempts (refused ones too) a participant may make in an hour, per upload allowed.
UPLOAD_ATTEMPTS_PER_UPLOAD = 4
#: Sign-in attempts one client address may make in a minute.
DEFAULT_LOGINS_PER_MINUTE = 10
#: The largest tournament file an organiser may post.
MAX_TOURNAMENT_BYTES = 256 * 1024


def upload_limit_from_env() -> int:
    """``$ARENA_MAX_UPLOAD_MB`` in bytes, else 20 MiB.

    Raises:
        ArenaError: the variable is not a positive number.
    """
    raw = os.environ.get(UPLOAD_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_UPLOAD_MB * MIB
    try:
        mb = float(raw)
    except ValueError:
        mb = -1.0
    if not mb > 0 or mb == float("inf"):
        raise ArenaError(f"{UPLOAD_ENV}: expected a positive number of MiB, got {raw!r}")
    return max(1, int(mb * MIB))


@dataclass(frozen=True)
class Settings:
    """The service's knobs; every default is safe for a course on one machine."""

    #: SQLAlchemy URL (None: ``$ARENA_DB`` or ``$ARENA_HOME/arena.db``, as the CLI).
    db_url: str | None = None
    #: Where uploads and queued tournament files are kept (default ``$ARENA_HOME/server``).
    data_dir: Path | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * MIB
    #: The unpacked size limit of a package (None: ``$ARENA_MAX_PACKAGE_MB`` or 256 MiB).
    max_package_bytes: int | None = None
    uploads_per_hour: int = DEFAULT_UPLOADS_PER_HOUR
    logins_per_minute: int = DEFAULT_LOGINS_PER_MINUTE
    #: Mark cookies ``Secure`` (set it behind a TLS reverse proxy).
    secure_cookies: bool = False
    session_days: float = 7.0
    #: How often the worker and the event stream look for new work and rows.
    poll_s: float = 1.0
    #: Browser play: a game whose person makes no move for this long is forfeited
    #: (reason ``timeout``) and recorded.
    game_idle_s: float = 600.0
    #: Browser play: games one person may have running at once, and in all.
    games_per_user: int = 2
    games_total: int = 20
    #: Browser play: games one person may start in an hour (a finished game frees its
    #: running place at once, so the running cap alone does not bound stored games).
    games_per_hour: int = 60
    #: Browser play: how long a finished game stays readable (``GET /api/games/ID``).
    game_keep_s: float = 3600.0
    #: Event streams (``GET /api/events``) one client address may hold open, and in all:
    #: each polls the database every ``poll_s``.
    streams_per_client: int = 20
    streams_total: int = 200
    #: Tournaments the worker runs: matches played at once, and where (``local``
    #: processes or a ``ray`` cluster at ``ray_address``), as ``arena tournament run``.
    match_workers: int = 1
    backend: str = "local"
    ray_address: str | None = None

    @property
    def folder(self) -> Path:
        return (self.data_dir or arena_home() / "server").absolute()

    @property
    def uploads(self) -> Path:
        return self.folder / "uploads"

    @property
    def tournaments(self) -> Path:
        return self.folder / "tournaments"
