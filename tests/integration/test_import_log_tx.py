"""An import and its log row commit together (SQLite and PostgreSQL); a failing log insert
is rolled back alone and never fails the import."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from core.data import imports
from core.data.bundled import BUNDLED_DIR
from core.data.store import init_db

WIN = "WINFUT_5min_2021-08-23_2022-05-18.csv.gz"


def test_import_and_its_log_row_commit_together_and_a_failing_log_never_fails_it(
    store_url, monkeypatch
):
    store = init_db(store_url)
    try:
        rep = imports.import_files(store, [BUNDLED_DIR / "intraday" / WIN], ticker="WINFUT")
        logged = imports.import_log(store)
        assert rep.status == "ok" and rep.log_id == int(logged["id"].iloc[0])
        assert (logged["inserted"].iloc[0], logged["status"].iloc[0]) == (20_001, "ok")
        # the log insert fails inside the import's transaction: rolled back alone
        missing = sa.Table(
            "no_such_log",
            sa.MetaData(),
            *[sa.Column(c.name, c.type, primary_key=c.primary_key) for c in imports._LOG.columns],
        )
        monkeypatch.setattr(imports, "_LOG", missing)
        store.delete_bars("WINFUT", interval="5min")
        again = imports.import_files(store, [BUNDLED_DIR / "intraday" / WIN], ticker="WINFUT")
        assert again.status == "ok" and again.inserted == 20_001 and again.log_id is None
        assert len(store.bars("WINFUT", interval="5min")) == 20_001
        assert len(imports.import_log(store)) == 1
    finally:
        store.dispose()


def test_postgres_bar_inserts_go_through_copy(pg_url):
    """Regression: psycopg 3's connection class lives in module ``psycopg`` (no dot), and
    the COPY path was never taken – 20.001 WINFUT bars took ~5 s of executemany."""
    from core.data.upsert import _driver_insert

    store = init_db(pg_url)
    try:
        with store.transaction() as conn:
            assert _driver_insert(conn) is not None
        rep = imports.import_files(store, [BUNDLED_DIR / "intraday" / WIN], ticker="WINFUT")
        assert rep.inserted == 20_001
        got = store.bars("WINFUT", interval="5min")
        assert got.index[0] == pd.Timestamp("2021-08-23 12:15") and len(got) == 20_001
    finally:
        store.dispose()
