"""Tables of issue 5: model registry, promotion history and prediction log.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

The migration chain is fixed in advance (0001 base, 0002 data, 0003 portfolio, 0004 ml,
0005 backtest) so that features developed side by side never create two Alembic heads.
The SQLAlchemy models are in ``core/ml/tables.py``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ml_models",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("model_type", sa.String(32), nullable=False),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("threshold", sa.Float(), nullable=False, server_default="0.02"),
        sa.Column("validation", sa.String(32), nullable=False),
        sa.Column("tickers", sa.Text(), nullable=False),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("lookback", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("uses_index", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("train_start", sa.DateTime(), nullable=False),
        sa.Column("train_end", sa.DateTime(), nullable=False),
        sa.Column("n_train", sa.Integer(), nullable=False),
        sa.Column("data_fingerprint", sa.String(64), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("artifact_path", sa.Text(), nullable=False),
        sa.Column("artifact_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="challenger"),
        sa.Column("gate_report", sa.Text(), nullable=False, server_default="{}"),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp()
        ),
    )
    op.create_index("ix_ml_models_target_status", "ml_models", ["target", "status"])
    op.create_table(
        "ml_promotions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column(
            "model_id",
            sa.Integer(),
            sa.ForeignKey("ml_models.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("previous_model_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("promoted_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "ml_predictions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "model_id",
            sa.Integer(),
            sa.ForeignKey("ml_models.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("ticker", sa.String(32), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("target_date", sa.DateTime(), nullable=False),
        sa.Column("p_up", sa.Float(), nullable=False),
        sa.Column("outcome", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("scored_at", sa.DateTime(), nullable=True),
    )
    op.create_index(
        "ux_ml_predictions_key", "ml_predictions", ["model_id", "ticker", "as_of"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_ml_predictions_key", table_name="ml_predictions")
    op.drop_table("ml_predictions")
    op.drop_table("ml_promotions")
    op.drop_index("ix_ml_models_target_status", table_name="ml_models")
    op.drop_table("ml_models")
