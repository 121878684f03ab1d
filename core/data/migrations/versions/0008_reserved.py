"""Issue 10 (ML): library and feature-set versions per model, the data's last date, and the
outcome of each retrain in the promotion history.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

* ``ml_models.versions`` (JSON text: python, numpy, pandas, scikit-learn, xgboost, lightgbm),
  ``ml_models.feature_version`` (:data:`core.ml.features.FEATURE_VERSION`) and
  ``ml_models.data_end`` (last bar date of the training data, for the fingerprint check at
  predict time). NULL for models trained before this revision.
* ``ml_promotions.outcome``: ``promoted`` (existing rows) or ``kept`` (a retrain that did not
  replace the champion — a tie keeps the champion and is recorded).

Models: :mod:`core.ml.tables`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ml_models") as b:
        b.add_column(sa.Column("versions", sa.Text(), nullable=True))
        b.add_column(sa.Column("feature_version", sa.String(32), nullable=True))
        b.add_column(sa.Column("data_end", sa.DateTime(), nullable=True))
    with op.batch_alter_table("ml_promotions") as b:
        b.add_column(sa.Column("outcome", sa.String(16), nullable=False, server_default="promoted"))


def downgrade() -> None:
    with op.batch_alter_table("ml_promotions") as b:
        b.drop_column("outcome")
    with op.batch_alter_table("ml_models") as b:
        b.drop_column("data_end")
        b.drop_column("feature_version")
        b.drop_column("versions")
