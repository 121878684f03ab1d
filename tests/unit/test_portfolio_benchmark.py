"""Benchmark metrics, the rebalancing simulator and the out-of-sample check (no lookahead)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest.costs import B3_DEFAULT, NO_COSTS, B3Costs
from core.errors import InputError
from core.portfolio import (
    PortfolioSpec,
    benchmark_metrics,
    optimize_portfolio,
    out_of_sample,
    prepare_inputs,
)
from core.portfolio.benchmark import rebalance_mask, simulate_weights

TICKERS = ["PETR4", "VALE3", "ITUB4", "ABEV3"]


def _panel(n=300, k=3, seed=1):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2022-01-03", periods=n, name="date")
    r = rng.normal(0.0004, 0.015, (n, k))
    prices = pd.DataFrame(
        100 * np.cumprod(1 + r, axis=0), index=idx, columns=[f"A{i}" for i in range(k)]
    )
    bench = pd.Series(
        1000 * np.cumprod(1 + r.mean(axis=1) * 0.8 + rng.normal(0, 0.004, n)), index=idx
    )
    return prices, bench


def test_benchmark_metrics_against_independent_formulas():
    prices, bench = _panel()
    w = pd.Series([0.5, 0.3, 0.2], index=prices.columns)
    m = benchmark_metrics(w, prices, bench, rf_annual=0.10)
    rp = (prices.pct_change().iloc[1:] * w).sum(axis=1).to_numpy()
    rm = bench.pct_change().iloc[1:].to_numpy()
    slope = np.polyfit(rm, rp, 1)[0]  # OLS beta
    assert m["beta"] == pytest.approx(slope, rel=1e-9)
    rf = 1.10 ** (1 / 252) - 1
    assert m["alpha"] == pytest.approx(
        252 * ((rp - rf).mean() - slope * (rm - rf).mean()), rel=1e-9
    )
    te = np.std(rp - rm, ddof=1) * np.sqrt(252)
    assert m["tracking_error"] == pytest.approx(te, rel=1e-12)
    assert m["information_ratio"] == pytest.approx((rp - rm).mean() * 252 / te, rel=1e-12)
    assert m["n"] == len(prices) - 1


def test_rebalance_mask():
    idx = pd.DatetimeIndex(
        [
            "2024-01-30",
            "2024-01-31",
            "2024-02-01",
            "2024-02-02",
            "2024-03-28",
            "2024-04-01",
            "2024-04-02",
        ]
    )
    assert rebalance_mask(idx, "none").sum() == 0
    assert list(rebalance_mask(idx, "monthly")) == [False, False, True, False, True, True, False]
    assert list(rebalance_mask(idx, "quarterly")) == [False] * 5 + [True, False]
    with pytest.raises(InputError):
        rebalance_mask(idx, "weekly")


def _share_based(prices, w, mask, capital, rate):
    """Independent reference: holdings in shares, cost = rate × traded R$."""
    shares = w * capital / (1 + rate) / prices[0]
    out = [shares @ prices[0]]
    for t in range(1, len(prices)):
        e = shares @ prices[t]
        if mask[t]:
            cost = rate * np.abs(w * e - shares * prices[t]).sum()
            shares = w * (e - cost) / prices[t]
            e -= cost
        out.append(e)
    return np.array(out)


@pytest.mark.parametrize("freq", ["none", "monthly", "quarterly"])
@pytest.mark.parametrize("costs", [NO_COSTS, B3_DEFAULT])
def test_simulator_matches_share_based_reference(freq, costs):
    prices, _ = _panel(400)
    w = np.array([0.5, 0.3, 0.2])
    mask = rebalance_mask(prices.index, freq)
    eq, paid, _ = simulate_weights(prices.to_numpy(), w, mask, capital=10_000, costs=costs)
    rate = costs.slippage_bps / 1e4 + costs.swing_fee_rate
    ref = _share_based(prices.to_numpy(), w, mask, 10_000, rate)
    np.testing.assert_allclose(eq, ref, rtol=1e-12)
    if freq == "none":
        bh = 10_000 / (1 + rate) * (prices / prices.iloc[0]).to_numpy() @ w
        np.testing.assert_allclose(eq, bh, rtol=1e-12)
    if costs is NO_COSTS:
        assert paid == 0
    else:
        assert paid > 0


def test_brokerage_counts_orders():
    prices, _ = _panel(100)
    mask = rebalance_mask(prices.index, "monthly")
    eq, paid, orders = simulate_weights(
        prices.to_numpy(),
        np.array([0.4, 0.4, 0.2]),
        mask,
        capital=10_000,
        costs=B3Costs(0, 0, 5.0, 0),
    )
    assert orders == 3 + 3 * int(mask.sum())
    assert paid == pytest.approx(5.0 * orders)


def test_out_of_sample_uses_training_window_only(bundled_store):
    spec = PortfolioSpec(objective="min_volatility")
    o = out_of_sample(
        bundled_store,
        TICKERS,
        spec,
        start="2015-01-01",
        end="2023-12-31",
        split="2021-01-04",
        rebalance="quarterly",
    )
    # The weights equal an optimisation on data that ends the session before the split.
    train = prepare_inputs(bundled_store, TICKERS, "2015-01-01", "2020-12-31")
    ref = optimize_portfolio(train, spec).weights
    np.testing.assert_allclose(o.weights.to_numpy(), ref.reindex(TICKERS).to_numpy(), atol=1e-6)
    assert o.train["end"] < "2021-01-04" <= o.test["start"]
    assert o.equity.index[0] == pd.Timestamp(o.train["end"])
    assert list(o.equity.columns) == ["Carteira", "Pesos iguais", "^BVSP"]
    assert o.equity.iloc[0].tolist() == pytest.approx([1e5 / (1 + 0.00080)] * 2 + [1e5])
    assert (o.drawdown <= 1e-12).all().all()
    s = o.stats["Carteira"]
    assert s["n"] == o.test["sessions"] and s["costs"] > 0
    a = o.active["vs_benchmark"]
    assert a["ci_low"] < a["mean"] < a["ci_high"] and a["n"] == s["n"]


def test_out_of_sample_is_blind_to_test_prices(bundled_store, empty_store):
    """Change every price after the split: the weights must not move, the equity must."""
    start, split, end = "2018-01-01", "2022-01-03", "2023-06-30"
    for t in [*TICKERS, "^BVSP"]:
        info = bundled_store.instrument(t)
        empty_store.upsert_instrument(t, name=info["name"], kind=info["kind"])
        empty_store.write_bars(t, bundled_store.bars(t, start, end), "test")
    cdi = bundled_store.rates("CDI")
    empty_store.write_rates("CDI", cdi)
    spec = PortfolioSpec(objective="max_sharpe")
    before = out_of_sample(empty_store, TICKERS, spec, start=start, end=end, split=split)
    bars = empty_store.bars("VALE3", split, end)
    shocked = bars.copy()
    for c in ("open", "high", "low", "close", "adj_close"):
        shocked[c] = shocked[c] * np.linspace(1, 3, len(bars))
    empty_store.write_bars("VALE3", shocked, "test")
    after = out_of_sample(empty_store, TICKERS, spec, start=start, end=end, split=split)
    np.testing.assert_allclose(before.weights, after.weights, atol=1e-12)
    assert not np.allclose(before.equity["Pesos iguais"], after.equity["Pesos iguais"])


def test_out_of_sample_window_too_short(bundled_store):
    with pytest.raises(InputError, match="pelo menos"):
        out_of_sample(
            bundled_store,
            TICKERS,
            PortfolioSpec(),
            start="2023-01-01",
            end="2023-12-31",
            split="2023-12-20",
        )
