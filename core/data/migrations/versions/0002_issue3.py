"""Tables of issue 3: data imports (import log, corporate actions, source priority).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

The migration chain is fixed in advance (0001 base, 0002 data, 0003 portfolio, 0004 ml,
0005 backtest) so that features developed side by side never create two Alembic heads.
Until its feature lands this revision changes nothing.
"""

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
