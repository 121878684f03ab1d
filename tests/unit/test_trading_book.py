"""Pure position arithmetic (core.trading.book) and the paper-only fill rules added to
core.backtest.fills (limit_fill, stop_limit_trigger), hand-computed; the public names."""

from __future__ import annotations

import importlib
import math

import pytest

from core.backtest.fills import limit_fill, stop_limit_trigger
from core.trading.book import PositionState, book_fill

SW, DT = 0.0003, 0.00023


def test_average_cost_includes_fees_and_swing_result():
    s, b = book_fill(PositionState(), 1, 100, 10.0, swing_rate=SW, dt_rate=DT, brokerage=2.0)
    assert b.fee == pytest.approx(0.3 + 2.0) and s.avg == pytest.approx(10.0 + 2.3 / 100)
    s, b2 = book_fill(s, 1, 100, 12.0, swing_rate=SW, dt_rate=DT)
    assert s.qty == 200 and s.avg == pytest.approx((1002.3 + 1200.36) / 200)
    # next session: the day part is reset by the caller
    carried = PositionState(s.qty, s.avg, 0.0)
    s3, b3 = book_fill(carried, -1, 50, 13.0, swing_rate=SW, dt_rate=DT)
    assert b3.dt_qty == 0 and b3.sw_pnl == pytest.approx(50 * (13.0 - s.avg) - 50 * 13.0 * SW)
    assert s3.qty == 150 and s3.avg == pytest.approx(s.avg)


def test_partial_day_trade_matches_todays_shares_first():
    carried = PositionState(100, 10.03, 0.0)  # 100 from earlier sessions at 10,03 per share
    s, _ = book_fill(carried, 1, 100, 11.0, swing_rate=SW, dt_rate=DT)  # +100 today
    s2, b = book_fill(s, -1, 150, 12.0, swing_rate=SW, dt_rate=DT)
    assert b.dt_qty == 100 and b.closed == 150
    refund = 100 * 11.0 * (SW - DT)
    assert b.refund == pytest.approx(refund)
    dt_basis = 11.0 + 11.0 * SW - refund / 100
    assert b.dt_pnl == pytest.approx(100 * (12.0 - dt_basis) - 100 * 12.0 * DT)
    assert b.sw_pnl == pytest.approx(50 * (12.0 - 10.03) - 50 * 12.0 * SW)
    assert s2.qty == 50 and s2.avg == pytest.approx(10.03)


def test_short_and_flip():
    s, b = book_fill(PositionState(), -1, 100, 10.0, swing_rate=SW, dt_rate=DT)
    assert s.qty == -100 and s.avg == pytest.approx(10.0 - 0.003)  # net proceeds per share
    s2, b2 = book_fill(s, 1, 300, 9.0, swing_rate=SW, dt_rate=DT)  # cover 100, buy 200
    assert b2.closed == 100 and b2.direction == -1 and s2.qty == 200
    assert b2.dt_pnl == pytest.approx(
        100 * ((10.0 - 0.003 + 10.0 * (SW - DT)) - 9.0) - 100 * 9.0 * DT
    )
    assert s2.avg == pytest.approx(9.0 + 9.0 * SW)


def test_limit_fill_rules():
    # buy limit 9,80: reached inside the bar -> at the limit, slippage capped
    assert limit_fill(10.0, 10.5, 9.5, 9.8, 1, 0.0005, 10.0) == 9.8
    # gap below the limit -> the open plus slippage (better than the limit)
    assert limit_fill(9.0, 9.5, 8.9, 9.8, 1, 0.0005, 9.0) == pytest.approx(9.0045)
    # sell limit 10,50 not reached
    assert math.isnan(limit_fill(10.0, 10.4, 9.9, 10.5, -1, 0.0, 10.0))
    assert limit_fill(10.0, 10.6, 9.9, 10.5, -1, 0.0005, 10.0) == 10.5


def test_stop_limit_trigger_rules():
    assert stop_limit_trigger(10.0, 10.6, 9.9, 10.5, 10.6, 1, 0.0005) == pytest.approx(
        (10.50525, True)
    )
    p, t = stop_limit_trigger(10.8, 11.0, 10.7, 10.5, 10.6, 1, 0.0)
    assert math.isnan(p) and t  # triggered beyond the limit: rests
    p, t = stop_limit_trigger(10.0, 10.4, 9.9, 10.5, 10.6, 1, 0.0)
    assert math.isnan(p) and not t
    assert stop_limit_trigger(10.0, 10.1, 9.4, 9.5, 9.45, -1, 0.0) == (9.5, True)  # sell stop-limit


PUBLIC = {
    "core.trading": [
        "OrderRequest",
        "Order",
        "Fill",
        "Position",
        "AccountSnapshot",
        "Broker",
        "PaperBroker",
        "create_account",
        "list_accounts",
        "get_account",
        "RiskRules",
        "RiskDecision",
        "RiskRejected",
        "check",
        "kill_switch",
        "TradingEvent",
        "list_events",
    ],
    "core.trading.broker": ["STATUSES", "ORDER_TYPES", "SIDES", "order_session", "split_order"],
    "core.trading.events": ["EVENT_KINDS", "write_event"],
    "core.trading.models": [
        "PaperAccount",
        "PaperOrder",
        "PaperOrderEvent",
        "PaperFill",
        "PaperLedger",
    ],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names(module):
    mod = importlib.import_module(module)
    for name in PUBLIC[module]:
        assert hasattr(mod, name) and name in mod.__all__, name


def test_contract_statuses_and_event_kinds():
    from core.trading.broker import STATUSES
    from core.trading.events import EVENT_KINDS

    assert STATUSES == (
        "nova",
        "aceita",
        "parcial",
        "executada",
        "cancelada",
        "rejeitada",
        "expirada",
    )
    assert set(EVENT_KINDS) == {
        "fill",
        "stop",
        "target",
        "rejected",
        "daily_loss_limit",
        "drawdown",
        "kill_switch",
        "red_flag",
    }
