"""Tables of issue 12: paper trading (accounts, orders, order history, fills, positions, cash
ledger, realised trades, account events).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

Models: :mod:`core.trading.models`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_accounts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("owner", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("initial_cash", sa.Float(), nullable=False),
        sa.Column("costs", sa.String(16), nullable=False),
        sa.Column("engine", sa.JSON(), nullable=False),
        sa.Column("risk", sa.JSON(), nullable=False),
        sa.Column("clock", sa.DateTime(), nullable=True),
        sa.Column("session", sa.DateTime(), nullable=True),
        sa.Column("day_start_equity", sa.Float(), nullable=True),
        sa.Column("peak_equity", sa.Float(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("block_reason", sa.String(500), nullable=False),
        sa.Column("loss_limit_day", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_paper_accounts_owner", "paper_accounts", ["owner"])
    op.create_table(
        "paper_orders",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("paper_accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("client_id", sa.String(100), nullable=True),
        sa.Column("ticker", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("filled_qty", sa.Integer(), nullable=False),
        sa.Column("price", sa.Float(), nullable=True),
        sa.Column("stop_price", sa.Float(), nullable=True),
        sa.Column("stop_loss", sa.Float(), nullable=True),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("tif", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("oco_group", sa.String(64), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("triggered", sa.Boolean(), nullable=False),
        sa.Column("fractional", sa.Boolean(), nullable=False),
        sa.Column("avg_fill_price", sa.Float(), nullable=True),
        sa.Column("fees", sa.Float(), nullable=False),
        sa.Column("session", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("signal_time", sa.DateTime(), nullable=True),
        sa.Column("note", sa.String(500), nullable=False),
        sa.UniqueConstraint("account_id", "client_id", name="uq_paper_orders_client"),
    )
    op.create_index("ix_paper_orders_account_id", "paper_orders", ["account_id"])
    op.create_index("ix_paper_orders_status", "paper_orders", ["status"])
    op.create_table(
        "paper_order_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "order_id",
            sa.Integer(),
            sa.ForeignKey("paper_orders.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
    )
    op.create_index("ix_paper_order_events_order_id", "paper_order_events", ["order_id"])
    op.create_table(
        "paper_fills",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "order_id",
            sa.Integer(),
            sa.ForeignKey("paper_orders.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("paper_accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("ticker", sa.String(32), nullable=False),
        sa.Column("market_ticker", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("fees", sa.Float(), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
    )
    op.create_index("ix_paper_fills_order_id", "paper_fills", ["order_id"])
    op.create_index("ix_paper_fills_account_id", "paper_fills", ["account_id"])
    op.create_table(
        "paper_positions",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("paper_accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("ticker", sa.String(32), primary_key=True),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("avg_price", sa.Float(), nullable=False),
        sa.Column("avg_fill", sa.Float(), nullable=False),
        sa.Column("realized_pnl", sa.Float(), nullable=False),
        sa.Column("last", sa.Float(), nullable=True),
        sa.Column("last_time", sa.DateTime(), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=True),
        sa.Column("day_session", sa.DateTime(), nullable=True),
        sa.Column("day_qty", sa.Integer(), nullable=False),
        sa.Column("day_avg", sa.Float(), nullable=False),
        sa.Column("day_fee", sa.Float(), nullable=False),
        sa.Column("day_fee_rate", sa.Float(), nullable=False),
    )
    op.create_table(
        "paper_ledger",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("paper_accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("settle_date", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ticker", sa.String(32), nullable=True),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("balance", sa.Float(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("fill_id", sa.Integer(), nullable=True),
        sa.Column("ref", sa.String(64), nullable=True),
        sa.Column("description", sa.String(300), nullable=False),
    )
    op.create_index("ix_paper_ledger_account_id", "paper_ledger", ["account_id"])
    op.create_table(
        "paper_trades",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("paper_accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("fill_id", sa.Integer(), nullable=False),
        sa.Column("ticker", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("entry_date", sa.DateTime(), nullable=False),
        sa.Column("entry_price", sa.Float(), nullable=False),
        sa.Column("exit_date", sa.DateTime(), nullable=False),
        sa.Column("exit_price", sa.Float(), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=False),
        sa.Column("entry_value", sa.Float(), nullable=False),
        sa.Column("exit_value", sa.Float(), nullable=False),
        sa.Column("fees", sa.Float(), nullable=False),
        sa.Column("pnl", sa.Float(), nullable=False),
        sa.Column("day_trade", sa.Boolean(), nullable=False),
        sa.Column("day_trade_qty", sa.Integer(), nullable=False),
        sa.Column("day_trade_pnl", sa.Float(), nullable=False),
        sa.Column("swing_pnl", sa.Float(), nullable=False),
        sa.Column("sale_value", sa.Float(), nullable=False),
        sa.Column("day_trade_sale_value", sa.Float(), nullable=False),
        sa.Column("exit_reason", sa.String(16), nullable=False),
    )
    op.create_index("ix_paper_trades_account_id", "paper_trades", ["account_id"])
    op.create_table(
        "paper_equity",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("paper_accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("date", sa.DateTime(), primary_key=True),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("equity", sa.Float(), nullable=False),
        sa.Column("cash", sa.Float(), nullable=False),
        sa.Column("gross_exposure", sa.Float(), nullable=False),
    )
    op.create_table(
        "paper_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("paper_accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("ticker", sa.String(32), nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
    )
    op.create_index("ix_paper_events_account_id", "paper_events", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_paper_events_account_id", table_name="paper_events")
    op.drop_index("ix_paper_trades_account_id", table_name="paper_trades")
    op.drop_index("ix_paper_ledger_account_id", table_name="paper_ledger")
    op.drop_index("ix_paper_fills_account_id", table_name="paper_fills")
    op.drop_index("ix_paper_fills_order_id", table_name="paper_fills")
    op.drop_index("ix_paper_order_events_order_id", table_name="paper_order_events")
    op.drop_index("ix_paper_orders_status", table_name="paper_orders")
    op.drop_index("ix_paper_orders_account_id", table_name="paper_orders")
    op.drop_index("ix_paper_accounts_owner", table_name="paper_accounts")
    op.drop_table("paper_events")
    op.drop_table("paper_equity")
    op.drop_table("paper_trades")
    op.drop_table("paper_ledger")
    op.drop_table("paper_positions")
    op.drop_table("paper_fills")
    op.drop_table("paper_order_events")
    op.drop_table("paper_orders")
    op.drop_table("paper_accounts")
