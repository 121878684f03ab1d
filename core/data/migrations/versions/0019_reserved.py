"""Paper runners on intraday bars: the bar interval a runner trades (issue 14, wintrade).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30

``paper_runners.interval`` (``1d`` default, ``5min`` ... ``60min``): a runner resumed after a
restart must replay the same bars; a runner of another interval on the same account is a
different configuration (refused). Existing rows are daily runners.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``paper_runners.interval``."""
    with op.batch_alter_table("paper_runners") as batch:
        batch.add_column(sa.Column("interval", sa.String(8), nullable=False, server_default="1d"))


def downgrade() -> None:
    """Drop ``paper_runners.interval``."""
    with op.batch_alter_table("paper_runners") as batch:
        batch.drop_column("interval")
