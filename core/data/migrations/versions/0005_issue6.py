"""Tables of issue 6: backtest runs.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

The migration chain is fixed in advance (0001 base, 0002 data, 0003 portfolio, 0004 ml,
0005 backtest) so that features developed side by side never create two Alembic heads.
Until its feature lands this revision changes nothing.
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
