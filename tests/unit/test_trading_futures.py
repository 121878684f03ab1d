"""Issue 14: a paper account trades WIN in contracts (regression tests: before, the broker
paid the notional of a contract from the cash, charged stock fees on it and knew no tick,
margin or day-trade flatten).

Hand-computed WIN day trade (B3 "Mini Índice": R$ 0,20 per point, tick 5 points; defaults of
:mod:`core.data.futures`: day-trade margin R$ 100, fees R$ 0,37 regular / R$ 0,25 day trade per
contract and side; slippage 1 tick): buy 2 at the open 120.100 + 5 = 120.105, flattened at the
session's end at 120.350 − 5 = 120.345: 2 × 240 points × 0,20 = R$ 96,00 minus fees 2 × 0,25 on
each side = R$ 95,00; day-trade tax 20 % = R$ 19,00 (the 1 % IRRF, R$ 0,95, is under the
R$ 1,00 floor: all of it is DARF) — :mod:`core.backtest.taxes`, the backtest's rules.
"""

from __future__ import annotations

import pandas as pd
import pytest

from core.backtest.engine import EngineConfig
from core.errors import InputError
from core.trading import OrderRequest, PaperBroker, create_account
from core.trading.risk import RiskRejected
from tests import trading_helpers as th

paper_template, paper_store = th.paper_template, th.paper_store  # fixtures

DAY = "2024-01-02"


@pytest.fixture
def win_store(paper_store):
    idx = pd.DatetimeIndex([f"{DAY} 10:00"], name="date")
    bars = pd.DataFrame(
        {c: [120000.0] for c in ("open", "high", "low", "close", "adj_close")}, index=idx
    )
    bars["volume"] = 0.0
    paper_store.upsert_instrument("WINFUT", kind="future")
    paper_store.write_bars("WINFUT", bars, "csv", interval="5min")
    return paper_store


def _account(store, cash=10_000.0):
    cfg = EngineConfig(cash=cash, day_trade=True)
    create_account(store, "w", cash, engine=cfg)
    b = PaperBroker(store, "w")
    b.on_bar("WINFUT", th.bar(120000.0), f"{DAY} 10:00")
    return b


def test_win_day_trade_in_contracts_points_and_reais(win_store):
    b = _account(win_store)
    b.submit(OrderRequest("w", "WINFUT", "buy", 2))
    fills = b.on_bar("WINFUT", th.bar(120100.0, 120300.0, 120050.0, 120250.0), f"{DAY} 10:05")
    assert [(f.qty, f.price) for f in fills] == [(2, 120105.0)]  # contracts, points
    assert fills[0].fees == pytest.approx(2 * 0.37)
    snap = b.account()
    # no notional paid: cash = 10.000 − fees; equity holds the open result in R$
    assert snap.cash == pytest.approx(10_000.0 - 0.74)
    assert snap.equity == pytest.approx(10_000.0 - 0.74 + 2 * (120250 - 120105) * 0.20)
    assert snap.buying_power == pytest.approx(snap.cash - 2 * 100.0)  # margin blocked
    pos = b.positions()[0]
    assert (pos.qty, pos.last) == (2, 120250.0)
    assert pos.unrealized_pnl == pytest.approx(2 * (120250 - 120105 - 0.37 / 0.20) * 0.20)

    b.on_bar("WINFUT", th.bar(120250.0, 120400.0, 120200.0, 120350.0), f"{DAY} 10:10")
    out = b.close_day_trades(f"{DAY} 10:10")
    assert [(f.side, f.qty, f.price) for f in out] == [("sell", 2, 120345.0)]
    tr = b.trades().iloc[0]
    assert tr["pnl"] == pytest.approx(2 * 240 * 0.20 - 2 * 0.25 * 2)  # R$ 95,00
    assert (tr["entry_price"], tr["exit_price"]) == (120105.0, 120345.0)
    assert bool(tr["day_trade"])
    assert b.account().cash == pytest.approx(10_095.0)
    assert b.positions() == []
    rep = b.tax_report().iloc[0]
    assert rep["day_trade_tax"] == pytest.approx(0.20 * 95.0)
    # 1 % IRRF = R$ 0,95 is not withheld (R$ 1,00 or less, Lei 11.033/2004 art. 2º):
    # the whole 20 % goes to the DARF
    assert rep["withheld"] == 0.0
    assert rep["darf"] == pytest.approx(19.0)


def test_win_margin_check_replaces_the_cash_check(win_store):
    b = _account(win_store, cash=150.0)
    with pytest.raises(RiskRejected) as exc:
        b.submit(OrderRequest("w", "WINFUT", "buy", 2))  # 2 × R$ 100 + fees > R$ 150
    assert exc.value.rule == "saldo" and "margem" in exc.value.message
    o = b.submit(OrderRequest("w", "WINFUT", "buy", 1))  # R$ 100 + R$ 0,37: fits
    assert o.status == "aceita"


def test_win_prices_on_the_five_point_tick(win_store):
    b = _account(win_store)
    with pytest.raises(InputError, match="tick de 5 pontos"):
        b.submit(OrderRequest("w", "WINFUT", "buy", 1, type="limit", price=120003.0))
    o = b.submit(OrderRequest("w", "WINFUT", "buy", 1, type="limit", price=120005.0))
    assert o.status == "aceita"


def test_win_preview_in_points_notional_and_fees_per_contract(win_store):
    b = _account(win_store)
    p = b.preview(OrderRequest("w", "WINFUT", "buy", 3))
    assert p.ok and p.est_price == 120005.0  # last 120.000 + 1 tick of slippage
    assert p.est_value == pytest.approx(3 * 120005.0 * 0.20)  # notional in R$
    assert p.est_fees == pytest.approx(3 * 0.37)


def test_win_orders_work_in_the_futures_session_and_wait_outside_it(win_store):
    """WIN trades until about 18:25, after the equities' close: an order sent at 18:10 fills
    on the 18:15 bar (the equities' rule sent it to the next session); one sent after the
    futures close waits for the next session's first bar."""
    b = _account(win_store)
    b.on_bar("WINFUT", th.bar(120000.0), f"{DAY} 18:10")
    b.submit(OrderRequest("w", "WINFUT", "buy", 1))
    got = b.on_bar("WINFUT", th.bar(120100.0), f"{DAY} 18:15")
    assert [(f.qty, f.price) for f in got] == [(1, 120105.0)]
    b.mark({"WINFUT": 120100.0}, f"{DAY} 18:40")  # after the futures close
    b.submit(OrderRequest("w", "WINFUT", "sell", 1))
    assert b.on_bar("WINFUT", th.bar(120200.0), f"{DAY} 18:45") == []  # waits
    got = b.on_bar("WINFUT", th.bar(120300.0), "2024-01-03 09:00")
    assert [(f.side, f.price) for f in got] == [("sell", 120295.0)]


def test_win_is_sold_short_without_a_stock_loan(win_store):
    """Selling WIN first is an ordinary futures trade (no stock loan, no ``--short``)."""
    b = _account(win_store)
    b.submit(OrderRequest("w", "WINFUT", "sell", 1))
    got = b.on_bar("WINFUT", th.bar(120100.0), f"{DAY} 10:05")
    assert [(f.side, f.price) for f in got] == [("sell", 120095.0)]
    assert b.positions()[0].qty == -1
    b.submit(OrderRequest("w", "WINFUT", "buy", 1))
    b.on_bar("WINFUT", th.bar(119900.0), f"{DAY} 10:10")  # bought back at 119.905
    assert b.trades().iloc[0]["pnl"] == pytest.approx(190 * 0.20 - 2 * 0.25)
