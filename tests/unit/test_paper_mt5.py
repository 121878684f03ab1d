"""MetaTrader 5 broker translation on recorded payloads of the exact shapes (issue 12).

``MetaTrader5`` returns named tuples; these are their field lists, as the package defines
them, with values recorded from a B3 demo account (XP, PETR4 / VALE3).
"""

from __future__ import annotations

from collections import namedtuple

import pandas as pd
import pytest

from core.errors import InputError
from core.trading.broker import OrderRequest
from core.trading.mt5 import (
    MT5Broker,
    MT5Unavailable,
    fill_from_mt5,
    order_from_mt5,
    position_from_mt5,
    request_to_mt5,
    snapshot_from_mt5,
)
from core.trading.risk import RiskRejected, RiskRules

TradeOrder = namedtuple(
    "TradeOrder",
    "ticket time_setup time_setup_msc time_done time_done_msc time_expiration type type_time "
    "type_filling state magic position_id position_by_id reason volume_initial volume_current "
    "price_open sl tp price_current price_stoplimit symbol comment external_id",
)
TradePosition = namedtuple(
    "TradePosition",
    "ticket time time_msc time_update time_update_msc type magic identifier reason volume "
    "price_open sl tp price_current swap profit symbol comment external_id",
)
TradeDeal = namedtuple(
    "TradeDeal",
    "ticket order time time_msc type entry magic position_id reason volume price commission "
    "swap profit fee symbol comment external_id",
)
OrderSendResult = namedtuple(
    "OrderSendResult",
    "retcode deal order volume price bid ask comment request_id retcode_external request",
)
AccountInfo = namedtuple(
    "AccountInfo",
    "login trade_mode leverage limit_orders margin_so_mode trade_allowed trade_expert "
    "margin_mode currency_digits fifo_close balance credit profit equity margin margin_free "
    "margin_level margin_so_call margin_so_so margin_initial margin_maintenance assets "
    "liabilities commission_blocked name server currency company",
)
Tick = namedtuple("Tick", "time bid ask last volume time_msc flags volume_real")

# 2024-11-14 13:05:00 UTC = 10:05 in São Paulo
T0 = 1731589500
PENDING = TradeOrder(
    812345678,
    T0,
    T0 * 1000,
    0,
    0,
    0,
    4,
    1,
    2,
    1,
    20260,
    0,
    0,
    3,
    200.0,
    200.0,
    37.50,
    36.10,
    39.90,
    37.27,
    0.0,
    "PETR4",
    "run1:20241114:PETR4:entry",
    "",
)
PARTIAL = PENDING._replace(
    ticket=812345679,
    type=3,
    state=3,
    volume_current=50.0,
    price_open=62.0,
    sl=0.0,
    tp=0.0,
    symbol="VALE3",
    comment="",
)
POSITION = TradePosition(
    812340001,
    T0,
    T0 * 1000,
    T0,
    T0 * 1000,
    0,
    20260,
    812340001,
    3,
    300.0,
    36.92,
    36.10,
    39.90,
    37.27,
    0.0,
    105.0,
    "PETR4",
    "",
    "",
)
SHORT = POSITION._replace(
    ticket=812340002,
    type=1,
    volume=100.0,
    symbol="VALE3",
    price_open=61.0,
    price_current=60.5,
    profit=50.0,
)
DEAL = TradeDeal(
    912340001,
    812340001,
    T0,
    T0 * 1000,
    0,
    0,
    20260,
    812340001,
    3,
    300.0,
    36.92,
    -4.50,
    0.0,
    0.0,
    -3.32,
    "PETR4",
    "",
    "",
)
INFO = AccountInfo(
    5012345,
    0,
    1,
    200,
    0,
    True,
    True,
    2,
    2,
    False,
    100000.0,
    0.0,
    105.0,
    100105.0,
    0.0,
    100105.0,
    0.0,
    50.0,
    30.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    "Trader",
    "XPMT5-DEMO",
    "BRL",
    "XP",
)


def test_pending_order_translation():
    o = order_from_mt5(PENDING, "xp")
    assert (o.id, o.ticker, o.side, o.type, o.qty, o.filled_qty) == (
        812345678,
        "PETR4",
        "buy",
        "stop",
        200,
        0,
    )
    assert (o.stop_price, o.price, o.stop_loss, o.target) == (37.50, None, 36.10, 39.90)
    assert (o.status, o.tif, o.client_id) == ("aceita", "day", "run1:20241114:PETR4:entry")
    assert o.created_at == pd.Timestamp("2024-11-14 10:05")  # UTC server clock → São Paulo
    p = order_from_mt5(PARTIAL, "xp")
    assert (p.side, p.type, p.price, p.status, p.filled_qty) == (
        "sell",
        "limit",
        62.0,
        "parcial",
        150,
    )
    assert p.stop_loss is None and p.client_id is None


