"""Scoped data versions (issue 15, load; Alembic 0022) on a SQLite file and on PostgreSQL.

A write to a table of a scope moves that scope's data version (whatever the path: the
store's API, raw SQL, PostgreSQL's COPY, another engine) and no other scope's; a write to a
table outside every scope (the audit log, a saved backtest run) moves none. The one
exception: on SQLite the ``market`` version moves with every commit
(``SQLITE_WIDE_SCOPES``: no row trigger on ``bars``). Regression tests: before 0022 every
commit moved every version (PostgreSQL's ``pg_current_snapshot()``, SQLite's
``PRAGMA data_version``), so the "does not move" assertions failed.
"""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from core.data.store import SCOPE_TABLES, SCOPES, SQLITE_WIDE_SCOPES, init_db
from tests.helpers import make_bars

#: A change of every row of each scoped table (SQLite does not count an UPDATE that writes
#: the same values as a change).
_CHANGE = {
    "instruments": "name = name || 'x'",
    "bars": "close = close + 1",
    "rates": "value = value + 0.001",
    "corporate_actions": "value = value + 0.01",
    "data_flags": "detail = detail || 'x'",
    "source_priority": "sources = sources || ',x'",
    "users": "failed_logins = failed_logins + 1",
    "chart_drawings": "y0 = y0 + 1",
    "watchlists": "name = name || 'x'",
    "watchlist_entries": "position = position + 1",
    "ml_models": "name = name || 'x'",
    "ml_promotions": "reason = reason || 'x'",
}

_ML_MODEL = (
    "INSERT INTO ml_models (name, model_type, target, horizon, threshold, validation, tickers,"
    " features, lookback, uses_index, params, train_start, train_end, n_train,"
    " data_fingerprint, metrics, artifact_path, artifact_sha256, status, gate_report)"
    " VALUES ('m', 'logreg', 'up', 1, 0.02, 'walk', '[]', '[]', 1, 0, '{}',"
    " '2024-01-01 00:00:00', '2024-06-01 00:00:00', 10, 'f', '{}', 'a', 's',"
    " 'challenger', '{}')"
)


def _fill(store) -> None:
    """At least one row in every scoped table, written through the owning modules."""
    from core.data.watchlist import create_watchlist
    from core.drawings import Drawing, save_drawings
    from dashboard.users import add_user

    store.upsert_instrument("PETR4")
    store.write_bars("PETR4", make_bars([(10, 11, 9, 10.5, 100)] * 3), "t")
    store.write_rates("CDI", pd.Series([0.04], index=pd.DatetimeIndex(["2024-01-02"])))
    add_user(store, "ana", "correct horse battery", "trader")
    t0 = pd.Timestamp("2024-01-02")
    save_drawings(store, "PETR4", [Drawing("PETR4", "level", t0, t0, 10.0, 10.0)], author="ana")
    create_watchlist(store, "Favoritas", ["PETR4"])
    with store.transaction() as c:
        iid = c.execute(text("SELECT id FROM instruments WHERE ticker = 'PETR4'")).scalar()
        c.execute(
            text(
                "INSERT INTO corporate_actions (instrument_id, date, kind, value, source)"
                " VALUES (:i, '2023-01-02 00:00:00', 'dividend', 0.1, 't')"
            ),
            {"i": iid},
        )
        c.execute(
            text(
                "INSERT INTO data_flags (instrument_id, date, kind, source, detail)"
                " VALUES (:i, '2024-01-02 00:00:00', 'gap', 't', '')"
            ),
            {"i": iid},
        )
        c.execute(
            text("INSERT INTO source_priority (instrument_id, sources) VALUES (:i, 't')"),
            {"i": iid},
        )
        c.execute(text(_ML_MODEL))
        mid = c.execute(text("SELECT max(id) FROM ml_models")).scalar()
        c.execute(
            text(
                "INSERT INTO ml_promotions (target, model_id, reason, promoted_at, outcome)"
                " VALUES ('up', :m, '', '2024-06-02 00:00:00', 'promoted')"
            ),
            {"m": mid},
        )


def _versions(store) -> dict:
    return {s: store.data_version(s) for s in SCOPES}


def _moved(before: dict, after: dict) -> set[str]:
    return {s for s in SCOPES if before[s] != after[s]}


def _any_commit(store) -> set[str]:
    """The scopes every commit moves on ``store``'s backend."""
    return set(SQLITE_WIDE_SCOPES) if store.dialect == "sqlite" else set()


@pytest.fixture
def scoped(store_url):
    store = init_db(store_url)
    _fill(store)
    yield store
    store.dispose()


