"""Bar coverage per interval and the replay's default window (core.data.coverage)."""

from __future__ import annotations

import pandas as pd
import pytest

from core.data.coverage import bar_coverage, replay_window


def _cov(rows):
    df = pd.DataFrame(rows, columns=["ticker", "interval", "first", "last", "n_bars"])
    df["first"] = pd.to_datetime(df["first"], format="ISO8601")
    df["last"] = pd.to_datetime(df["last"], format="ISO8601")
    return df


COV = _cov(
    [
        ("PETR4", "1d", "2010-01-04", "2024-11-14", 3700),
        ("VALE3", "1d", "2010-01-04", "2024-11-14", 3700),
        ("WINFUT", "5min", "2021-08-23 09:00", "2022-05-18 18:20", 20001),
    ]
)


def test_winfut_moves_the_stock_window_onto_its_5min_bars():
    win = replay_window(COV, ["WINFUT"], "2024-05-14", "2024-11-14", "1d")
    assert (win.start, win.end, win.interval, win.changed) == (
        "2022-04-18",
        "2022-05-18",
        "5min",
        True,
    )


def test_a_window_with_bars_is_kept():
    win = replay_window(COV, ["PETR4", "VALE3"], "2020-01-02", "2020-06-30", "1d")
    assert not win.changed and (win.start, win.end, win.interval) == (
        "2020-01-02",
        "2020-06-30",
        "1d",
    )
    # a trader's own WINFUT window inside the file is kept too
    assert not replay_window(COV, ["WINFUT"], "2021-09-01", "2021-09-30", "5min").changed


def test_daily_window_is_the_last_six_months_and_no_common_interval_is_none():
    win = replay_window(COV, ["PETR4"], None, None, "5min")
    assert (win.start, win.end, win.interval) == ("2024-05-14", "2024-11-14", "1d")
    assert replay_window(COV, ["PETR4", "WINFUT"], None, None, "1d") is None
    assert replay_window(COV, [], "2020-01-02", "2020-06-30", "1d") is None


@pytest.fixture
def store():
    from core.data.store import init_db

    s = init_db("sqlite://")
    yield s
    s.dispose()


def test_bar_coverage_reads_every_interval(store):
    from tests.helpers import make_bars

    assert bar_coverage(store).empty
    bars = make_bars([(100, 101, 99, 100, 0)] * 3)
    idx = pd.DatetimeIndex(["2021-08-23 09:00", "2021-08-23 09:05", "2021-08-24 09:00"])
    bars.index = idx
    store.upsert_instrument("WINFUT", kind="future")
    store.write_bars("WINFUT", bars, "test", interval="5min")
    cov = bar_coverage(store)
    (row,) = cov.itertuples()
    assert (row.ticker, row.interval, row.n_bars) == ("WINFUT", "5min", 3)
    assert row.first == idx[0] and row.last == idx[-1]
