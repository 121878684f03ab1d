"""Issue 9 benchmark (figures, not pass/fail): the COTAHIST day over the bundled data.

``python -m pytest tests/benchmarks/test_prices_bench.py -s``: loads the bundled data, takes
the figures a user sees (adjusted series of every instrument, the Quotes KPIs of PETR4 and
BBAS3 over 2021, sma_cross backtests of PETR4/BBAS3/MGLU3 2015-2024), imports B3's
``COTAHIST_D25062021.TXT`` and prints every figure before/after with the largest change,
plus the time of the import.
"""

from __future__ import annotations

import time

import numpy as np

from core.backtest.runner import run_backtest
from core.data.bundled import load_bundled
from core.data.imports import import_files
from core.data.store import init_db
from core.quotes import QuoteRequest, quote_view
from tests.benchmarks.conftest import report
from tests.datafiles import cotahist_daily


def _figures(store) -> dict[str, float]:
    out: dict[str, float] = {}
    for t in ("PETR4", "BBAS3"):
        st = quote_view(store, QuoteRequest(ticker=t, start="2021-01-04", end="2021-12-30")).stats
        out[f"{t} volatilidade 2021"] = st.volatility
        out[f"{t} variação 2021 (negociado)"] = st.change_range
    for t in ("PETR4", "BBAS3", "MGLU3"):
        m = run_backtest(store, "sma_cross", t, start="2015-01-02", end="2024-11-14").metrics
        out[f"sma_cross {t} drawdown máx. %"] = m["max_drawdown_pct"]
        out[f"sma_cross {t} retorno total %"] = m["total_return_pct"]
    return out


def test_cotahist_day_over_bundled_figures_unchanged(tmp_path):
    store = init_db("sqlite://")
    load_bundled(store)
    tickers = store.tickers()
    adj_before = {t: store.bars(t)["adj_close"].to_numpy() for t in tickers}
    before = _figures(store)
    t0 = time.perf_counter()
    rep = import_files(store, [cotahist_daily(tmp_path)])
    secs = time.perf_counter() - t0
    after = _figures(store)
    worst = max(
        float(np.max(np.abs(store.bars(t)["adj_close"].to_numpy() / adj_before[t] - 1)))
        for t in tickers
    )
    rows = [("import", f"{secs:.2f} s, {rep.message()}")]
    rows.append(("max |Δ| adjusted series (24 instruments)", f"{worst:.2e}"))
    for k in before:
        rows.append((k, f"{before[k]:.6f} -> {after[k]:.6f}"))
    report("COTAHIST 25/06/2021 over the bundled data", rows)
    store.dispose()
