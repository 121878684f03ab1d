"""Portfolio benchmarks (figures, not pass/fail): frontier for 30 and 100 assets, lot allocation.

Run: ``python -m pytest tests/benchmarks/test_portfolio_bench.py -q -s``.

Data: the bundle has 23 stocks; 19 of them cover the full 10 years 2014-11-14..2024-11-14
(2,473 shared sessions). A panel of N assets is built from those real daily returns: the
first 19 columns are the real series; each further column is a **block bootstrap** (blocks
of 21 sessions at seeded random starts, wrapping around) of one real stock's return series
(stock ``j mod 19``), so it keeps
that stock's volatility, fat tails and volatility clustering but is a distinct asset. Prices
are the cumulative product. ^BVSP is the real index on the same dates.

Goals (issue 4): 30 assets × 10 years, max Sharpe + a 50-point frontier in ≤ 1.5 s and
≤ 1.2× the same plain PyPortfolioOpt calls measured in the same run; 100 assets ≤ 5 s;
the lot allocation for 30 assets.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pandas as pd
import pytest
from pypfopt import EfficientFrontier, expected_returns, risk_models

from core.portfolio import (
    PortfolioSpec,
    allocate_lots,
    efficient_frontier,
    inputs_from_prices,
    optimize_portfolio,
)

END = "2024-11-14"
START = "2014-11-14"
REPEAT = 5


def _panel(store, n_assets: int, seed: int = 7) -> tuple[pd.DataFrame, pd.Series]:
    closes = store.closes(store.tickers("stock"), START, END)
    full = closes.loc[:, closes.iloc[0].notna()].dropna()
    bench = store.closes(["^BVSP"], START, END)["^BVSP"].reindex(full.index).ffill()
    rets = full.pct_change().iloc[1:]
    cols = {c: rets[c].to_numpy() for c in rets.columns}
    real = list(rets.columns)
    rng = np.random.default_rng(seed)
    n, block = len(rets), 21
    j = 0
    while len(cols) < n_assets:
        src = cols[real[j % len(real)]]
        starts = rng.integers(0, n, size=n // block + 1)
        idx = (starts[:, None] + np.arange(block)[None, :]).ravel()[:n] % n
        cols[f"BOOT{j:03d}"] = src[idx]
        j += 1
    r = pd.DataFrame(cols, index=rets.index).iloc[:, :n_assets]
    prices = 10.0 * (1 + r).cumprod()
    prices = pd.concat([pd.DataFrame(10.0, index=full.index[:1], columns=r.columns), prices])
    return prices, bench


def _median_time(fn, repeat=REPEAT) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _ours(prices, bench, rf):
    inp = inputs_from_prices(prices, bench, risk_free=rf, risk_model="sample_cov")
    optimize_portfolio(inp, PortfolioSpec(objective="max_sharpe"))
    fr = efficient_frontier(inp, PortfolioSpec(), points=50)
    assert len(fr.points) >= 45
    return fr


def _plain(prices, rf):
    mu = expected_returns.mean_historical_return(prices, compounding=False)
    cov = risk_models.sample_cov(prices)
    ef = EfficientFrontier(mu, cov)
    ef.max_sharpe(risk_free_rate=rf)
    ef = EfficientFrontier(mu, cov)
    ef.min_volatility()
    r_min = float(mu @ ef.weights)
    ef = EfficientFrontier(mu, cov)
    for t in np.linspace(r_min, float(mu.max()) - 1e-6, 50):
        ef.efficient_return(float(t))


@pytest.mark.parametrize("n_assets", [30, 100])
def test_frontier_speed(bundled_store, n_assets):
    prices, bench = _panel(bundled_store, n_assets)
    rf = 0.10
    _ours(prices, bench, rf)  # warm-up (cvxpy import paths, caches)
    t_ours = _median_time(lambda: _ours(prices, bench, rf), 3 if n_assets > 50 else REPEAT)
    t_plain = _median_time(lambda: _plain(prices, rf), 3 if n_assets > 50 else REPEAT)
    goal = 1.5 if n_assets == 30 else 5.0
    print(
        f"\n[portfolio] {n_assets} assets × {len(prices)} sessions: max Sharpe + 50-point "
        f"frontier: ours {t_ours:.3f} s (goal ≤ {goal} s), plain PyPortfolioOpt "
        f"{t_plain:.3f} s, ratio {t_ours / t_plain:.2f}× (goal ≤ 1.2×); medians"
    )


def test_lot_allocation_speed(bundled_store):
    prices, bench = _panel(bundled_store, 30)
    inp = inputs_from_prices(prices, bench, risk_free=0.10, risk_model="ledoit_wolf")
    w = optimize_portfolio(inp, PortfolioSpec(objective="max_sharpe", gamma=0.5)).weights
    rng = np.random.default_rng(3)
    px = pd.Series(rng.uniform(2, 120, len(w)), index=w.index)
    for capital in (50_000.0, 1_000_000.0):
        t = _median_time(lambda c=capital: allocate_lots(w, px, c))
        a = allocate_lots(w, px, capital)
        print(
            f"\n[portfolio] lot allocation, 30 assets ({int((w > 1e-4).sum())} non-zero), "
            f"R$ {capital:,.0f}: {t * 1000:.1f} ms median; distance {a.distance:,.2f} R$, "
            f"cash left {a.cash_left:,.2f} R$"
        )


@pytest.mark.parametrize("rebalance", ["quarterly", "monthly"])
def test_walk_forward_speed(bundled_store, rebalance):
    """Walk-forward test on the default universe (10 most liquid at each date, 3-year
    windows, max Sharpe + min variance + 1/N + hindsight 1/N, costs and taxes): the page's
    out-of-sample job. Figures only (issue 10)."""
    from core.portfolio import walk_forward

    def run():
        return walk_forward(bundled_store, PortfolioSpec(), ["X"] * 10, rebalance=rebalance)

    t = _median_time(run, repeat=1)
    wf = run()
    print(
        f"\nwalk-forward {rebalance}: {len(wf.rebalances)} rebalances, "
        f"{wf.test['sessions']} sessions: {t:.2f} s"
    )
