"""Paper orders: index for the risk manager's orders-of-the-session count (issue 12).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30

Every order submission counts the account's entry orders of the session (the
``max_orders_per_day`` rule). With only the ``account_id`` index that count walks all of the
account's orders ever sent; ``(account_id, session)`` makes it walk today's only, so a
long-lived account's submission does not slow down as its history grows.

The chain 0018-0020 is fixed in advance so that features developed side by side never create
two Alembic heads. Once applied anywhere, a revision is never edited.
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``ix_paper_orders_account_session`` on ``paper_orders(account_id, session)``."""
    op.create_index("ix_paper_orders_account_session", "paper_orders", ["account_id", "session"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_paper_orders_account_session", table_name="paper_orders")
