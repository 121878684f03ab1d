"""Reserved revision (no-op until its feature fills it in).

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30

The chain is fixed in advance so that features developed side by side never create two
Alembic heads. Once applied anywhere, a revision is never edited.
"""

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """No schema change."""


def downgrade() -> None:
    """No schema change."""
