"""instruments, bars and rates

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ticker", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(128), nullable=False, server_default=""),
        sa.Column("kind", sa.String(16), nullable=False, server_default="stock"),
        sa.Column("lot_size", sa.Integer(), nullable=False, server_default="100"),
        sa.Column("currency", sa.String(8), nullable=False, server_default="BRL"),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp()
        ),
    )
    op.create_table(
        "bars",
        sa.Column(
            "instrument_id",
            sa.Integer(),
            sa.ForeignKey("instruments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("interval", sa.String(8), primary_key=True),
        sa.Column("date", sa.DateTime(), primary_key=True),
        sa.Column("open", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("close", sa.Float(), nullable=False),
        sa.Column("adj_close", sa.Float(), nullable=False),
        sa.Column("volume", sa.Float(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
    )
    op.create_index("ix_bars_date", "bars", ["date"])
    op.create_table(
        "rates",
        sa.Column("series", sa.String(16), primary_key=True),
        sa.Column("date", sa.DateTime(), primary_key=True),
        sa.Column("value", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rates")
    op.drop_index("ix_bars_date", table_name="bars")
    op.drop_table("bars")
    op.drop_table("instruments")