def test_every_scoped_table_moves_its_scope_only(scoped, store_url):
    """Raw SQL through another engine (another process's view): each table of
    SCOPE_TABLES moves exactly its scope."""
    other = init_db(store_url)
    try:
        for scope, tables in SCOPE_TABLES.items():
            for table in tables:
                before = _versions(scoped)
                with other.engine.begin() as c:
                    c.exec_driver_sql(f"UPDATE {table} SET {_CHANGE[table]}")  # noqa: S608
                assert _moved(before, _versions(scoped)) == {scope} | _any_commit(scoped), table
    finally:
        other.dispose()


def test_unscoped_writes_move_nothing(scoped):
    """An audit row and a saved backtest run (what the load benchmark's users write all
    the time) keep every cached read."""
    from dashboard.users import audit

    before = _versions(scoped)
    audit(scoped, "login", username="ana", ip="127.0.0.1")
    with scoped.transaction() as c:
        c.execute(
            text(
                "INSERT INTO backtest_runs (name, kind, strategy, params, tickers, start,"
                ' "end", config, adjusted, code_version, metrics, curves, extra) VALUES'
                " ('r', 'backtest', 'sma_cross', '{}', '[]', '2024-01-01 00:00:00',"
                " '2024-06-01 00:00:00', '{}', true, '', '{}', '{}', '{}')"
            )
        )
    assert _moved(before, _versions(scoped)) == _any_commit(scoped)


def test_cached_values_per_scope(scoped, store_url):
    """Store.cached: a value of each scope survives a write of every other scope and is
    recomputed after a write of its own (through another engine)."""
    loads = {s: 0 for s in SCOPES}

    def read(scope):
        def load():
            loads[scope] += 1
            return loads[scope]

        return scoped.cached(("test.scoped", scope), load, scope=scope)

    other = init_db(store_url)
    try:
        for s in SCOPES:
            read(s)
        for written, tables in SCOPE_TABLES.items():
            with other.engine.begin() as c:
                c.exec_driver_sql(f"UPDATE {tables[0]} SET {_CHANGE[tables[0]]}")  # noqa: S608
            before = dict(loads)
            for s in SCOPES:
                read(s)
            assert {s for s in SCOPES if loads[s] != before[s]} == {written} | _any_commit(scoped)
    finally:
        other.dispose()


def test_bar_writes_and_rollbacks(scoped):
    """The bar upsert (COPY on PostgreSQL, multi-row INSERT on SQLite) moves the market
    version; a rolled-back write moves nothing."""
    before = _versions(scoped)
    scoped.write_bars("PETR4", make_bars([(12, 13, 11, 12.5, 50)], start="2024-02-01"), "t")
    assert _moved(before, _versions(scoped)) == {"market"}
    before = _versions(scoped)
    with pytest.raises(RuntimeError), scoped.transaction() as c:
        scoped.write_bars(
            "PETR4", make_bars([(14, 15, 13, 14.5, 50)], start="2024-03-01"), "t", conn=c
        )
        raise RuntimeError("rollback")
    assert _moved(before, _versions(scoped)) == set()


def test_truncate_moves_the_scope_on_postgres(scoped):
    if scoped.dialect != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's (SQLite's DELETE runs the row triggers)")
    before = _versions(scoped)
    with scoped.engine.begin() as c:
        c.exec_driver_sql("TRUNCATE data_flags")
    assert _moved(before, _versions(scoped)) == {"market"}


def test_downgrade_restores_the_database_wide_token(store_url):
    """Alembic 0022's downgrade drops the counters and triggers; the store then falls back
    to one token for every scope, which any commit moves (the behaviour of 0021)."""
    from alembic import command
    from alembic.config import Config

    from core.data.store import MIGRATIONS_DIR

    store = init_db(store_url)
    store.upsert_instrument("PETR4")
    store.dispose()
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0021")
    with store.engine.connect() as c:
        if store.dialect == "sqlite":
            sql = "SELECT count(*) FROM sqlite_master WHERE name LIKE :p"
        else:
            sql = (
                "SELECT (SELECT count(*) FROM pg_trigger WHERE tgname LIKE :p)"
                " + (SELECT count(*) FROM pg_proc WHERE proname = 'pregao_bump_data_version')"
                " + (SELECT count(*) FROM pg_class WHERE relname = 'data_versions')"
            )
        left = c.execute(text(sql), {"p": "data_version%"}).scalar()
    assert left == 0
    from core.data.store import Store

    old = Store(store.engine)
    before = old.data_version("market")
    with old.engine.begin() as c:  # an unscoped table, yet the database-wide token moves
        c.exec_driver_sql("UPDATE audit_log SET ip = ip")
        c.exec_driver_sql("UPDATE instruments SET name = name")
    assert old.data_version("market") != before
    old.dispose()
    init_db(store_url).dispose()  # and back up to head
