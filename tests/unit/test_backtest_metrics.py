"""Metrics: Wilson interval, drawdown, Sharpe/Sortino vs an independent formula, labels."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.backtest.metrics import (
    METRIC_INFO,
    compute_metrics,
    drawdown,
    max_drawdown_duration,
    monthly_returns,
    wilson_interval,
)


def test_wilson_matches_the_seed_example_and_scipy_free_formula():
    lo, hi = wilson_interval(7, 9)
    assert (round(lo, 3), round(hi, 3)) == (0.453, 0.937)
    # p = 0.5, n = 100: 0.404 .. 0.596 (standard tables)
    lo, hi = wilson_interval(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-4) and hi == pytest.approx(0.5962, abs=1e-4)
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_drawdown_depth_and_duration():
    eq = pd.Series([100, 120, 90, 100, 130, 125], index=pd.bdate_range("2024-01-01", periods=6))
    assert drawdown(eq).min() == pytest.approx(90 / 120 - 1)
    assert max_drawdown_duration(eq) == 2


def test_sharpe_sortino_against_independent_computation():
    rng = np.random.default_rng(1)
    idx = pd.bdate_range("2020-01-01", periods=500)
    r = rng.normal(0.0006, 0.015, size=499)
    eq = pd.Series(100_000 * np.cumprod(np.r_[1.0, 1 + r]), index=idx)
    rf = pd.Series(0.0004, index=idx)
    trades = pd.DataFrame(
        {
            "pnl": [100.0, -50.0, 30.0],
            "return_pct": [1.0, -0.5, 0.3],
            "bars_held": [3, 4, 5],
            "entry_value": [1e4] * 3,
            "exit_value": [1e4] * 3,
            "fees": [1.0] * 3,
            "borrow": [0.0] * 3,
        }
    )
    m = compute_metrics(eq, trades, rf=rf)
    ex = r - 0.0004
    assert m["sharpe"] == pytest.approx(ex.mean() / ex.std(ddof=1) * np.sqrt(252))
    dd = np.sqrt(np.mean(np.minimum(ex, 0) ** 2))
    assert m["sortino"] == pytest.approx(ex.mean() / dd * np.sqrt(252))
    assert m["profit_factor"] == pytest.approx(130 / 50)
    assert m["payoff"] == pytest.approx(65 / 50)
    assert m["n_trades"] == 3 and m["too_few_trades"] is True
    assert m["win_rate_pct"] == pytest.approx(200 / 3)
    assert m["costs_brl"] == pytest.approx(3.0)
    assert m["cdi_return_pct"] == pytest.approx(100 * (1.0004**499 - 1))


def test_every_metric_has_a_label_and_unit():
    idx = pd.bdate_range("2024-01-01", periods=3)
    m = compute_metrics(
        pd.Series([1.0, 1.1, 1.2], index=idx),
        pd.DataFrame(
            columns=[
                "pnl",
                "return_pct",
                "bars_held",
                "entry_value",
                "exit_value",
                "fees",
                "borrow",
            ]
        ),
    )
    assert set(m) == set(METRIC_INFO)
    assert all(unit for _, unit in METRIC_INFO.values())


def test_monthly_returns_table():
    idx = pd.to_datetime(["2024-01-02", "2024-01-31", "2024-02-29", "2024-03-01"])
    t = monthly_returns(pd.Series([100.0, 110.0, 99.0, 99.0], index=idx))
    assert t.loc[2024, 1] == pytest.approx(10.0)
    assert t.loc[2024, 2] == pytest.approx(-10.0)
    assert t.loc[2024, 3] == pytest.approx(0.0)
    assert np.isnan(t.loc[2024, 4])