def test_position_deal_and_account_translation():
    p = position_from_mt5(POSITION, "xp")
    assert (p.ticker, p.qty, p.avg_price, p.last, p.market_value) == (
        "PETR4",
        300,
        36.92,
        37.27,
        300 * 37.27,
    )
    s = position_from_mt5(SHORT, "xp")
    assert s.qty == -100 and s.market_value == -6050.0
    f = fill_from_mt5(DEAL, "xp")
    assert (f.id, f.order_id, f.side, f.qty, f.price) == (912340001, 812340001, "buy", 300, 36.92)
    assert f.fees == pytest.approx(7.82) and f.time == pd.Timestamp("2024-11-14 10:05")
    snap = snapshot_from_mt5(INFO, [p, s], "xp")
    assert (snap.cash, snap.equity, snap.buying_power) == (100000.0, 100105.0, 100105.0)
    assert snap.gross_exposure == pytest.approx(300 * 37.27 + 6050.0) and not snap.blocked


def test_request_translation_every_type():
    base = dict(account="xp", ticker="petr4", qty=200)
    m = request_to_mt5(OrderRequest(**base, side="buy", client_id="c" * 40), price=37.28, magic=7)
    assert m == {
        "symbol": "PETR4",
        "volume": 200.0,
        "type": 0,
        "magic": 7,
        "comment": "c" * 31,
        "type_filling": 2,
        "action": 1,
        "price": 37.28,
        "deviation": 10,
        "type_time": 1,
    }
    lim = request_to_mt5(OrderRequest(**base, side="sell", type="limit", price=38.0, tif="gtc"))
    assert (lim["action"], lim["type"], lim["price"], lim["type_time"]) == (5, 3, 38.0, 0)
    st = request_to_mt5(
        OrderRequest(
            **base,
            side="buy",
            type="stop_limit",
            stop_price=37.5,
            price=37.6,
            stop_loss=36.1,
            target=39.9,
            tif=pd.Timestamp("2024-11-22").date(),
        )
    )
    assert (st["type"], st["price"], st["stoplimit"], st["sl"], st["tp"]) == (
        6,
        37.5,
        37.6,
        36.1,
        39.9,
    )
    assert st["type_time"] == 3 and st["expiration"] == int(
        pd.Timestamp("2024-11-22 03:00", tz="UTC").timestamp()
    )
    with pytest.raises(InputError, match="preço atual"):
        request_to_mt5(OrderRequest(**base, side="buy"))
    with pytest.raises(InputError, match="inteiro positivo"):
        request_to_mt5(OrderRequest(account="xp", ticker="PETR4", qty=0, side="buy"), price=1.0)


class FakeTerminal:
    """A MetaTrader5 module stand-in answering with the recorded payloads."""

    def __init__(self, ok=True, retcode=10009):
        self.ok, self.retcode, self.sent = ok, retcode, []

    def initialize(self):
        return self.ok

    def last_error(self):
        return (-10003, "IPC initialize failed")

    def account_info(self):
        return INFO

    def positions_get(self):
        return (POSITION,)

    def orders_get(self, ticket=None):
        return tuple(o for o in (PENDING, PARTIAL) if ticket is None or o.ticket == ticket)

    def history_orders_get(self, *a, ticket=None):
        return ()

    def history_deals_get(self, a, b):
        return (DEAL,)

    def symbol_info_tick(self, symbol):
        return Tick(T0, 37.26, 37.28, 37.27, 100, T0 * 1000, 6, 100.0)

    def order_send(self, request):
        self.sent.append(request)
        return OrderSendResult(
            self.retcode,
            0,
            PENDING.ticket,
            200.0,
            37.5,
            37.26,
            37.28,
            "Request executed" if self.retcode == 10009 else "Invalid stops",
            1,
            0,
            None,
        )


def test_broker_sends_after_the_risk_rules_and_reads_back():
    term = FakeTerminal()
    b = MT5Broker("xp", term)
    o = b.submit(OrderRequest("xp", "PETR4", "buy", 200, type="stop", stop_price=37.5))
    assert o.id == PENDING.ticket and term.sent[0]["type"] == 4
    # the client id found among the terminal's orders returns it, nothing sent
    again = b.submit(OrderRequest("xp", "PETR4", "buy", 200, client_id="run1:20241114:PETR4:entry"))
    assert again.id == PENDING.ticket and len(term.sent) == 1
    assert [p.qty for p in b.positions()] == [300] and b.fills()[0].qty == 300
    tight = MT5Broker("xp", FakeTerminal(), rules=RiskRules(max_position_pct=0.05))
    with pytest.raises(RiskRejected):
        tight.submit(OrderRequest("xp", "PETR4", "buy", 1000))


def test_broker_terminal_refusal_and_unavailable_are_explained():
    b = MT5Broker("xp", FakeTerminal(retcode=10016))
    with pytest.raises(InputError, match="MetaTrader 5 recusou a ordem: 10016 Invalid stops"):
        b.submit(OrderRequest("xp", "PETR4", "buy", 100))
    with pytest.raises(MT5Unavailable, match="não iniciou o terminal"):
        MT5Broker("xp", FakeTerminal(ok=False))


def test_without_a_terminal_package_the_message_says_what_to_install():
    with pytest.raises(MT5Unavailable, match="MetaTrader ?5"):
        MT5Broker("xp")
