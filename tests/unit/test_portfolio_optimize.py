"""Portfolio inputs and optimisation: equal to direct PyPortfolioOpt calls, bounds, messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pypfopt import (
    EfficientCVaR,
    EfficientFrontier,
    HRPOpt,
    expected_returns,
    objective_functions,
    risk_models,
)
from pypfopt.black_litterman import BlackLittermanModel
from scipy.optimize import linprog

from core.errors import InputError
from core.portfolio import (
    OBJECTIVES,
    PortfolioSpec,
    efficient_frontier,
    feasible_return_range,
    most_liquid,
    optimize_portfolio,
    prepare_inputs,
)
from core.rates import cdi_annual

TICKERS = ["PETR4", "VALE3", "ITUB4", "BBDC4", "ABEV3", "B3SA3", "PRIO3"]
START, END = "2016-01-01", "2023-12-31"


@pytest.fixture(scope="module")
def inputs(bundled_store):
    return prepare_inputs(bundled_store, TICKERS, START, END, risk_model="sample_cov")


def _direct_ef(inp, bounds=(0, 1), solver=None):
    mu = expected_returns.mean_historical_return(inp.prices, compounding=False)
    cov = risk_models.sample_cov(inp.prices)
    return mu, cov, EfficientFrontier(mu, cov, weight_bounds=bounds, solver=solver)


def test_inputs_equal_library_estimators(bundled_store, inputs):
    p = inputs.prices
    pd.testing.assert_series_equal(
        inputs.mu, expected_returns.mean_historical_return(p, compounding=False)
    )
    pd.testing.assert_frame_equal(inputs.cov, risk_models.sample_cov(p))
    lw = prepare_inputs(bundled_store, TICKERS, START, END, risk_model="ledoit_wolf")
    pd.testing.assert_frame_equal(lw.cov, risk_models.CovarianceShrinkage(p).ledoit_wolf())
    capm = prepare_inputs(bundled_store, TICKERS, START, END, returns_method="capm")
    ref = expected_returns.capm_return(
        p,
        market_prices=capm.benchmark.to_frame(),
        risk_free_rate=capm.risk_free_arithmetic,
        compounding=False,
    )
    np.testing.assert_allclose(capm.mu.to_numpy(), ref.to_numpy(), rtol=1e-12)


def test_risk_free_is_cdi_of_window_and_overridable(bundled_store, inputs):
    assert inputs.risk_free == pytest.approx(cdi_annual(bundled_store, inputs.start, inputs.end))
    assert inputs.risk_free != pytest.approx(0.02, abs=0.005)
    assert inputs.risk_free_source == "CDI"
    own = prepare_inputs(bundled_store, TICKERS, START, END, risk_free=0.05)
    assert own.risk_free == 0.05 and own.risk_free_source == "usuário"


def test_common_window_when_one_ticker_starts_later(bundled_store):
    inp = prepare_inputs(bundled_store, ["PETR4", "HAPV3", "VALE3"])
    hapv_first = bundled_store.bars("HAPV3").index[0]
    petr_first = bundled_store.bars("PETR4").index[0]
    assert petr_first < hapv_first
    assert inp.limiting_ticker == "HAPV3"
    assert inp.start == hapv_first
    assert inp.prices.index[0] == hapv_first
    assert not inp.prices.isna().any().any()
    # Every shared session where all three (and ^BVSP) have a bar is kept.
    idx = None
    for t in ["PETR4", "HAPV3", "VALE3", "^BVSP"]:
        d = bundled_store.bars(t, hapv_first).index
        idx = d if idx is None else idx.intersection(d)
    assert inp.prices.index.equals(idx)
    assert inp.window()["limiting_ticker"] == "HAPV3"


def test_most_liquid_is_computed(bundled_store):
    top = most_liquid(bundled_store, 10)
    assert len(top) == 10
    vals = {}
    for t in bundled_store.tickers("stock"):
        b = bundled_store.bars(t).iloc[-252:]
        vals[t] = float((b["close"] * b["volume"]).median())
    ref = sorted(vals, key=lambda t: -vals[t])[:10]
    assert top == ref


@pytest.mark.parametrize("bounds", [(0.0, 1.0), (0.05, 0.35)])
@pytest.mark.parametrize("gamma", [0.0, 0.5])
def test_mean_variance_objectives_equal_library(inputs, bounds, gamma):
    rf = inputs.risk_free_arithmetic
    _, r_hi = feasible_return_range(inputs.mu, [bounds] * len(TICKERS))
    cases = {
        "max_sharpe": lambda ef: ef.max_sharpe(risk_free_rate=rf),
        "min_volatility": lambda ef: ef.min_volatility(),
        "max_quadratic_utility": lambda ef: ef.max_quadratic_utility(risk_aversion=2.0),
        "efficient_return": lambda ef: ef.efficient_return(0.9 * r_hi),
        "efficient_risk": lambda ef: ef.efficient_risk(0.32),
    }
    for obj, call in cases.items():
        target = {"efficient_return": 0.9 * r_hi, "efficient_risk": 0.32}.get(obj)
        spec = PortfolioSpec(
            objective=obj, target=target, bounds=bounds, gamma=gamma, risk_aversion=2.0
        )
        ours = optimize_portfolio(inputs, spec)
        mu, cov, ef = _direct_ef(inputs, bounds)
        if gamma:
            ef.add_objective(objective_functions.L2_reg, gamma=gamma)
        with pytest.warns(UserWarning) if (gamma and obj == "max_sharpe") else _nullctx():
            call(ef)
        np.testing.assert_allclose(ours.weights.to_numpy(), ef.weights, atol=1e-6, err_msg=obj)
        assert ours.weights.sum() == pytest.approx(1.0, abs=1e-6)
        assert (ours.weights >= bounds[0] - 1e-6).all() and (ours.weights <= bounds[1] + 1e-6).all()
        r, v, s = ef.portfolio_performance(risk_free_rate=rf)
        assert ours.expected_return == pytest.approx(r, abs=1e-6)
        assert ours.volatility == pytest.approx(v, abs=1e-6)
        if obj == "max_sharpe":
            assert ours.sharpe == pytest.approx(s, abs=1e-6)


class _nullctx:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_hrp_and_min_cvar_equal_library(inputs):
    hrp = optimize_portfolio(inputs, PortfolioSpec(objective="hrp"))
    ref = HRPOpt(inputs.returns, cov_matrix=inputs.cov).optimize()
    np.testing.assert_allclose(
        hrp.weights.to_numpy(), pd.Series(ref)[TICKERS].to_numpy(), atol=1e-6
    )
    cv = optimize_portfolio(inputs, PortfolioSpec(objective="min_cvar", bounds=(0.0, 0.4)))
    ef = EfficientCVaR(inputs.mu, inputs.returns, beta=0.95, weight_bounds=(0.0, 0.4))
    ef.min_cvar()
    np.testing.assert_allclose(cv.weights.to_numpy(), ef.weights, atol=1e-6)
    assert cv.cvar == pytest.approx(ef.portfolio_performance()[1], abs=1e-9)
    assert (cv.weights <= 0.4 + 1e-6).all()


def test_black_litterman_views(inputs):
    views = {"PETR4": 0.25, "VALE3": 0.05}
    ours = optimize_portfolio(inputs, PortfolioSpec(objective="max_sharpe", views=views))
    bl = BlackLittermanModel(inputs.cov, pi=inputs.mu, absolute_views=views, tau=0.05)
    post = bl.bl_returns()
    np.testing.assert_allclose(ours.mu.to_numpy(), post.to_numpy(), rtol=1e-12)
    ef = EfficientFrontier(post, inputs.cov)
    ef.max_sharpe(risk_free_rate=inputs.risk_free_arithmetic)
    np.testing.assert_allclose(ours.weights.to_numpy(), ef.weights, atol=1e-6)
    # The view on PETR4 pulls its expected return towards 25 %.
    assert (post["PETR4"] - inputs.mu["PETR4"]) * (0.25 - inputs.mu["PETR4"]) > 0


def test_feasible_return_range_matches_linprog(inputs):
    bounds = [(0.02, 0.3)] * len(TICKERS)
    lo, hi = feasible_return_range(inputs.mu, bounds)
    c = inputs.mu.to_numpy()
    a_eq, b_eq = np.ones((1, len(c))), [1.0]
    ref_hi = -linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=bounds).fun
    ref_lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds).fun
    assert hi == pytest.approx(ref_hi, abs=1e-10)
    assert lo == pytest.approx(ref_lo, abs=1e-10)


def test_infeasible_target_return_says_what_is_feasible(inputs):
    _, r_hi = feasible_return_range(inputs.mu, [(0, 1)] * len(TICKERS))
    with pytest.raises(InputError, match="acima do máximo viável") as e:
        optimize_portfolio(inputs, PortfolioSpec(objective="efficient_return", target=r_hi + 0.05))
    assert f"{r_hi:.2%}".replace(".", ",") in str(e.value)


def test_infeasible_bounds_say_what_is_feasible(inputs):
    with pytest.raises(InputError, match="não permitem pesos somando 100%") as e:
        optimize_portfolio(inputs, PortfolioSpec(bounds=(0.0, 0.1)))
    assert "máximo ≥ 14,3%" in str(e.value)
    with pytest.raises(InputError, match="mínimo ≤"):
        optimize_portfolio(inputs, PortfolioSpec(bounds=(0.2, 1.0)))
    with pytest.raises(InputError, match="maior que o máximo"):
        optimize_portfolio(inputs, PortfolioSpec(bounds=(0.5, 0.2)))


def test_infeasible_target_volatility_and_rate(inputs):
    with pytest.raises(InputError, match="abaixo da mínima viável"):
        optimize_portfolio(inputs, PortfolioSpec(objective="efficient_risk", target=0.01))
    with pytest.raises(InputError, match="Informe o retorno-alvo"):
        optimize_portfolio(inputs, PortfolioSpec(objective="efficient_return"))
    from dataclasses import replace

    high = replace(inputs, risk_free=1.5)
    with pytest.raises(InputError, match="taxa livre de risco"):
        optimize_portfolio(high, PortfolioSpec(objective="max_sharpe"))
    with pytest.raises(InputError, match="Objetivo desconhecido"):
        optimize_portfolio(inputs, PortfolioSpec(objective="magic"))


def test_too_few_tickers_or_sessions(bundled_store):
    with pytest.raises(InputError, match="pelo menos 2"):
        prepare_inputs(bundled_store, ["PETR4"])
    with pytest.raises(InputError):
        prepare_inputs(bundled_store, ["PETR4", "VALE3"], "2024-11-01", "2024-11-14")


def test_frontier_points_and_landmarks(inputs):
    spec = PortfolioSpec(bounds=(0.0, 0.5))
    fr = efficient_frontier(inputs, spec, points=50)
    assert len(fr.points) == 50 and fr.skipped == 0
    rets = np.array([p.expected_return for p in fr.points])
    vols = np.array([p.volatility for p in fr.points])
    assert np.all(np.diff(rets) > 0)
    assert np.all(np.diff(vols) > -1e-7)  # efficient: more return costs more risk
    assert vols.min() == pytest.approx(fr.min_volatility.volatility, abs=1e-6)
    for p in fr.points:
        w = np.array(list(p.weights.values()))
        assert w.sum() == pytest.approx(1.0, abs=1e-6)
        assert w.min() >= -1e-6 and w.max() <= 0.5 + 1e-6
    # Points equal direct efficient_return calls (the first point, at the minimum-variance
    # return, is flat in the return direction, so it is checked by its volatility above).
    for p in fr.points[5::11]:
        _, _, ef = _direct_ef(inputs, (0.0, 0.5), solver="CLARABEL")
        ef.efficient_return(p.expected_return)
        np.testing.assert_allclose(list(p.weights.values()), ef.weights, atol=1e-6)
    # Tangency has the highest Sharpe of the frontier; the CML passes through it.
    assert fr.tangency.sharpe >= max(p.sharpe for p in fr.points) - 1e-6
    cml = fr.capital_market_line(3)
    assert cml[0] == (0.0, pytest.approx(inputs.risk_free_arithmetic))
    assert fr.equal_weight.weights["PETR4"] == pytest.approx(1 / len(TICKERS))
    assert set(fr.assets) == set(TICKERS)
    assert 0.1 < fr.benchmark[0] < 0.5


def test_every_objective_runs_on_default_like_universe(bundled_store):
    top = most_liquid(bundled_store, 10)
    inp = prepare_inputs(bundled_store, top)
    for obj in OBJECTIVES:
        target = {"efficient_return": 0.10, "efficient_risk": 0.30}.get(obj)
        p = optimize_portfolio(inp, PortfolioSpec(objective=obj, target=target))
        assert p.weights.sum() == pytest.approx(1.0, abs=1e-6), obj
        assert (p.weights >= -1e-6).all(), obj


def test_most_liquid_ignores_a_short_history():
    from core.data.bundled import load_bundled
    from core.data.store import init_db
    from tests.helpers import make_bars

    store = init_db("sqlite://")
    load_bundled(store)
    store.upsert_instrument("QATS3")
    huge = make_bars([(10, 11, 9, 10, 1e12)] * 33, start="2024-09-30")
    store.write_bars("QATS3", huge, "test")
    assert "QATS3" in most_liquid(store, 10, min_history=20)
    assert "QATS3" not in most_liquid(store, 10)


# --- issue 10: consistent returns, CDI semicovariance, flat prices, tiny weights, views ---


def test_equal_weight_shown_figures_match_its_realised_series(bundled_store):
    """Regression (issue 10): equal weight showed 8,0 % (linear mix of CAGRs) against a
    realised CAGR of ~15 %. Shown arithmetic mean = realised arithmetic mean; the Booth-Fama
    geometric figure = realised CAGR of the same (daily rebalanced) series."""
    top = most_liquid(bundled_store, 10)
    inp = prepare_inputs(bundled_store, top, risk_model="sample_cov")
    fr = efficient_frontier(inp, PortfolioSpec(), points=5)
    rp = inp.returns.mean(axis=1)
    n = len(rp)
    realised_cagr = float((1 + rp).prod() ** (252 / n) - 1)
    assert fr.equal_weight.expected_return == pytest.approx(rp.mean() * 252, rel=1e-9)
    assert fr.equal_weight.volatility == pytest.approx(rp.std() * np.sqrt(252), rel=1e-6)
    assert fr.equal_weight.geometric_return == pytest.approx(realised_cagr, abs=0.005)
    # Same rule for an asset and for ^BVSP: the geometric figure tracks each one's own CAGR.
    from core.portfolio.inputs import geometric_return

    for s in (inp.prices[top[0]], inp.benchmark):
        r = s.pct_change().iloc[1:]
        cagr = float((s.iloc[-1] / s.iloc[0]) ** (252 / len(r)) - 1)
        geo = geometric_return(r.mean() * 252, r.std() * np.sqrt(252))
        assert geo == pytest.approx(cagr, abs=0.006)
    assert fr.benchmark[1] == pytest.approx(inp.benchmark.pct_change().mean() * 252, rel=1e-9)


def test_tangency_is_not_a_corner_on_the_default_universe(bundled_store):
    """Regression (issue 10): the tangency put 80-86 % in one stock."""
    top = most_liquid(bundled_store, 10)
    inp = prepare_inputs(bundled_store, top)
    fr = efficient_frontier(inp, PortfolioSpec(), points=5)
    w = pd.Series(fr.tangency.weights)
    assert w.max() < 0.6
    assert (w > 0.05).sum() >= 3


def test_semicovariance_benchmark_is_the_window_cdi(bundled_store, inputs):
    """Regression (issue 10): semicovariance used PyPortfolioOpt's ~2 % a year benchmark."""
    semi = prepare_inputs(bundled_store, TICKERS, START, END, risk_model="semicovariance")
    daily = (1 + semi.risk_free) ** (1 / 252) - 1
    ref = risk_models.semicovariance(semi.prices, benchmark=daily)
    pd.testing.assert_frame_equal(semi.cov, ref)
    lib_default = risk_models.semicovariance(semi.prices)
    assert not np.allclose(semi.cov.to_numpy(), lib_default.to_numpy())


