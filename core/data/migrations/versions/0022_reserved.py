"""Scoped data versions: one counter per kind of data, moved by triggers (issue 15, load).

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30

The store's read cache (:meth:`core.data.store.Store.cached`) keeps a result while the data
it was read from are unchanged. Before this revision the token on PostgreSQL was
``pg_current_snapshot()`` and on SQLite ``PRAGMA data_version``: *any* commit (a saved
backtest run, an audit row, an order, another database of the same PostgreSQL cluster)
dropped every cached quote. Now a table ``data_versions`` holds one counter per *scope*
(``market``, ``users``, ``drawings``, ``watchlists``, ``models``) and triggers on the tables
of each scope bump that scope's counter in the writing transaction, whatever the path (ORM,
raw SQL, ``COPY``, another program):

* PostgreSQL: ``BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ... FOR EACH STATEMENT``, one
  PL/pgSQL function, bumping at most once per transaction and scope (a transaction-local
  setting remembers it). ``BEFORE`` takes the counter's row lock before the statement locks
  any data row, so two writers of one scope queue at their first statement instead of
  deadlocking.
* SQLite (no statement triggers): ``AFTER INSERT/UPDATE/DELETE ... FOR EACH ROW`` with one
  ``UPDATE`` of the counter row, on the tables of every scope **but** ``market``. A row
  trigger on ``bars`` would cost ~1,4 µs per imported bar — as much as SQLite's insert of
  the row itself (issue 14's import speed) — so on SQLite the market version stays the
  database-wide ``PRAGMA data_version`` (any commit moves it, as before this revision; a
  SQLite store is one trader's machine, where other writes are rare). The ``market`` row
  exists on both, for :meth:`core.data.store.Store.bump_data_versions`.

The table list is frozen here (a later revision that adds a table to a scope adds its
triggers; one that rebuilds a table re-creates them — ``tests/integration/
test_store_backends.py`` checks every pair of :data:`core.data.store.SCOPE_TABLES` at head).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

#: Tables whose writes move each scope's counter (frozen copy of ``SCOPE_TABLES``).
_SCOPES: dict[str, tuple[str, ...]] = {
    "market": (
        "instruments",
        "bars",
        "rates",
        "corporate_actions",
        "data_flags",
        "source_priority",
    ),
    "users": ("users",),
    "drawings": ("chart_drawings",),
    "watchlists": ("watchlists", "watchlist_entries"),
    "models": ("ml_models", "ml_promotions"),
}

#: Scopes whose SQLite version is the database-wide data_version (no triggers there).
_SQLITE_WIDE = ("market",)

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION pregao_bump_data_version() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    flag text := 'pregao.dv_' || TG_ARGV[0];
BEGIN
    IF coalesce(current_setting(flag, true), '') <> '1' THEN
        UPDATE data_versions SET version = version + 1 WHERE scope = TG_ARGV[0];
        PERFORM set_config(flag, '1', true);
    END IF;
    RETURN NULL;
END
$$
"""

_OPS = ("insert", "update", "delete")


def _existing(bind) -> set[str]:
    return set(sa.inspect(bind).get_table_names())


def _triggered(bind, pg: bool) -> list[tuple[str, str]]:
    """``(scope, table)`` of every trigger this revision owns on this database."""
    tables = _existing(bind)
    return [
        (scope, table)
        for scope, names in _SCOPES.items()
        if pg or scope not in _SQLITE_WIDE
        for table in names
        if table in tables
    ]


def upgrade() -> None:
    """Create ``data_versions`` (one row per scope at 0) and the triggers of every scope."""
    op.create_table(
        "data_versions",
        sa.Column("scope", sa.String(32), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.bulk_insert(
        sa.table("data_versions", sa.column("scope"), sa.column("version")),
        [{"scope": s, "version": 0} for s in _SCOPES],
    )
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    if pg:
        op.execute(_PG_FUNCTION)
    for scope, table in _triggered(bind, pg):
        if pg:
            op.execute(
                f"CREATE TRIGGER data_version_{table} "
                f"BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION pregao_bump_data_version('{scope}')"
            )
        else:
            for what in _OPS:
                op.execute(
                    f"CREATE TRIGGER data_version_{table}_{what} AFTER {what.upper()} "
                    f"ON {table} FOR EACH ROW BEGIN UPDATE data_versions "
                    f"SET version = version + 1 WHERE scope = '{scope}'; END"
                )


def downgrade() -> None:
    """Drop the triggers, the function and ``data_versions`` (the store falls back to the
    database-wide token of revision 0021)."""
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    for _scope, table in _triggered(bind, pg):
        if pg:
            op.execute(f"DROP TRIGGER IF EXISTS data_version_{table} ON {table}")
        else:
            for what in _OPS:
                op.execute(f"DROP TRIGGER IF EXISTS data_version_{table}_{what}")
    if pg:
        op.execute("DROP FUNCTION IF EXISTS pregao_bump_data_version()")
    op.drop_table("data_versions")
