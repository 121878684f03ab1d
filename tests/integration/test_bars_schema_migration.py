"""Revision 0021: ``bars`` as one B-tree (SQLite ``WITHOUT ROWID``), no ``ix_bars_date``.

Upgrade and downgrade keep every row on SQLite and PostgreSQL; the importer's rules
(idempotence, counts) hold on the rebuilt table; the foreign key to ``instruments`` still
cascades.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import inspect, text

from core.data.bundled import BUNDLED_DIR
from core.data.imports import import_files
from core.data.store import MIGRATIONS_DIR, init_db
from tests.helpers import real_bars

WIN = BUNDLED_DIR / "intraday" / "WINFUT_5min_2021-08-23_2022-05-18.csv.gz"


def _migrate(store, fn, rev):
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, fn)(cfg, rev)


def _snapshot(store) -> pd.DataFrame:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT instrument_id, interval, date, open, high, low, close, adj_close, "
                "volume, source FROM bars ORDER BY instrument_id, interval, date"
            )
        ).all()
    return pd.DataFrame(rows)


def _shape(store) -> tuple[bool, bool]:
    """(has ix_bars_date, is a SQLite WITHOUT ROWID table)."""
    idx = {i["name"] for i in inspect(store.engine).get_indexes("bars")}
    without_rowid = False
    if store.dialect == "sqlite":
        with store.engine.connect() as conn:
            sql = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE type='table' AND name='bars'")
            ).scalar()
        without_rowid = "WITHOUT ROWID" in sql.upper()
    return "ix_bars_date" in idx, without_rowid


def test_0021_rebuilds_bars_and_back_with_rows_preserved(store_url):
    store = init_db(store_url)
    try:
        sqlite = store.dialect == "sqlite"
        assert _shape(store) == (False, sqlite)
        store.upsert_instrument("PETR4")
        store.write_bars("PETR4", real_bars("PETR4").iloc[-500:], "bundled")
        first = import_files(store, [WIN], ticker="WINFUT")
        assert first.status == "ok" and first.inserted == 20_001
        before = _snapshot(store)
        assert len(before) == 20_501

        _migrate(store, "downgrade", "0020")
        assert _shape(store) == (True, False)
        pd.testing.assert_frame_equal(_snapshot(store), before)
        if sqlite:  # a rowid table again
            with store.engine.connect() as conn:
                assert conn.execute(text("SELECT count(rowid) FROM bars")).scalar() == 20_501

        _migrate(store, "upgrade", "head")
        assert _shape(store) == (False, sqlite)
        pd.testing.assert_frame_equal(_snapshot(store), before)
        again = import_files(store, [WIN], ticker="WINFUT")
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 20_001)
        assert store.bars("WINFUT", interval="5min").shape == (20_001, 6)
        assert store.last_date() == real_bars("PETR4").index[-1]  # newest daily bar of all
        assert store.last_date("WINFUT", "5min") == pd.Timestamp("2022-05-18 17:50")

        # the rebuilt table keeps its foreign key: deleting an instrument takes its bars
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM instruments WHERE ticker = 'PETR4'"))
        assert len(_snapshot(store)) == 20_001
    finally:
        store.dispose()
