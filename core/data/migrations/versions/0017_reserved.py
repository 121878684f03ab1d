"""Reserved revision for issue 15 (per-user ownership).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30

The chain 0012-0017 is fixed in advance so that features developed side by side never create
two Alembic heads. A revision left empty here stays a no-op forever: once applied anywhere, a
revision is never edited; later schema changes go into a new revision on top of the head.
"""

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
