"""Tables of issue 13's channels: the delivery log, the in-app inbox, paused channels.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30

The chain 0012-0017 is fixed in advance so that features developed side by side never create
two Alembic heads. Models: :mod:`core.alerts.delivery_models`. No foreign key to
``alert_firings`` (0014): a delivery row carries its firing as JSON, so the log survives the
firing's rule being deleted, and a test message has no firing.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("firing_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(64), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("max_attempts", sa.Integer(), nullable=False, server_default="6"),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=False, server_default=""),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(80), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("firing_id", "channel", "target", name="uq_alert_deliveries_firing"),
    )
    op.create_index("ix_alert_deliveries_due", "alert_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_alert_deliveries_created", "alert_deliveries", ["created_at"])
    op.create_table(
        "alert_inbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("firing_id", sa.Integer(), nullable=True, unique=True),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("rule_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("ticker", sa.String(32), nullable=True),
        sa.Column("severity", sa.String(16), nullable=False, server_default="info"),
        sa.Column("message", sa.Text(), nullable=False, server_default=""),
        sa.Column("bar_time", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("owner", sa.String(64), nullable=True),
    )
    op.create_index("ix_alert_inbox_unread", "alert_inbox", ["read_at", "id"])
    op.create_table(
        "alert_channel_state",
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("paused_until", sa.DateTime(), nullable=True),
        sa.Column("paused_by", sa.String(80), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alert_channel_state")
    op.drop_index("ix_alert_inbox_unread", table_name="alert_inbox")
    op.drop_table("alert_inbox")
    op.drop_index("ix_alert_deliveries_created", table_name="alert_deliveries")
    op.drop_index("ix_alert_deliveries_due", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
