"""Issue 9 (prices): volume units, data flags and the Mercado watchlist.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

* ``instruments.volume_unit`` – the unit of the volume column of every series of the
  instrument (``shares``, ``contracts``, ``brl``, ``points``, ``unknown``); one unit per
  series, never mixed (:data:`core.data.models.VOLUME_UNITS`).
* ``data_flags`` – what the quality report cannot call "ok": sources that disagree on a
  date, price bases that could not be checked against B3 (:class:`core.data.import_models.DataFlag`).
* ``watchlist`` – the tickers of the Mercado page's "Minha lista" view
  (:class:`core.data.import_models.WatchlistItem`).

Models: :mod:`core.data.models`, :mod:`core.data.import_models`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instruments") as batch:
        batch.add_column(
            sa.Column("volume_unit", sa.String(16), nullable=False, server_default="shares")
        )
    op.execute("UPDATE instruments SET volume_unit = 'points' WHERE kind = 'index'")
    op.create_table(
        "data_flags",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "instrument_id",
            sa.Integer(),
            sa.ForeignKey("instruments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("date", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("source", sa.String(32), nullable=False, server_default=""),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.UniqueConstraint("instrument_id", "date", "kind", name="uq_data_flag"),
    )
    op.create_table(
        "watchlist",
        sa.Column(
            "instrument_id",
            sa.Integer(),
            sa.ForeignKey("instruments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("watchlist")
    op.drop_table("data_flags")
    with op.batch_alter_table("instruments") as batch:
        batch.drop_column("volume_unit")
