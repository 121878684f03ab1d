"""Paper signal log: ``paper_signals.kind`` holds ``entry_short`` (issue 12).

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30

The signal kinds a runner logs are ``entry_long``, ``exit_long``, ``entry_short`` and
``exit_short`` (9-11 characters) but revision 0013 made the column ``VARCHAR(8)``. SQLite
does not enforce the length, so local accounts worked; on PostgreSQL (team mode) a runner
failed at its first logged signal. The column becomes ``VARCHAR(16)``.

Once applied anywhere, a revision is never edited.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Widen ``paper_signals.kind`` to 16 characters."""
    with op.batch_alter_table("paper_signals") as batch:
        batch.alter_column(
            "kind", existing_type=sa.String(8), type_=sa.String(16), existing_nullable=False
        )


def downgrade() -> None:
    """Narrow it back to 8 characters (longer kinds are cut: the old schema cannot hold them)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE paper_signals SET kind = left(kind, 8) WHERE length(kind) > 8")
    with op.batch_alter_table("paper_signals") as batch:
        batch.alter_column(
            "kind", existing_type=sa.String(16), type_=sa.String(8), existing_nullable=False
        )
