"""Trading view: checked against a plain loop over the same rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest.costs import NO_COSTS, B3Costs
from core.errors import InputError
from core.ml.trading import trading_view


def _loop(p, r, thr, unit):
    eq, bh, pos_prev, trades = 1.0, 1.0, 0, 0
    for i in range(len(p)):
        pos = 1 if p[i] >= thr else 0
        cost = unit * abs(pos - pos_prev) + (unit * pos if i == len(p) - 1 else 0)
        trades += pos == 1 and pos_prev == 0
        eq *= 1 + pos * r[i] - cost
        bh *= 1 + r[i] - (unit if i == 0 else 0) - (unit if i == len(p) - 1 else 0)
        pos_prev = pos
    return eq - 1, bh - 1, trades


@pytest.mark.parametrize("costs", [NO_COSTS, B3Costs(slippage_bps=10)])
def test_trading_view_matches_a_plain_loop(costs):
    rng = np.random.default_rng(3)
    n = 300
    oos = pd.DataFrame(
        {
            "date": pd.bdate_range("2023-01-02", periods=n),
            "ticker": "X",
            "p_up": rng.uniform(0.3, 0.7, n),
            "fwd_ret": rng.normal(0.0005, 0.015, n),
        }
    )
    tv = trading_view(oos, 0.55, costs)
    unit = costs.swing_fee_rate + costs.slippage_bps / 1e4
    strat, bh, trades = _loop(oos["p_up"].to_numpy(), oos["fwd_ret"].to_numpy(), 0.55, unit)
    assert tv["strategy"]["total_return"] == pytest.approx(strat, rel=1e-9)
    assert tv["buy_hold"]["total_return"] == pytest.approx(bh, rel=1e-9)
    assert tv["strategy"]["trades"] == trades
    assert tv["strategy"]["max_drawdown"] <= 0
    assert len(tv["equity"]) == n


def test_costs_only_lower_the_result_and_threshold_is_checked():
    rng = np.random.default_rng(4)
    oos = pd.DataFrame(
        {
            "date": pd.bdate_range("2023-01-02", periods=100),
            "ticker": "X",
            "p_up": rng.uniform(0.4, 0.7, 100),
            "fwd_ret": rng.normal(0, 0.01, 100),
        }
    )
    a = trading_view(oos, 0.5, NO_COSTS)["strategy"]["total_return"]
    b = trading_view(oos, 0.5, B3Costs())["strategy"]["total_return"]
    assert b < a
    with pytest.raises(InputError):
        trading_view(oos, 1.5)
