"""Issue 14 (Cotações): the ``chart_drawings`` table of :mod:`core.drawings`.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30

The chain 0012-0017 is fixed in advance so that features developed side by side never create
two Alembic heads. A revision left empty here stays a no-op forever: once applied anywhere, a
revision is never edited; later schema changes go into a new revision on top of the head.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chart_drawings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ticker", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("x0", sa.DateTime(), nullable=False),
        sa.Column("x1", sa.DateTime(), nullable=False),
        sa.Column("y0", sa.Float(), nullable=False),
        sa.Column("y1", sa.Float(), nullable=False),
        sa.Column("style", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp()
        ),
    )
    op.create_index("ix_chart_drawings_ticker", "chart_drawings", ["ticker"])
    op.create_index("ix_chart_drawings_owner", "chart_drawings", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_chart_drawings_owner", "chart_drawings")
    op.drop_index("ix_chart_drawings_ticker", "chart_drawings")
    op.drop_table("chart_drawings")
