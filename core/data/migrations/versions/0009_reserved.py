"""Tables of issue 10 (portfolio): stored portfolio runs (analyses and walk-forward tests).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

The chain 0006-0011 is fixed in advance so that features developed side by side never create
two Alembic heads. Once applied anywhere, a revision is never edited; later schema changes go
into a new revision on top of the head. Model: :mod:`core.portfolio.models`.

``portfolio_runs``: one row per computed portfolio analysis (Carteira page, ``frontier``) or
walk-forward backtest (``portfolio-backtest``): ``kind`` (``analysis`` | ``walk_forward``),
``owner`` (the user in team mode; NULL locally), ``parameters`` and ``summary`` (small JSON
text) and ``result`` (the full JSON result).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portfolio_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp()
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("parameters", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("summary", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("result", sa.Text(), nullable=False),
    )
    op.create_index("ix_portfolio_runs_kind_created", "portfolio_runs", ["kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_portfolio_runs_kind_created", table_name="portfolio_runs")
    op.drop_table("portfolio_runs")
