"""Reserved revision (filled by the feature that needs a schema change, else a no-op).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30

The chain 0018-0020 is fixed in advance so that features developed side by side never create
two Alembic heads. Once applied anywhere, a revision is never edited.
"""

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """No schema change (yet)."""


def downgrade() -> None:
    """No schema change (yet)."""
