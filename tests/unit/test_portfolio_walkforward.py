"""Walk-forward portfolio test: point-in-time universe, no lookahead, costs, taxes, storage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest.costs import NO_COSTS
from core.backtest.taxes import TaxRules
from core.errors import InputError
from core.portfolio import (
    PortfolioSpec,
    inputs_from_prices,
    latest_run,
    list_runs,
    load_run,
    most_liquid,
    optimize_portfolio,
    save_run,
    walk_forward,
)
from core.portfolio.walkforward import SERIES, sharpe_difference_test

CHOSEN = ["PETR4", "VALE3", "ITUB4", "ABEV3"]


@pytest.fixture(scope="module")
def liquid(bundled_store):
    """Default universe (10 most liquid at each date), quarterly, from 2014."""
    return walk_forward(bundled_store, PortfolioSpec(), ["X"] * 10, n_assets=10, start="2014-01-01")


@pytest.fixture(scope="module")
def chosen(bundled_store):
    return walk_forward(
        bundled_store,
        PortfolioSpec(),
        CHOSEN,
        universe="chosen",
        start="2021-01-01",
        lookback=504,
        rebalance="quarterly",
    )


def test_universe_is_known_at_each_rebalance(bundled_store, liquid):
    """Regression (issue 10): the default universe came from 2024 liquidity (PRIO3 entered
    thanks to the rally inside the test window). Each rebalance's universe equals
    most_liquid computed with data up to the previous session only."""
    sessions = bundled_store.bars("^BVSP").index
    for rec in liquid.rebalances[:: max(1, len(liquid.rebalances) // 6)]:
        day = pd.Timestamp(rec["date"])
        prev = sessions[sessions.searchsorted(day) - 1]
        ref = most_liquid(bundled_store, 10, end=prev, min_history=756)
        assert rec["universe"] == ref, rec["date"]
    first = liquid.rebalances[0]["universe"]
    assert "PRIO3" not in first
    assert "PRIO3" in most_liquid(bundled_store, 10)  # hindsight would have picked it
    assert any("sobrevivência" in n for n in liquid.notes)
    # The hindsight universe is reported beside it, with the bias it would have added.
    assert liquid.hindsight["universe"] == most_liquid(bundled_store, 10, min_history=756)
    h = liquid.hindsight["equal_weight"]["cagr"]
    assert h != pytest.approx(liquid.stats["Pesos iguais"]["cagr"], abs=1e-4)
    assert any("retrospectiva" in n and "CAGR" in n for n in liquid.notes)


def test_weights_use_only_the_estimation_window(bundled_store, chosen):
    rec = chosen.rebalances[2]
    est = rec["estimation"]
    day = pd.Timestamp(rec["date"])
    assert pd.Timestamp(est["end"]) < day  # data up to the previous session only
    closes = bundled_store.closes(rec["universe"], est["start"], est["end"])
    bench = bundled_store.closes(["^BVSP"], est["start"], est["end"])["^BVSP"]
    closes = closes.dropna()
    from core.rates import cdi_annual

    rf = cdi_annual(bundled_store, closes.index[0], closes.index[-1])
    inp = inputs_from_prices(closes, bench.reindex(closes.index).ffill(), risk_free=rf)
    ref = optimize_portfolio(inp, PortfolioSpec()).weights
    got = pd.Series(rec["weights"]).reindex(ref.index)
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), atol=1e-6)


def test_series_and_baselines(chosen):
    assert list(chosen.equity.columns) == list(SERIES)
    assert (chosen.equity.iloc[0] <= 100_000.0 + 1e-6).all()
    assert chosen.equity["^BVSP"].iloc[0] == pytest.approx(100_000.0)
    assert chosen.equity["CDI"].is_monotonic_increasing
    for name in ("Carteira", "Pesos iguais", "Mínima variância"):
        st = chosen.stats[name]
        assert st["costs"] > 0 and st["orders"] > 0
    assert len(chosen.rebalances) >= 10  # quarterly re-optimisation, not one split
    assert {"vs_benchmark", "vs_equal_weight", "vs_min_variance"} <= set(chosen.active)
    assert 0 <= chosen.sharpe_tests["vs_equal_weight"]["p_value"] <= 1


def test_buy_and_hold_without_costs_is_exact(bundled_store):
    """1/N bought once, no costs, no tax: equity = capital × mean of price relatives."""
    wf = walk_forward(
        bundled_store,
        PortfolioSpec(),
        CHOSEN,
        universe="chosen",
        start="2022-01-01",
        lookback=252,
        rebalance="none",
        costs=NO_COSTS,
        taxes=None,
    )
    px = bundled_store.closes(CHOSEN).reindex(wf.equity.index).ffill()
    rel = px / px.iloc[0]
    np.testing.assert_allclose(
        wf.equity["Pesos iguais"].to_numpy(), 100_000.0 * rel.mean(axis=1).to_numpy(), rtol=1e-9
    )


def test_taxes_are_paid_and_exemption_applies(bundled_store):
    kw = dict(universe="chosen", start="2021-01-01", lookback=504, rebalance="monthly")
    big = walk_forward(bundled_store, PortfolioSpec(), CHOSEN, capital=2_000_000.0, **kw)
    free = walk_forward(
        bundled_store, PortfolioSpec(), CHOSEN, capital=2_000_000.0, taxes=None, **kw
    )
    assert big.stats["Carteira"]["taxes"] > 1_000
    assert big.equity["Carteira"].iloc[-1] < free.equity["Carteira"].iloc[-1]
    # R$ 10.000 of capital: monthly sales stay under R$ 20.000, so only the 0,005 % is withheld.
    small = walk_forward(bundled_store, PortfolioSpec(), CHOSEN, capital=10_000.0, **kw)
    sales = 10_000.0 * 3 * 40  # far above what this book can sell in all months
    assert small.stats["Pesos iguais"]["taxes"] <= TaxRules().swing_withholding * sales


def test_error_in_an_estimation_window_says_so(bundled_store):
    spec = PortfolioSpec(objective="efficient_return", target=3.0)
    with pytest.raises(InputError, match="No teste fora da amostra, na janela de estimação de"):
        walk_forward(bundled_store, spec, CHOSEN, universe="chosen", start="2022-01-01")


def test_bad_parameters(bundled_store):
    with pytest.raises(InputError, match="Universo"):
        walk_forward(bundled_store, PortfolioSpec(), CHOSEN, universe="x")
    with pytest.raises(InputError, match="janela de estimação"):
        walk_forward(bundled_store, PortfolioSpec(), CHOSEN, lookback=10)


def test_sharpe_difference_test_against_simulation():
    rng = np.random.default_rng(3)
    a = rng.normal(0.0005, 0.01, 3000)
    b = a * 0.5 + rng.normal(0.0, 0.01, 3000)
    t = sharpe_difference_test(a, a)
    assert t["z"] == pytest.approx(0.0) and t["p_value"] == pytest.approx(1.0)
    t = sharpe_difference_test(a, b)
    assert np.isfinite(t["z"]) and 0 <= t["p_value"] <= 1


def test_runs_are_stored(empty_store, chosen):
    d = chosen.to_dict()
    rid = save_run(empty_store, "walk_forward", d["parameters"], d)
    back = load_run(empty_store, rid)
    assert back["result"]["stats"]["Carteira"]["cagr"] == pytest.approx(
        chosen.stats["Carteira"]["cagr"]
    )
    assert latest_run(empty_store, "walk_forward")["id"] == rid
    assert latest_run(empty_store, "analysis") is None
    assert [r["id"] for r in list_runs(empty_store)] == [rid]
    with pytest.raises(InputError):
        load_run(empty_store, rid + 1)


def test_old_analyses_are_pruned(empty_store):
    from core.portfolio.runs import KEEP_ANALYSES

    ids = [save_run(empty_store, "analysis", {"i": i}, {"i": i}) for i in range(KEEP_ANALYSES + 3)]
    kept = [r["id"] for r in list_runs(empty_store, "analysis")]
    assert kept == ids[::-1][:KEEP_ANALYSES]
    save_run(empty_store, "walk_forward", {}, {})
    assert len(list_runs(empty_store)) == KEEP_ANALYSES + 1
    # Team mode: each user's last result and pruning are their own.
    other = save_run(empty_store, "analysis", {}, {"who": "ana"}, owner="ana")
    assert latest_run(empty_store, "analysis", owner="ana")["id"] == other
    assert latest_run(empty_store, "analysis")["id"] == ids[-1]
    assert len(list_runs(empty_store, "analysis")) == KEEP_ANALYSES + 1


@pytest.mark.slow
def test_fanned_out_rebalances_equal_one_process(bundled_store, chosen):
    """Issue 15 fan-out: the rebalances' optimisations as picklable chunks, run out of order,
    give the same test as one process."""
    import pickle

    def pickling(func, items, on_done=None):
        out = {}
        for k in reversed(range(len(items))):
            out[k] = pickle.loads(pickle.dumps(func(pickle.loads(pickle.dumps(items[k])))))
        return [out[k] for k in range(len(items))]

    spread = walk_forward(
        bundled_store,
        PortfolioSpec(),
        CHOSEN,
        universe="chosen",
        start="2021-01-01",
        lookback=504,
        rebalance="quarterly",
        mapper=pickling,
    )
    pd.testing.assert_frame_equal(chosen.equity, spread.equity)
    assert chosen.rebalances == spread.rebalances
