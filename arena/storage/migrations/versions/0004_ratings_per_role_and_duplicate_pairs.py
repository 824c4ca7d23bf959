"""ratings per role; matches of role-asymmetric envs rated in duplicate pairs

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 10:00:00.000000

``ratings.role`` ("" for the overall rating) joins the rating's key, so an
agent version has one overall rating per env and, in role-asymmetric envs, one
per role. Stored ratings become overall ratings.

``matches.duplicate_id`` links the two matches of a duplicate pair (the id of
the pair's first match, on both); stored matches are in no pair. It is a plain
indexed integer, not a foreign key, so SQLite adds it without copying the table.

The old unique key (agent version, env) has no name in 0001: SQLite reflects it
without one, so the batch recreate names it by a naming convention to drop it;
PostgreSQL gave it a name, read from the database.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_OLD_KEY = ["agent_version_id", "env_id"]
_NEW_KEY = "uq_ratings_version_env_role"
# What an unnamed unique key of ratings is called inside a SQLite batch recreate.
_CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _old_key_name() -> str:
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints("ratings"):
        if sorted(constraint["column_names"]) == sorted(_OLD_KEY):
            return constraint["name"] or "uq_ratings_agent_version_id"
    raise RuntimeError("ratings has no unique key on (agent_version_id, env_id) to replace")


def upgrade() -> None:
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duplicate_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_matches_duplicate_id"), ["duplicate_id"], unique=False)

    old = _old_key_name()
    with op.batch_alter_table("ratings", schema=None, naming_convention=_CONVENTION) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=64), server_default=sa.text("''"), nullable=False)
        )
        batch_op.drop_constraint(old, type_="unique")
        batch_op.create_unique_constraint(_NEW_KEY, ["agent_version_id", "env_id", "role"])


def downgrade() -> None:
    # Per-role rows cannot survive the old key: only the overall ratings stay.
    op.execute(
        sa.text(
            "DELETE FROM rating_history WHERE rating_id IN "
            "(SELECT id FROM ratings WHERE role <> '')"
        )
    )
    op.execute(sa.text("DELETE FROM ratings WHERE role <> ''"))
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_constraint(_NEW_KEY, type_="unique")
        batch_op.create_unique_constraint("uq_ratings_agent_version_id", _OLD_KEY)
        batch_op.drop_column("role")

    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matches_duplicate_id"))
        batch_op.drop_column("duplicate_id")
