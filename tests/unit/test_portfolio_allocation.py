"""Allocation in B3 lots: executable orders, never over capital, optimal on small cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core.backtest.costs import NO_COSTS, B3Costs
from core.errors import InputError
from core.portfolio import allocate_lots, split_order


def _check_executable(alloc, capital, holdings=None, costs=None):
    holdings = holdings or {}
    cash = capital
    for o in alloc.orders.to_dict(orient="records"):
        if o["market"] == "lote":
            assert o["shares"] % 100 == 0 and o["shares"] > 0, o
            assert not o["ticker"].endswith("F") or o["ticker"][:-1] not in alloc.positions.index
        else:
            assert o["ticker"].endswith("F") and 1 <= o["shares"] <= 99, o
        sign = 1 if o["side"] == "C" else -1
        # Independent cash ledger: buys pay value + fees, sells receive value - fees.
        cash -= sign * o["value"] + o["fees"]
    assert cash >= -1e-6, f"spent more than the capital: {cash}"
    assert alloc.cash_left == pytest.approx(cash, abs=1e-6)
    pos = alloc.positions
    assert (pos["shares"] >= 0).all()
    assert (pos["fractional"].between(0, 99)).all()
    assert (pos["shares"] == pos["lots"] * 100 + pos["fractional"]).all()
    # Orders move current holdings exactly to the new positions.
    for t, row in pos.iterrows():
        delta = 0
        for o in alloc.orders.to_dict(orient="records"):
            if o["ticker"] in (t, t + "F"):
                delta += o["shares"] if o["side"] == "C" else -o["shares"]
        assert holdings.get(t, 0) + delta == row["shares"]


@pytest.mark.parametrize("seed", range(25))
def test_random_allocations_are_executable(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 12))
    tickers = [f"AAAA{i}" for i in range(n)]
    w = rng.dirichlet(np.ones(n) * 0.7)
    prices = rng.choice([rng.uniform(1, 10, n), rng.uniform(10, 200, n)])
    capital = float(rng.choice([800.0, 5_000.0, 50_000.0, 1_000_000.0]))
    brok = float(rng.choice([0.0, 0.0, 4.9]))
    costs = B3Costs(brokerage_per_order=brok)
    alloc = allocate_lots(dict(zip(tickers, w)), dict(zip(tickers, prices)), capital, costs=costs)
    _check_executable(alloc, capital, costs=costs)
    if capital >= 50_000 and brok == 0:
        # With enough capital the result is close to the target weights.
        assert alloc.distance / capital < 0.02


def test_rebalance_from_holdings():
    prices = {"PETR4": 37.27, "VALE3": 56.87, "ITUB4": 34.44}
    holdings = {"PETR4": 1000, "VALE3": 250, "MGLU3": 130}
    prices["MGLU3"] = 9.0
    alloc = allocate_lots({"PETR4": 0.5, "ITUB4": 0.5}, prices, 2_000.0, holdings=holdings)
    _check_executable(alloc, 2_000.0, holdings)
    pos = alloc.positions
    assert pos.loc["VALE3", "shares"] == 0 and pos.loc["MGLU3", "shares"] == 0
    sells = {o["ticker"]: o["shares"] for o in alloc.orders.to_dict("records") if o["side"] == "V"}
    assert sells["VALE3"] == 200 and sells["VALE3F"] == 50
    assert sells["MGLU3"] == 100 and sells["MGLU3F"] == 30
    assert alloc.capital == pytest.approx(2_000 + 1000 * 37.27 + 250 * 56.87 + 130 * 9.0)
    w = pos["weight"]
    assert w["PETR4"] == pytest.approx(0.5, abs=0.01) and w["ITUB4"] == pytest.approx(0.5, abs=0.01)


def test_no_trade_when_already_on_target():
    alloc = allocate_lots({"PETR4": 1.0}, {"PETR4": 10.0}, 0.0, holdings={"PETR4": 1000})
    assert alloc.orders.empty
    assert alloc.costs == 0


def test_milp_is_optimal_against_brute_force():
    prices = {"AAA": 13.7, "BBB": 41.3}
    w = {"AAA": 0.35, "BBB": 0.65}
    capital = 9_000.0
    alloc = allocate_lots(w, prices, capital, costs=NO_COSTS)
    best = np.inf
    for a, b in itertools.product(range(0, 700), range(0, 230)):
        spend = a * prices["AAA"] + b * prices["BBB"]
        if spend > capital - 0.01:
            continue
        d = abs(a * prices["AAA"] - w["AAA"] * capital) + abs(
            b * prices["BBB"] - w["BBB"] * capital
        )
        best = min(best, d)
    assert alloc.distance == pytest.approx(best, abs=1e-6)


def test_split_order():
    assert split_order("PETR4", 250) == [("PETR4", 200), ("PETR4F", 50)]
    assert split_order("PETR4", 99) == [("PETR4F", 99)]
    assert split_order("PETR4", 300) == [("PETR4", 300)]


def test_small_capital_buys_fractional_only():
    alloc = allocate_lots({"PETR4": 0.6, "VALE3": 0.4}, {"PETR4": 37.0, "VALE3": 57.0}, 1_000.0)
    assert set(alloc.orders["market"]) == {"fracionário"}
    _check_executable(alloc, 1_000.0)


def test_invalid_allocation_inputs():
    with pytest.raises(InputError, match="somam"):
        allocate_lots({"A": 0.8, "B": 0.5}, {"A": 1, "B": 1}, 1000)
    with pytest.raises(InputError, match="Preço"):
        allocate_lots({"A": 0.5, "B": 0.5}, {"A": 1}, 1000)
    with pytest.raises(InputError, match="capital"):
        allocate_lots({"A": 1.0}, {"A": 1}, -5)
    with pytest.raises(InputError, match="positivos"):
        allocate_lots({"A": 1.5, "B": -0.5}, {"A": 1, "B": 1}, 1000)
