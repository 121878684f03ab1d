"""Issue 9, prices: one ticker, one consistent history whichever source delivered a day.

Regression tests: on the code before this change, importing B3's COTAHIST day over the
bundled data overwrote that session's ``adj_close`` with the traded close (PETR4's adjusted
series went 10,60 -> 29,10 -> 10,39), so every test below that compares "before" and
"after" failed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.actions import load_actions
from core.data.bundled import (
    TICK_CHECK_DATE,
    bundled_actions,
    bundled_instruments,
    off_tick_dates,
    read_bundled_bars,
)
from core.data.imports import import_files
from core.data.quality import quality_report
from core.data.sources.cotahist import read_cotahist
from tests.datafiles import cotahist_daily

DAY = pd.Timestamp("2021-06-25")


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """A bundled store before and after importing the real COTAHIST day over it."""
    from core.data.bundled import load_bundled
    from core.data.store import init_db

    path = cotahist_daily(tmp_path_factory.mktemp("cot"))
    store = init_db("sqlite://")
    load_bundled(store)
    before = {t: store.bars(t) for t in store.tickers()}
    rep = import_files(store, [path])
    yield store, before, rep, path
    store.dispose()


def test_cotahist_day_changes_no_adjusted_series(both):
    store, before, rep, _ = both
    assert rep.status == "ok" and rep.updated + rep.unchanged >= 23
    for t, b in before.items():
        a = store.bars(t)
        assert a.index.equals(b.index), t
        np.testing.assert_allclose(a["adj_close"], b["adj_close"], rtol=1e-6, err_msg=t)
        np.testing.assert_allclose(a["close"], b["close"], rtol=1e-6, err_msg=t)
    # the day now comes from B3's file, as traded
    src = store.bars("PETR4").loc[DAY]
    assert src["close"] == pytest.approx(29.10)
    assert src["adj_close"] < 12  # dividend-adjusted, not the traded 29,10


def test_cotahist_day_changes_no_quotes_kpi(both):
    from core.quotes import QuoteRequest, quote_view

    store, before, _, _ = both
    req = QuoteRequest(ticker="PETR4", start="2021-01-04", end="2021-12-30")
    after = quote_view(store, req).stats
    from core.data.store import init_db

    ref = init_db("sqlite://")
    try:
        for t in ("PETR4", "^BVSP"):
            ref.upsert_instrument(t, kind="index" if t.startswith("^") else "stock")
        from core.data.actions import write_actions

        write_actions(ref, load_actions(store, ["PETR4"]), "bundled")
        ref.write_bars("PETR4", before["PETR4"], "bundled")
        ref.write_bars("^BVSP", before["^BVSP"], "bundled")
        was = quote_view(ref, req).stats
    finally:
        ref.dispose()
    assert after.volatility == pytest.approx(was.volatility, rel=1e-9)
    assert after.change_range == pytest.approx(was.change_range, rel=1e-9)
    assert after.volatility < 0.6  # not the 151 % of a lone R$ 29 candle


def test_cotahist_day_changes_no_backtest_metric(both, tmp_path):
    from core.backtest.runner import run_backtest
    from core.data.bundled import load_bundled
    from core.data.store import init_db

    store, _, _, _ = both
    fresh = init_db("sqlite://")
    try:
        load_bundled(fresh)
        kw = dict(start="2020-01-02", end="2022-12-29")
        was = run_backtest(fresh, "sma_cross", "BBAS3", **kw).metrics
        now = run_backtest(store, "sma_cross", "BBAS3", **kw).metrics
    finally:
        fresh.dispose()
    assert now["max_drawdown_pct"] == pytest.approx(was["max_drawdown_pct"], rel=1e-9)
    assert now["total_return_pct"] == pytest.approx(was["total_return_pct"], rel=1e-9)


def test_reimport_is_unchanged_and_no_conflict(both):
    store, _, _, path = both
    rep = import_files(store, [path])
    assert rep.inserted == rep.updated == 0 and rep.unchanged >= 23
    q = quality_report(store, ["PETR4", "BBAS3", "MGLU3"])
    assert not any("divergem" in f for fl in q["flags"] for f in fl)


def test_bundled_traded_prices_match_b3(tmp_path):
    """Bundled bars are as traded: equal to B3's COTAHIST on the day both have."""
    cot = read_cotahist(cotahist_daily(tmp_path))
    cot = cot[cot["market"] == 10].set_index("ticker")
    for row in bundled_instruments().itertuples():
        if row.kind == "index":
            continue
        b, _ = read_bundled_bars(row.ticker)
        assert b.loc[DAY, "close"] == pytest.approx(cot.loc[row.ticker, "close"], abs=0.005)
        assert b.loc[DAY, "volume"] == pytest.approx(cot.loc[row.ticker, "quantity"], rel=1e-3)


def test_bundled_actions_are_verified_and_on_the_tick_grid():
    """Each split-like event sits where Yahoo's prices land back on the R$ 0,01 tick."""
    acts = bundled_actions()
    assert set(acts["kind"]) <= {"split", "bonus", "reverse_split", "price_factor"}
    assert (acts["date"] > TICK_CHECK_DATE).all()
    for t in acts.loc[acts["kind"] != "price_factor", "ticker"].unique():
        b, _ = read_bundled_bars(t)
        last = acts.loc[acts["ticker"] == t, "date"].max()
        assert len(off_tick_dates(b.loc[last:])) == 0, t


def test_adjusted_close_matches_yahoo_returns():
    from core.data.bundled import BUNDLED_DIR, read_yahoo_csv

    for t in ("PETR4", "BBAS3", "MGLU3", "ITUB4"):
        b, _ = read_bundled_bars(t)
        y = read_yahoo_csv(BUNDLED_DIR / f"yahoo/{t}.csv.gz").loc[b.index]
        np.testing.assert_allclose(
            b["adj_close"].pct_change().iloc[1:], y["adj_close"].pct_change().iloc[1:], atol=2e-4
        )


def test_contract_kinds_and_splits_on_positions(bundled_store):
    acts = load_actions(bundled_store, ["BBAS3", "MGLU3"])
    assert set(acts["kind"]) <= {"split", "reverse_split", "bonus", "dividend", "jcp"}
    split = acts[(acts["ticker"] == "BBAS3") & (acts["kind"] == "split")]
    assert split["date"].tolist() == [pd.Timestamp("2024-04-16")]
    b = bundled_store.bars("BBAS3", "2024-04-10", "2024-04-20")
    jump = b["close"].loc["2024-04-16"] / b["close"].loc[:"2024-04-15"].iloc[-1]
    assert 0.4 < jump < 0.6  # the traded price halves on the split date


def test_conflicting_sources_are_flagged(both):
    from core.data.schema import BAR_COLUMNS

    bundled_store = both[0]  # this module's own store (the shared one must not change)
    bars = bundled_store.bars("VALE3", "2021-06-25", "2021-06-25").copy()
    bars["close"] *= 1.1
    bars["high"] = bars[["high", "close"]].max(axis=1)
    bundled_store.write_bars("VALE3", bars[list(BAR_COLUMNS)], "yahoo")
    q = quality_report(bundled_store, ["VALE3"])
    assert any("divergem" in f for f in q["flags"].iloc[0])
