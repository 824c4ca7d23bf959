"""Alembic environment: runs on the connection the arena hands over."""

from alembic import context
from sqlalchemy import create_engine

from arena.storage import accounts  # noqa: F401  (the web service's tables, on the same Base)
from arena.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # the plain `alembic` command line, for contributors
        from arena.storage.db import default_url

        engine = create_engine(config.get_main_option("sqlalchemy.url") or default_url())
        with engine.begin() as conn:
            context.configure(
                connection=conn, target_metadata=target_metadata, render_as_batch=True
            )
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
