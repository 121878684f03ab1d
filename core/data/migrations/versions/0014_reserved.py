"""Tables of issue 13 (alerts): alert rules and their firings.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30

The chain 0012-0017 is fixed in advance so that features developed side by side never create
two Alembic heads. Models: :mod:`core.alerts.models` (``alert_rules``, ``alert_firings``).
``alert_firings`` has the unique key ``(rule_id, ticker, bar_time, event_key)``: a firing
is stored (and therefore dispatched) at most once, even after a restart.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("tickers", sa.JSON(), nullable=False),
        sa.Column("condition", sa.Text(), nullable=False, server_default=""),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("cooldown", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("severity", sa.String(16), nullable=False, server_default="info"),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("last_event_id", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp()
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_alert_rules_owner", "alert_rules", ["owner"])
    op.create_table(
        "alert_firings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "rule_id",
            sa.Integer(),
            sa.ForeignKey("alert_rules.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("rule_name", sa.String(120), nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ticker", sa.String(32), nullable=False, server_default=""),
        sa.Column("bar_time", sa.DateTime(), nullable=False),
        sa.Column("event_key", sa.String(64), nullable=False, server_default=""),
        sa.Column("fired_at", sa.DateTime(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False, server_default=""),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False, server_default="info"),
        sa.UniqueConstraint(
            "rule_id", "ticker", "bar_time", "event_key", name="uq_alert_firings_key"
        ),
    )
    op.create_index("ix_alert_firings_owner", "alert_firings", ["owner"])
    op.create_index("ix_alert_firings_fired_at", "alert_firings", ["fired_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_firings_fired_at", table_name="alert_firings")
    op.drop_index("ix_alert_firings_owner", table_name="alert_firings")
    op.drop_table("alert_firings")
    op.drop_index("ix_alert_rules_owner", table_name="alert_rules")
    op.drop_table("alert_rules")
