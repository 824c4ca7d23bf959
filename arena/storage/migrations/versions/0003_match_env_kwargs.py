"""matches carry their env kwargs

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 10:00:00.000000

A match row now says what its env was built with, so a replay needs no
tournament table. Matches stored before get ``{}``, and a tournament's matches
get the ``[tournament].env_kwargs`` of its stored file. The tournament row keeps
only the latest file: a run played under older kwargs gets the latest ones,
the only ones stored (the run key changes with them, so such a run is an
abandoned or finished older run).

The backfill runs in Python, one UPDATE per tournament with kwargs, so it is
the same on SQLite and PostgreSQL.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The tables as this revision knows them (not the models, which move on).
_tournaments = sa.table("tournaments", sa.column("id", sa.Integer), sa.column("config", sa.JSON))
_runs = sa.table("runs", sa.column("id", sa.Integer), sa.column("tournament_id", sa.Integer))
_matches = sa.table("matches", sa.column("run_id", sa.Integer), sa.column("env_kwargs", sa.JSON))


def _env_kwargs(config: Any) -> dict[str, Any]:
    """``[tournament].env_kwargs`` of a stored tournament file, or ``{}``."""
    table = config.get("tournament") if isinstance(config, dict) else None
    kwargs = table.get("env_kwargs") if isinstance(table, dict) else None
    return dict(kwargs) if isinstance(kwargs, dict) else {}


def upgrade() -> None:
    # A constant default: SQLite and PostgreSQL add the column without rewriting matches.
    op.add_column(
        "matches",
        sa.Column("env_kwargs", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
    )
    conn = op.get_bind()
    stored = conn.execute(sa.select(_tournaments.c.id, _tournaments.c.config)).all()
    for tournament_id, config in stored:
        kwargs = _env_kwargs(config)
        if kwargs:
            runs = sa.select(_runs.c.id).where(_runs.c.tournament_id == tournament_id)
            conn.execute(
                _matches.update().where(_matches.c.run_id.in_(runs)).values(env_kwargs=kwargs)
            )


def downgrade() -> None:
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_column("env_kwargs")
