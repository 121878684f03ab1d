"""Reserved revision for issue 11 (request layer and background jobs).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

The chain 0006-0011 is fixed in advance so that features developed side by side never create
two Alembic heads. A revision left empty here stays a no-op forever: once applied anywhere, a
revision is never edited; later schema changes go into a new revision on top of the head.
"""

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
