"""The paper broker and the backtest engine agree on one trade: same fills (the shared
``core.backtest.fills`` rules), same B3 fees and day-trade refund, same P&L — for a stop
exit on a later bar, a stop on the entry bar (day trade) and a target reached by a gap."""

from __future__ import annotations

import pytest

from core.backtest.costs import B3Costs
from core.backtest.engine import EngineConfig, run_engine
from core.trading import OrderRequest, PaperBroker, create_account
from tests import trading_helpers as th
from tests.helpers import engine_bars, engine_signals

paper_template, paper_store = th.paper_template, th.paper_store  # fixtures

COSTS = B3Costs(swing_fee_rate=0.0003, day_trade_fee_rate=0.00023, slippage_bps=5.0)


@pytest.mark.parametrize(
    "rows",
    [
        # entry at 10 on bar 1, stop 9.5 hit on bar 3
        [(10, 10, 10, 10), (10, 10.2, 9.9, 10.1), (10.1, 10.3, 10.0, 10.2), (10.1, 10.2, 9.4, 9.6)],
        # stopped on the entry bar: a day trade
        [(10, 10, 10, 10), (10, 10.1, 9.4, 9.6), (9.6, 9.7, 9.5, 9.6), (9.6, 9.7, 9.5, 9.6)],
        # gap through the target at the open of bar 2
        [
            (10, 10, 10, 10),
            (10, 10.2, 9.9, 10.1),
            (11.5, 11.8, 11.4, 11.6),
            (11.6, 11.7, 11.5, 11.6),
        ],
    ],
    ids=["stop", "entry-bar-day-trade", "target-gap"],
)
def test_bracket_trade_matches_the_engine(paper_store, rows):
    bars = engine_bars(rows, start="2024-01-02")
    sig = engine_signals(bars.index, entry_long=[0], stop={0: 9.5}, target={0: 11.0})
    cfg = EngineConfig(cash=100_000.0, costs=COSTS)
    res = run_engine(bars, sig, cfg)
    eng = res.trades.iloc[0]
    shares = int(eng["shares"])

    create_account(paper_store, "p", 100_000.0, engine=cfg)
    b = PaperBroker(paper_store, "p")
    b.on_bar("PETR4", bars.iloc[0], bars.index[0])
    b.submit(OrderRequest("p", "PETR4", "buy", shares, stop_loss=9.5, target=11.0))
    for ts, row in bars.iloc[1:].iterrows():
        b.on_bar("PETR4", row, ts)
    fills = b.fills()
    assert fills[0].price == pytest.approx(eng["entry_price"])
    assert fills[-1].price == pytest.approx(eng["exit_price"])
    tr = b.trades()
    assert tr["pnl"].sum() == pytest.approx(eng["pnl"], abs=1e-6)
    assert bool(tr["day_trade"].iloc[0]) == bool(eng["day_trade"])
    assert b.account().cash == pytest.approx(100_000.0 + eng["pnl"], abs=1e-6)


def test_trade_record_has_the_engine_entry_price_and_reason(paper_store):
    rows = [
        (10, 10, 10, 10),
        (10, 10.2, 9.9, 10.1),
        (10.1, 10.3, 10.0, 10.2),
        (10.1, 10.2, 9.4, 9.6),
    ]
    bars = engine_bars(rows, start="2024-01-02")
    sig = engine_signals(bars.index, entry_long=[0], stop={0: 9.5}, target={0: 11.0})
    cfg = EngineConfig(cash=100_000.0, costs=COSTS)
    eng = run_engine(bars, sig, cfg).trades.iloc[0]
    create_account(paper_store, "p", 100_000.0, engine=cfg)
    b = PaperBroker(paper_store, "p")
    b.on_bar("PETR4", bars.iloc[0], bars.index[0])
    b.submit(OrderRequest("p", "PETR4", "buy", int(eng["shares"]), stop_loss=9.5, target=11.0))
    for ts, row in bars.iloc[1:].iterrows():
        b.on_bar("PETR4", row, ts)
    tr = b.trades().iloc[0]
    for col in ("entry_price", "exit_price", "entry_value", "exit_value", "pnl", "return_pct"):
        assert tr[col] == pytest.approx(eng[col]), col
    assert tr["exit_reason"] == eng["exit_reason"] == "stop"
