"""Bars stored in one B-tree: ``WITHOUT ROWID`` on SQLite, no separate date index (issue 14).

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30

Importing the bundled WINFUT 5-minute file (20.001 bars, goal ≥ 200.000 bars/s) spent
most of its write time putting every row into three B-trees: SQLite's rowid table, the
``(instrument_id, interval, date)`` primary-key index and ``ix_bars_date``. After this
revision:

* **SQLite** – ``bars`` is a ``WITHOUT ROWID`` table: the composite primary key *is* the
  table's B-tree (rows stored in key order), so a row is written once, a series read is
  one range scan of the key with no second lookup, and the file is about half the size
  (https://www.sqlite.org/withoutrowid.html). SQLite cannot change that property in place:
  the table is rebuilt (new table, rows copied in key order, old table dropped, new one
  renamed), inside the migration's transaction.
* **Both dialects** – ``ix_bars_date`` is dropped. Every bar query filters on
  ``instrument_id`` and ``interval`` first and walks the primary key (checked with
  ``EXPLAIN QUERY PLAN`` / ``EXPLAIN``); the one query that used the date index,
  :meth:`core.data.store.Store.last_date` without a ticker, now takes the newest date per
  instrument through the primary key. PostgreSQL has no ``WITHOUT ROWID`` (a heap plus
  its primary-key index): there only the index goes.

``downgrade()`` restores the rowid table and the index, rows preserved.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_COLS = (
    "instrument_id",
    "interval",
    "date",
    "open",
    "high",
    "low",
    "close",
    "adj_close",
    "volume",
    "source",
)


def _bars_columns() -> list[sa.Column]:
    """The columns of ``bars`` exactly as revision 0001 created them."""
    return [
        sa.Column(
            "instrument_id",
            sa.Integer(),
            sa.ForeignKey("instruments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("interval", sa.String(8), primary_key=True),
        sa.Column("date", sa.DateTime(), primary_key=True),
        sa.Column("open", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("close", sa.Float(), nullable=False),
        sa.Column("adj_close", sa.Float(), nullable=False),
        sa.Column("volume", sa.Float(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
    ]


def _rebuild_sqlite(*, with_rowid: bool) -> None:
    """Copy ``bars`` into a new table of the wanted kind and put it in the old one's place.

    No table references ``bars`` and no view or trigger names it, so dropping and renaming
    inside the transaction is safe with ``foreign_keys=ON``.
    """
    op.create_table("_bars_0021", *_bars_columns(), sqlite_with_rowid=with_rowid)
    cols = ", ".join(_COLS)
    op.execute(
        f"INSERT INTO _bars_0021 ({cols}) SELECT {cols} FROM bars "
        "ORDER BY instrument_id, interval, date"
    )
    op.drop_table("bars")
    op.rename_table("_bars_0021", "bars")


def upgrade() -> None:
    """Drop ``ix_bars_date``; on SQLite rebuild ``bars`` as a ``WITHOUT ROWID`` table."""
    op.drop_index("ix_bars_date", table_name="bars")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(with_rowid=False)


def downgrade() -> None:
    """Back to a rowid table (SQLite) with the separate ``ix_bars_date`` index."""
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(with_rowid=True)
    op.create_index("ix_bars_date", "bars", ["date"])
