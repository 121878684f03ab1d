"""The bars write path on SQLite: the text of ``DateTime`` and the one-B-tree table (0021)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.dialects import sqlite

from core.data.upsert import sqlite_datetimes
from tests.helpers import make_bars


def test_sqlite_datetimes_is_sqlalchemys_text():
    rng = np.random.default_rng(14)
    span = 250 * 365 * 86_400 * 10**6  # 1850..2100, microseconds
    us = np.datetime64("1850-01-01", "us") + rng.integers(0, span, 2000).astype("timedelta64[us]")
    us = np.r_[us, np.array(["1970-01-01", "2024-02-29T23:59:59.999999"], dtype="datetime64[us]")]
    dialect = sqlite.dialect()
    bind = DateTime().dialect_impl(dialect).bind_processor(dialect)
    want = [bind(x) for x in us.astype(object)]
    assert sqlite_datetimes(us.astype("datetime64[ns]")) == want


def test_fast_insert_rows_match_sqlalchemy_lookups(empty_store):
    store = empty_store
    store.upsert_instrument("WINFUT", kind="future")
    idx = pd.date_range("2024-03-04 09:00", periods=7, freq="5min", name="date")
    bars = make_bars([(10, 11, 9, 10.5, 1)] * 7).set_axis(idx.astype("datetime64[ns]"))
    assert store.write_bars("WINFUT", bars, "mt5", interval="5min").inserted == 7
    with store.engine.connect() as conn:
        sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type='table' AND name='bars'"
        ).scalar()
        raw = [r[0] for r in conn.exec_driver_sql("SELECT date FROM bars ORDER BY date")]
        hit = conn.execute(
            text("SELECT count(*) FROM bars WHERE date = :d").bindparams(
                bindparam("d", type_=DateTime())
            ),
            {"d": pd.Timestamp("2024-03-04 09:10").to_pydatetime()},
        ).scalar()
        idx_names = [
            r[0] for r in conn.exec_driver_sql("SELECT name FROM pragma_index_list('bars')")
        ]
    assert "WITHOUT ROWID" in sql.upper()
    assert "ix_bars_date" not in idx_names
    assert raw[0] == "2024-03-04 09:00:00.000000" and hit == 1
    again = store.write_bars("WINFUT", bars, "mt5", interval="5min")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 7)
    pd.testing.assert_frame_equal(
        store.bars("WINFUT", interval="5min")[["open", "close"]],
        bars[["open", "close"]],
        check_freq=False,
    )


def test_fast_insert_binds_an_unusual_source_or_interval_as_parameters(empty_store):
    store = empty_store
    for t in ("PETR4", "VALE3"):
        store.upsert_instrument(t)
    bars = make_bars([(10, 11, 9, 10.5, 100)] * 3)
    store.write_bars("PETR4", bars, "d'Ávila; --")  # a quote: never pasted into SQL
    store.write_bars("VALE3", bars, "yahoo")  # the plain case: an SQL literal
    with store.engine.connect() as conn:
        got = conn.exec_driver_sql(
            "SELECT i.ticker, b.interval, b.source, count(*) FROM bars b "
            "JOIN instruments i ON i.id = b.instrument_id GROUP BY 1, 2, 3 ORDER BY 1"
        ).all()
    assert [tuple(r) for r in got] == [
        ("PETR4", "1d", "d'Ávila; --", 3),
        ("VALE3", "1d", "yahoo", 3),
    ]
