"""Issue 14 (Mercado): named watchlists.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30

The chain 0018-0020 is fixed in advance so that features developed side by side never create
two Alembic heads. Once applied anywhere, a revision is never edited.

A trader keeps several named lists ("Bancos", "Day trade", ...), not one "Minha lista":

* ``watchlists``: ``id``, ``name`` (1-40 characters), ``owner`` (NULL = the team's / local
  mode's list; a user name = that user's own list, rule of :mod:`core.ownership`),
  ``created_at``; a unique index on ``(coalesce(owner, ''), name)`` (names unique per owner,
  the team's among themselves too).
* ``watchlist_entries``: ``watchlist_id`` (cascade), ``instrument_id`` (cascade), ``position``;
  primary key ``(watchlist_id, instrument_id)``.

Upgrade moves the single lists into named ones: the rows of ``watchlist`` (0006, the team's
list) become the team's list "Minha lista" (created even when empty, so Mercado always has a
default), each user's rows of ``user_watchlists`` (0017) become that user's "Minha lista".
The two old tables are dropped. Downgrade recreates them from the lists named "Minha lista"
(other named lists are lost) and drops the new tables.
Models: :mod:`core.data.watchlist`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

DEFAULT = "Minha lista"


def _old_tables() -> None:
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
    op.create_table(
        "user_watchlists",
        sa.Column("owner", sa.String(64), primary_key=True),
        sa.Column(
            "instrument_id",
            sa.Integer(),
            sa.ForeignKey("instruments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
    )


def upgrade() -> None:
    op.create_table(
        "watchlists",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp()
        ),
    )
    op.create_index(
        "ux_watchlists_owner_name",
        "watchlists",
        [sa.text("coalesce(owner, '')"), "name"],
        unique=True,
    )
    op.create_table(
        "watchlist_entries",
        sa.Column(
            "watchlist_id",
            sa.Integer(),
            sa.ForeignKey("watchlists.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "instrument_id",
            sa.Integer(),
            sa.ForeignKey("instruments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
    )
    bind = op.get_bind()
    bind.execute(sa.text("INSERT INTO watchlists (name, owner) VALUES (:n, NULL)"), {"n": DEFAULT})
    bind.execute(
        sa.text(
            "INSERT INTO watchlist_entries (watchlist_id, instrument_id, position) "
            "SELECT w.id, o.instrument_id, o.position FROM watchlist o "
            "JOIN watchlists w ON w.owner IS NULL AND w.name = :n"
        ),
        {"n": DEFAULT},
    )
    owners = [r[0] for r in bind.execute(sa.text("SELECT DISTINCT owner FROM user_watchlists"))]
    for owner in owners:
        bind.execute(
            sa.text("INSERT INTO watchlists (name, owner) VALUES (:n, :o)"),
            {"n": DEFAULT, "o": owner},
        )
    bind.execute(
        sa.text(
            "INSERT INTO watchlist_entries (watchlist_id, instrument_id, position) "
            "SELECT w.id, u.instrument_id, u.position FROM user_watchlists u "
            "JOIN watchlists w ON w.owner = u.owner AND w.name = :n"
        ),
        {"n": DEFAULT},
    )
    op.drop_table("user_watchlists")
    op.drop_table("watchlist")


def downgrade() -> None:
    _old_tables()
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "INSERT INTO watchlist (instrument_id, position) "
            "SELECT e.instrument_id, e.position FROM watchlist_entries e "
            "JOIN watchlists w ON w.id = e.watchlist_id WHERE w.owner IS NULL AND w.name = :n"
        ),
        {"n": DEFAULT},
    )
    bind.execute(
        sa.text(
            "INSERT INTO user_watchlists (owner, instrument_id, position) "
            "SELECT w.owner, e.instrument_id, e.position FROM watchlist_entries e "
            "JOIN watchlists w ON w.id = e.watchlist_id "
            "WHERE w.owner IS NOT NULL AND w.name = :n"
        ),
        {"n": DEFAULT},
    )
    op.drop_table("watchlist_entries")
    op.drop_index("ux_watchlists_owner_name", table_name="watchlists")
    op.drop_table("watchlists")
