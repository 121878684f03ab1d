"""Tables of issue 4: saved portfolios.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

The migration chain is fixed in advance (0001 base, 0002 data, 0003 portfolio, 0004 ml,
0005 backtest) so that features developed side by side never create two Alembic heads.

``portfolios``: name (unique), tickers / weights / parameters as JSON text, created_at.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portfolios",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("tickers", sa.Text(), nullable=False),
        sa.Column("weights", sa.Text(), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False, server_default="{}"),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp()
        ),
    )


def downgrade() -> None:
    op.drop_table("portfolios")