def test_constant_price_asset_gets_a_clear_message(inputs):
    from core.portfolio import inputs_from_prices

    prices = inputs.prices.copy()
    prices["FLAT3"] = 10.0
    with pytest.raises(InputError, match="FLAT3: preço constante"):
        inputs_from_prices(prices, inputs.benchmark, risk_free=0.1)


def test_tiny_weights_are_exact_zeros(inputs):
    """Regression (issue 10): solver noise (1e-9) showed as positions."""
    for obj in ("max_sharpe", "min_volatility", "min_cvar"):
        p = optimize_portfolio(inputs, PortfolioSpec(objective=obj))
        w = p.weights.abs()
        assert ((w == 0) | (w >= 1e-6)).all(), obj
        assert p.weights.sum() == pytest.approx(1.0, abs=1e-9)
    fr = efficient_frontier(inputs, PortfolioSpec(), points=10)
    for pt in fr.points:
        assert all(v == 0 or abs(v) >= 1e-6 for v in pt.weights.values())


@pytest.mark.parametrize("value", [20.0, -1.5, float("nan")])
def test_black_litterman_views_are_range_checked_in_core(inputs, value):
    """Regression (issue 10/11): "PETR4=20" reached core as 20 (2000 %) and was optimised."""
    with pytest.raises(InputError, match="Visão Black-Litterman|devem ser números"):
        optimize_portfolio(inputs, PortfolioSpec(views={"PETR4": value}))


def test_black_litterman_view_in_range_is_accepted(inputs):
    p = optimize_portfolio(inputs, PortfolioSpec(views={"PETR4": 0.20}))
    assert p.weights.sum() == pytest.approx(1.0)
