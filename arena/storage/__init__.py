"""Storage: SQLAlchemy 2.0 models, Alembic migrations and the single writer."""

from arena.storage.db import connect, default_url, session_factory

__all__ = ["connect", "default_url", "session_factory"]
