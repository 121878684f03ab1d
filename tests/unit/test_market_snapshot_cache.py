"""Issue 11 (page loads): Mercado's snapshot is computed once, then every view is a filter.

Regression tests: the page used to compute the grid's view, the ^BVSP row and the stocks of
the treemap as three separate snapshots, and the app's start-up warming and the first visit
computed the full one twice at once; the page had no way to know whether the snapshot was
ready (to paint a placeholder first instead of a blank page for seconds).
"""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

import core.market as market
from core.market import market_snapshot, market_snapshot_ready

ROWS = [("ABEV3", "stock"), ("PETR4", "stock"), ("BOVA11", "etf"), ("^BVSP", "index")]


@pytest.fixture
def fake_compute(monkeypatch):
    """Replace the costly per-instrument computation by a table of ROWS; records each call."""
    calls: list[tuple] = []

    def fake(store, tickers, kinds):
        calls.append((tickers, kinds))
        time.sleep(0.05)  # long enough for a second thread to arrive meanwhile
        rows = [
            {"ticker": t, "kind": k, "close": float(i)}
            for i, (t, k) in enumerate(ROWS)
            if (tickers is None or t in tickers) and (not kinds or k in kinds)
        ]
        return pd.DataFrame(rows)

    monkeypatch.setattr(market, "_market_snapshot", fake)
    return calls


def test_views_are_filters_of_the_full_snapshot(empty_store, fake_compute):
    assert not market_snapshot_ready(empty_store)
    full = market_snapshot(empty_store)
    assert market_snapshot_ready(empty_store)
    assert fake_compute == [(None, None)]
    watch = market_snapshot(empty_store, tickers=["petr4", "^BVSP"])
    stocks = market_snapshot(empty_store, kinds=["stock"])
    both = market_snapshot(empty_store, tickers=["PETR4", "BOVA11"], kinds=["etf"])
    assert fake_compute == [(None, None)]  # no second computation
    assert list(watch["ticker"]) == ["PETR4", "^BVSP"]
    assert list(stocks["ticker"]) == ["ABEV3", "PETR4"]
    assert list(both["ticker"]) == ["BOVA11"]
    assert list(watch.index) == [0, 1]
    assert len(full) == len(ROWS)


def test_a_view_before_the_full_snapshot_computes_only_its_rows(empty_store, fake_compute):
    snap = market_snapshot(empty_store, tickers=["PETR4"])
    assert fake_compute == [(("PETR4",), None)]
    assert list(snap["ticker"]) == ["PETR4"]
    assert not market_snapshot_ready(empty_store)


def test_concurrent_first_calls_compute_once(empty_store, fake_compute):
    out = []
    threads = [
        threading.Thread(target=lambda: out.append(market_snapshot(empty_store))) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fake_compute == [(None, None)]
    assert [len(o) for o in out] == [len(ROWS)] * 3


def test_a_write_makes_the_snapshot_stale(empty_store, fake_compute):
    market_snapshot(empty_store)
    assert market_snapshot_ready(empty_store)
    empty_store.upsert_instrument("VALE3")
    assert not market_snapshot_ready(empty_store)


def test_filtered_rows_equal_a_direct_computation(bundled_store):
    """On the real data: a view served from the full snapshot is what computing it gives."""
    market_snapshot(bundled_store)
    assert market_snapshot_ready(bundled_store)
    served = market_snapshot(bundled_store, tickers=["PETR4", "^BVSP", "BBAS3"])
    direct = market._market_snapshot(bundled_store, ("BBAS3", "PETR4", "^BVSP"), None)
    pd.testing.assert_frame_equal(served, direct)


def test_models_anomalies_are_fitted_once_per_data_version(empty_store, monkeypatch):
    """Regression (issue 11): the Modelos page refitted the IsolationForest on every visit."""
    import core.ml.anomalies as anomalies

    calls = []

    def fake_detect(bars, *, contamination, random_state):
        calls.append(len(bars))
        return pd.DataFrame({"score": [0.7]}, index=pd.DatetimeIndex(["2024-01-02"], name="date"))

    monkeypatch.setattr(anomalies, "detect_anomalies", fake_detect)
    monkeypatch.setattr(type(empty_store), "bars", lambda self, t: pd.DataFrame({"close": [1.0]}))
    first = anomalies.stored_anomalies(empty_store, "petr4")
    again = anomalies.stored_anomalies(empty_store, "PETR4")
    assert calls == [1] and first.equals(again)
    empty_store.upsert_instrument("VALE3")  # any write: a new data version
    anomalies.stored_anomalies(empty_store, "PETR4")
    assert calls == [1, 1]
