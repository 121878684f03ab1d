"""Issue 9 (backtest): proventos and the tax split of each stored backtest trade.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

``backtest_trades`` gains ``proventos`` (net cash received or paid while the trade was
open), ``day_trade_qty``/``day_trade_pnl``/``swing_pnl`` (the income-tax split of a trade
whose exit was matched by a same-session re-entry) and ``sale_value``/
``day_trade_sale_value`` (the R$ 20.000 test). All nullable: runs stored before this
revision reopen with the old reading (whole trade swing or day trade, no proventos).
Models: :mod:`core.backtest.models`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("proventos", sa.Float()),
    ("day_trade_qty", sa.Integer()),
    ("day_trade_pnl", sa.Float()),
    ("swing_pnl", sa.Float()),
    ("sale_value", sa.Float()),
    ("day_trade_sale_value", sa.Float()),
)


def upgrade() -> None:
    with op.batch_alter_table("backtest_trades") as batch:
        for name, type_ in _COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("backtest_trades") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
