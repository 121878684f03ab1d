"""Tables of issue 12 (automation): strategy runners, their equity, the signal log and the
ML training data.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

The chain 0012-0017 is fixed in advance so that features developed side by side never create
two Alembic heads. Once applied anywhere, a revision is never edited; later schema changes go
into a new revision on top of the head. Models: :mod:`core.trading.runner_models`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_runners",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(64), nullable=False, unique=True),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("params", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("tickers", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("engine", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("feed", sa.String(16), nullable=False, server_default="replay"),
        sa.Column("start", sa.DateTime(), nullable=True),
        sa.Column("end", sa.DateTime(), nullable=True),
        sa.Column("speed", sa.Float(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="parado"),
        sa.Column("last_bar", sa.DateTime(), nullable=True),
        sa.Column("bars_done", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("bars_total", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("message", sa.Text(), nullable=False, server_default=""),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp()
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "paper_runner_equity",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("runner_id", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("equity", sa.Float(), nullable=False),
        sa.Column("cash", sa.Float(), nullable=False),
        sa.Column("traded", sa.Float(), nullable=False, server_default="0"),
        sa.Column("slip_abs", sa.Float(), nullable=False, server_default="0"),
        sa.UniqueConstraint("runner_id", "time", name="uq_runner_equity_time"),
    )
    op.create_index("ix_paper_runner_equity_runner_id", "paper_runner_equity", ["runner_id"])
    op.create_table(
        "paper_signals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("runner_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("ticker", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("entry", sa.Float(), nullable=True),
        sa.Column("stop", sa.Float(), nullable=True),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("reasoning", sa.Text(), nullable=False, server_default="{}"),
        sa.UniqueConstraint("runner_id", "time", "ticker", "kind", name="uq_paper_signal"),
    )
    op.create_index("ix_paper_signals_runner_id", "paper_signals", ["runner_id"])
    op.create_index("ix_paper_signals_account", "paper_signals", ["account"])
    op.create_table(
        "ml_training_data",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("trade_id", sa.String(128), nullable=False, unique=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("trade_date", sa.DateTime(), nullable=False),
        sa.Column("exit_date", sa.DateTime(), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("entry_price", sa.Float(), nullable=False),
        sa.Column("exit_price", sa.Float(), nullable=False),
        sa.Column("return_pct", sa.Float(), nullable=False),
        sa.Column("result", sa.String(8), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column("strategy_score", sa.Float(), nullable=True),
        sa.Column("signal_type", sa.String(32), nullable=False, server_default=""),
        sa.Column("features", sa.Text(), nullable=False, server_default="{}"),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp()
        ),
    )
    op.create_index("ix_ml_training_data_account", "ml_training_data", ["account"])
    op.create_index("ix_ml_training_data_trade_date", "ml_training_data", ["trade_date"])
    op.create_index("ix_ml_training_data_symbol", "ml_training_data", ["symbol"])
    op.create_index("ix_ml_training_data_result", "ml_training_data", ["result"])


def downgrade() -> None:
    op.drop_table("ml_training_data")
    op.drop_table("paper_signals")
    op.drop_table("paper_runner_equity")
    op.drop_table("paper_runners")
