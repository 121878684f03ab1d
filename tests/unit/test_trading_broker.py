"""PaperBroker: hand-computed fills for every order type and the bracket, states and their
history, lots, validity, participation, ledger and settlement, idempotency, concurrency."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from core.errors import InputError, UnknownTickerError
from core.trading import OrderRequest, PaperBroker, RiskRejected, create_account
from core.trading.broker import order_session, settle_date, split_order
from tests import trading_helpers as th
from tests.trading_helpers import bar

paper_template, paper_store = th.paper_template, th.paper_store  # fixtures

SLIP = 0.0005  # the b3 preset: 5 bps
SW = 0.0003  # B3 swing rate in force in 2024
DT = 0.00023  # day-trade rate


def _acct(store, name="a", cash=100_000.0, **kw):
    create_account(store, name, cash, **kw)
    b = PaperBroker(store, name)
    b.mark({}, "2024-01-02")  # the clock: after the close of 02/01 -> orders work on 03/01
    return b


def _req(b, side="buy", qty=100, **kw):
    return OrderRequest(b.name, kw.pop("ticker", "PETR4"), side, qty, **kw)


# -- fills, one per order type ----------------------------------------------------------
def test_market_buy_fills_at_open_plus_slippage_with_b3_fees(paper_store):
    b = _acct(paper_store)
    o = b.submit(_req(b))
    assert o.status == "aceita" and o.session == pd.Timestamp("2024-01-03")
    (f,) = b.on_bar("PETR4", bar(10.0, 10.5, 9.5, 10.2), "2024-01-03")
    assert f.price == pytest.approx(10.0 * (1 + SLIP))
    assert f.fees == pytest.approx(100 * 10.005 * SW)
    p = b.positions()[0]
    assert p.qty == 100 and p.avg_price == pytest.approx(10.005 * (1 + SW))
    assert p.last == 10.2 and p.unrealized_pnl == pytest.approx(100 * (10.2 - 10.005 * 1.0003))
    assert b.order(o.id).status == "executada"
    assert [e.status for e in b.order_events(o.id)] == ["nova", "aceita", "executada"]


def test_market_order_does_not_fill_on_the_bar_it_was_sent_at(paper_store):
    b = _acct(paper_store)
    b.on_bar("PETR4", bar(10.0), "2024-01-03")
    b.submit(_req(b))  # sent after the 03/01 bar: works from 04/01
    assert b.on_bar("PETR4", bar(10.0), "2024-01-03") == []
    assert len(b.on_bar("PETR4", bar(11.0), "2024-01-04")) == 1


def test_limit_buy_fills_at_limit_never_worse_and_gap_at_open(paper_store):
    b = _acct(paper_store)
    o1 = b.submit(_req(b, type="limit", price=9.8))
    o2 = b.submit(_req(b, type="limit", price=9.4, tif="gtc"))
    fills = b.on_bar("PETR4", bar(10.0, 10.5, 9.5, 10.0), "2024-01-03")
    assert [(f.order_id, f.price) for f in fills] == [(o1.id, 9.8)]  # slippage capped
    (f,) = b.on_bar("PETR4", bar(9.3, 9.6, 9.2, 9.5), "2024-01-04")  # gap below the limit
    assert f.order_id == o2.id and f.price == pytest.approx(9.3 * (1 + SLIP))


def test_limit_sell_fills_at_limit(paper_store):
    b = _acct(paper_store)
    b.submit(_req(b, qty=200))
    b.on_bar("PETR4", bar(10.0), "2024-01-03")
    b.submit(_req(b, "sell", 200, type="limit", price=10.5))
    assert b.on_bar("PETR4", bar(10.0, 10.4, 9.9), "2024-01-04") == []
    (f,) = b.on_bar("PETR4", bar(10.2, 10.6, 10.1), "2024-01-04 12:00")
    assert f.price == 10.5 and b.positions() == []


def test_stop_buy_triggers_at_level_or_gaps_at_open(paper_store):
    b = _acct(paper_store)
    o1 = b.submit(_req(b, type="stop", stop_price=10.4))
    o2 = b.submit(_req(b, type="stop", stop_price=10.5, tif="gtc"))
    (f,) = b.on_bar("PETR4", bar(10.0, 10.45, 9.9), "2024-01-03")
    assert f.order_id == o1.id and f.price == pytest.approx(10.4 * (1 + SLIP))
    (f,) = b.on_bar("PETR4", bar(10.8, 11.0, 10.7), "2024-01-04")
    assert f.order_id == o2.id and f.price == pytest.approx(10.8 * (1 + SLIP))


def test_stop_limit_fills_on_trigger_or_rests_as_limit(paper_store):
    b = _acct(paper_store)
    o1 = b.submit(_req(b, type="stop_limit", stop_price=10.4, price=10.45))
    (f,) = b.on_bar("PETR4", bar(10.0, 10.5, 9.9), "2024-01-03")
    assert f.order_id == o1.id and f.price == pytest.approx(10.4 * (1 + SLIP))
    o2 = b.submit(_req(b, type="stop_limit", stop_price=10.4, price=10.45, tif="gtc"))
    assert b.on_bar("PETR4", bar(10.6, 10.9, 10.55), "2024-01-04") == []  # gap beyond limit
    assert b.order(o2.id).triggered and b.order(o2.id).status == "aceita"
    (f,) = b.on_bar("PETR4", bar(10.6, 10.7, 10.3), "2024-01-05")
    assert f.price == 10.45  # rests as a limit: at the limit, slippage capped


def test_bracket_stop_first_when_both_touched_and_oco(paper_store):
    b = _acct(paper_store)
    o = b.submit(_req(b, stop_loss=9.5, target=11.0))
    kids = [x for x in b.orders() if x.parent_id == o.id]
    assert {k.role: k.status for k in kids} == {"stop": "nova", "target": "nova"}
    (f,) = b.on_bar("PETR4", bar(10.0, 10.2, 9.9), "2024-01-03")
    assert {k.role: b.order(k.id).status for k in kids} == {"stop": "aceita", "target": "aceita"}
    fills = b.on_bar("PETR4", bar(10.1, 11.2, 9.4), "2024-01-04")
    (x,) = fills
    stop = next(k for k in kids if k.role == "stop")
    target = next(k for k in kids if k.role == "target")
    assert x.order_id == stop.id and x.price == pytest.approx(9.5 * (1 - SLIP))
    assert b.order(target.id).status == "cancelada"
    assert b.positions() == []
    tr = b.trades()
    assert len(tr) == 1 and tr["pnl"].iloc[0] == pytest.approx(
        100 * (9.49525 - 10.005) - 100 * 10.005 * SW - 100 * 9.49525 * SW
    )


def test_bracket_target_fills_with_engine_slippage(paper_store):
    b = _acct(paper_store)
    o = b.submit(_req(b, stop_loss=9.5, target=11.0))
    b.on_bar("PETR4", bar(10.0, 10.2, 9.9), "2024-01-03")
    (x,) = b.on_bar("PETR4", bar(10.1, 11.2, 10.0), "2024-01-04")
    assert x.price == pytest.approx(11.0 * (1 - SLIP))
    stop = next(k for k in b.orders() if k.parent_id == o.id and k.role == "stop")
    assert stop.status == "cancelada"


def test_bracket_stopped_on_the_entry_bar_is_a_day_trade(paper_store):
    b = _acct(paper_store)
    b.submit(_req(b, stop_loss=9.5, target=11.0))
    fills = b.on_bar("PETR4", bar(10.0, 10.1, 9.4), "2024-01-03")
    assert [f.side for f in fills] == ["buy", "sell"]
    assert fills[1].price == pytest.approx(9.5 * (1 - SLIP))
    tr = b.trades().iloc[0]
    assert tr["day_trade"] and tr["day_trade_qty"] == 100
    # both orders pay the day-trade rate: the entry's swing overcharge is refunded
    expected = 100 * (9.49525 - 10.005) - 100 * 10.005 * DT - 100 * 9.49525 * DT
    assert tr["pnl"] == pytest.approx(expected)
    led = b.ledger()
    assert any(r.kind == "fee" and r.amount > 0 for r in led)  # the refund row
    assert b.account().cash == pytest.approx(100_000 + expected)


def test_entry_cancel_cancels_pending_children(paper_store):
    b = _acct(paper_store)
    o = b.submit(_req(b, type="limit", price=9.0, stop_loss=8.5, target=11.0))
    b.cancel(o.id)
    assert {x.status for x in b.orders()} == {"cancelada"}


# -- lots, ticks, sessions --------------------------------------------------------------
def test_150_shares_split_into_round_lot_and_fractional_book(paper_store):
    b = _acct(paper_store)
    b.submit(_req(b, qty=150))
    fills = b.on_bar("PETR4", bar(10.0), "2024-01-03")
    assert [(f.market_ticker, f.qty) for f in fills] == [("PETR4", 100), ("PETR4F", 50)]
    assert sum(f.fees for f in fills) == pytest.approx(150 * 10.005 * SW)
    assert b.positions()[0].qty == 150
    assert split_order(150, 100) == (100, 50)


def test_fractional_ticker_and_round_lot_only_account(paper_store):
    b = _acct(paper_store)
    o = b.submit(_req(b, qty=50, ticker="PETR4F"))
    assert o.ticker == "PETR4"
    (f,) = b.on_bar("PETR4", bar(10.0), "2024-01-03")
    assert f.market_ticker == "PETR4F"
    with pytest.raises(InputError, match="fracionário"):
        b.submit(_req(b, qty=150, ticker="PETR4F"))
    from core.backtest.engine import EngineConfig
    from core.backtest.sizing import Sizing

    create_account(
        paper_store, "lots", 100_000, engine=EngineConfig(sizing=Sizing(fractional=False))
    )
    lb = PaperBroker(paper_store, "lots")
    with pytest.raises(InputError, match="múltiplo do lote"):
        lb.submit(OrderRequest("lots", "PETR4", "buy", 150))


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"qty": 0}, "positiva"),
        ({"qty": -100}, "positiva"),
        ({"qty": 10.5}, "inteira"),
        ({"type": "limit", "price": -1.0}, "positivo"),
        ({"type": "limit", "price": 10.005}, "tick"),
        ({"type": "limit"}, "preço limite"),
        ({"type": "stop"}, "disparo"),
        ({"side": "hold"}, "Lado"),
        ({"tif": "2024-01-06"}, "não é dia de pregão"),
        ({"tif": "amanhã"}, "Validade"),
        ({"stop_loss": 11.0, "target": 10.5}, "Bracket"),
        ({"type": "limit", "price": 10.0, "stop_loss": 10.5}, "Stop-loss"),
        ({"ticker": "^BVSP"}, "índice"),
    ],
)
def test_bad_input_writes_nothing(paper_store, kw, match):
    b = _acct(paper_store)
    kw = dict(kw)
    side = kw.pop("side", "buy")
    qty = kw.pop("qty", 100)
    with pytest.raises(InputError, match=match):
        b.submit(_req(b, side, qty, **kw))
    assert b.orders() == [] and len(b.ledger()) == 1


def test_unknown_ticker_suggests(paper_store):
    b = _acct(paper_store)
    with pytest.raises(UnknownTickerError):
        b.submit(_req(b, ticker="PETR9"))
    assert b.orders() == []


def test_order_session_waits_for_next_opening():
    assert order_session("2024-03-28 11:00") == pd.Timestamp("2024-03-28")
    assert order_session("2024-03-28 19:00") == pd.Timestamp("2024-04-01")  # Good Friday
    assert order_session("2024-03-30 10:00") == pd.Timestamp("2024-04-01")  # Saturday
    assert order_session("2024-01-02") == pd.Timestamp("2024-01-03")  # a daily bar's close
    assert settle_date("2024-03-27 11:00") == pd.Timestamp("2024-04-01")  # D+2 over Friday


def test_day_order_expires_gtd_lives_until_its_date(paper_store):
    b = _acct(paper_store)
    day = b.submit(_req(b, type="limit", price=9.0))
    gtd = b.submit(_req(b, type="limit", price=9.0, tif="2024-01-04"))
    b.on_bar("PETR4", bar(10.0), "2024-01-03")
    b.on_bar("PETR4", bar(10.0), "2024-01-04")
    assert b.order(day.id).status == "expirada" and b.order(gtd.id).status == "aceita"
    b.on_bar("PETR4", bar(10.0), "2024-01-05")
    assert b.order(gtd.id).status == "expirada"
    assert [e.status for e in b.order_events(day.id)][-1] == "expirada"


def test_participation_cap_gives_partial_fills(paper_store):
    b = _acct(paper_store, participation=0.1)
    o = b.submit(_req(b, qty=250, tif="gtc"))
    assert b.on_bar("PETR4", bar(10.0, v=1000), "2024-01-03")[0].qty == 100
    assert b.order(o.id).status == "parcial" and b.order(o.id).filled_qty == 100
    b.on_bar("PETR4", bar(10.0, v=1000), "2024-01-04")
    (f,) = b.on_bar("PETR4", bar(10.0, v=1000), "2024-01-05")
    assert f.qty == 50 and b.order(o.id).status == "executada"
    assert [e.status for e in b.order_events(o.id)][-1] == "executada"


# -- cash, ledger, settlement -----------------------------------------------------------
def test_ledger_rows_and_d2_settlement(paper_store):
    b = _acct(paper_store)
    b.submit(_req(b))
    b.on_bar("PETR4", bar(10.0), "2024-01-03")
    kinds = [r.kind for r in b.ledger()]
    assert kinds == ["deposit", "buy", "fee"]
    buy = b.ledger()[1]
    assert buy.amount == pytest.approx(-1000.5) and buy.settle_date == pd.Timestamp("2024-01-05")
    snap = b.account()
    assert snap.cash_available == pytest.approx(100_000)  # not settled yet on 03/01
    assert snap.cash_projected == pytest.approx(100_000 - 1000.5 - 1000.5 * SW)
    b.mark({"PETR4": 10.0}, "2024-01-05")
    assert b.account().cash_available == pytest.approx(snap.cash_projected)
    bal = 0.0
    for r in b.ledger():
        bal += r.amount
        assert r.balance == pytest.approx(bal)


def test_sell_without_position_is_refused_without_short_selling(paper_store):
    b = _acct(paper_store)
    with pytest.raises(RiskRejected) as e:
        b.submit(_req(b, "sell"))
    assert e.value.rule == "venda_descoberto"


def test_insufficient_cash_is_rejected_and_recorded(paper_store):
    b = _acct(paper_store, cash=5_000)
    with pytest.raises(RiskRejected) as e:
        b.submit(_req(b, qty=1000))
    assert e.value.rule == "saldo" and "R$" in e.value.message
    (o,) = b.orders()
    assert o.status == "rejeitada" and o.reason == e.value.message
    assert b.fills() == [] and len(b.ledger()) == 1 and b.positions() == []


# -- idempotency, cancel, replace -------------------------------------------------------
def test_client_id_resubmission_returns_first_order_and_writes_nothing(paper_store):
    b = _acct(paper_store)
    o1 = b.submit(_req(b, client_id="abc"))
    n_events = len(b.order_events(o1.id))
    o2 = b.submit(_req(b, qty=500, client_id="abc"))
    assert o2.id == o1.id and o2.qty == 100
    assert len(b.orders()) == 1 and len(b.order_events(o1.id)) == n_events


def test_cancel_filled_order_is_refused(paper_store):
    b = _acct(paper_store)
    o = b.submit(_req(b))
    b.on_bar("PETR4", bar(10.0), "2024-01-03")
    with pytest.raises(InputError, match="executada"):
        b.cancel(o.id)


def test_replace_changes_price_and_history(paper_store):
    b = _acct(paper_store)
    o = b.submit(_req(b, type="limit", price=9.0))
    o2 = b.replace(o.id, price=9.5, qty=200)
    assert (o2.id, o2.price, o2.qty) == (o.id, 9.5, 200)
    assert "alterada" in b.order_events(o.id)[-1].message
    with pytest.raises(InputError):
        b.replace(o.id, stop_price=9.0)


# -- concurrency ------------------------------------------------------------------------
def test_concurrent_orders_cannot_overdraw_cash(paper_store):
    b = _acct(paper_store, cash=100_000)
    results: list = []
    barrier = threading.Barrier(6)

    def send(i):
        bb = PaperBroker(paper_store, "a")
        barrier.wait()
        try:
            results.append(
                bb.submit(OrderRequest("a", "PETR4", "buy", 3000, type="limit", price=10.0))
            )
        except RiskRejected as e:
            results.append(e)

    th = [threading.Thread(target=send, args=(i,)) for i in range(6)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    ok = [r for r in results if not isinstance(r, Exception)]
    assert len(results) == 6 and len(ok) == 3  # 3 × R$ 30.024 fit in R$ 100.000, 4 do not
    assert all(r.rule == "saldo" for r in results if isinstance(r, Exception))
    fills = b.on_bar("PETR4", bar(10.0), "2024-01-03")
    assert sum(f.qty for f in fills) == 9000 and b.account().cash > 0


def test_order_sent_on_a_saturday_waits_for_monday(paper_store):
    clock = {"t": pd.Timestamp("2024-01-06 11:00")}  # Saturday
    create_account(paper_store, "sat", 100_000)
    b = PaperBroker(paper_store, "sat", clock=lambda: clock["t"])
    o = b.submit(OrderRequest("sat", "PETR4", "buy", 100))
    assert o.session == pd.Timestamp("2024-01-08") and o.status == "aceita"
    clock["t"] = pd.Timestamp("2024-01-08 10:05")
    (f,) = b.on_bar("PETR4", bar(10.0), "2024-01-08 10:05")
    assert f.order_id == o.id and b.order(o.id).status == "executada"


def test_on_bars_works_several_tickers_in_one_call(paper_store):
    b = _acct(paper_store)
    b.submit(_req(b))
    b.submit(_req(b, ticker="VALE3"))
    fills = b.on_bars({"PETR4": bar(10.0), "VALE3": bar(20.0)}, "2024-01-03")
    assert b.clock == pd.Timestamp("2024-01-03")
    assert [f.ticker for f in fills] == ["PETR4", "VALE3"]
    assert [f.price for f in fills] == pytest.approx([10.005, 20.01])
    assert {p.ticker: p.last for p in b.positions()} == {"PETR4": 10.0, "VALE3": 20.0}


def test_bracket_legs_cancelled_when_the_position_is_closed_by_hand(paper_store):
    b = _acct(paper_store)
    o = b.submit(_req(b, stop_loss=9.0, target=12.0))
    b.on_bar("PETR4", bar(10.0), "2024-01-03")
    b.submit(_req(b, "sell", 100))
    b.on_bar("PETR4", bar(10.0, 12.5, 8.5), "2024-01-04")  # the sale fills at the open first
    assert b.positions() == []
    legs = [x for x in b.orders() if x.parent_id == o.id]
    assert {x.status for x in legs} == {"cancelada"}
    assert len([f for f in b.fills() if f.side == "sell"]) == 1  # never sold twice


def test_in_memory_store_keeps_every_write():
    from core.data.store import init_db

    store = init_db("sqlite://")
    th.seed(store)
    create_account(store, "m", 100_000)
    b = PaperBroker(store, "m")
    o = b.submit(OrderRequest("m", "PETR4", "buy", 150))
    assert len(b.fill_at_last(o.id)) == 2
    assert [r.kind for r in b.ledger()] == ["deposit", "buy", "fee"] and b.positions()[0].qty == 150
    store.dispose()


def test_preview_decides_like_submit_and_writes_nothing(paper_store):
    b = _acct(paper_store, cash=5_000)
    p = b.preview(_req(b, qty=150))
    assert p.ok and (p.round_lot_qty, p.fractional_qty) == (100, 50)
    assert p.est_price == pytest.approx(10.005) and p.est_fees == pytest.approx(150 * 10.005 * SW)
    p = b.preview(_req(b, qty=1000))
    assert not p.ok and p.rule == "saldo" and "R$" in p.message
    assert b.orders() == [] and len(b.ledger()) == 1


def test_equity_curve_one_row_per_session(paper_store):
    b = _acct(paper_store)
    b.submit(_req(b))
    b.on_bar("PETR4", bar(10.0, c=10.5), "2024-01-03")
    b.on_bar("PETR4", bar(10.5, c=11.0), "2024-01-04")
    curve = b.equity_curve()
    assert list(curve.index) == [
        pd.Timestamp("2024-01-02"),
        pd.Timestamp("2024-01-03"),
        pd.Timestamp("2024-01-04"),
    ]
    assert curve["equity"].iloc[-1] == pytest.approx(b.account().equity)
    assert curve["equity"].iloc[-1] - curve["equity"].iloc[-2] == pytest.approx(50.0)


def test_bar_state_is_the_committed_account_and_any_other_operation_drops_it(paper_store):
    """What on_bars leaves in ``bar_state`` (a runner reads it instead of a new snapshot)
    is what a fresh read gives: fills and marks written in the bar are not hidden by the
    positions and cash the operation read before writing them."""
    b = _acct(paper_store)
    b.submit(_req(b))
    b.on_bars({"PETR4": bar(10.0, 10.5, 9.9, 10.4), "VALE3": bar(20.0)}, "2024-01-03")
    b.submit(_req(b, qty=200, ticker="VALE3"))
    b.submit(_req(b, "sell", 100))
    fresh = PaperBroker(paper_store, "a")
    for day, px in (("2024-01-04", 10.8), ("2024-01-05", 9.7)):
        b.on_bars(
            {"PETR4": bar(px, px + 0.4, px - 0.1, px + 0.3), "VALE3": bar(21.0, 21.6, 20.9, 21.5)},
            day,
        )
        t, eq, cash, qty = b.bar_state
        snap = fresh.account()
        assert t == pd.Timestamp(day)
        assert (eq, cash) == pytest.approx((snap.equity, snap.cash))
        assert qty == {p.ticker: p.qty for p in fresh.positions()}
    assert qty == {"VALE3": 200}
    b.submit(_req(b, qty=100))
    assert b.bar_state is None  # another operation: the runner reads a snapshot instead


def test_on_bars_after_clock_never_works_a_bar_twice(paper_store):
    """A runner resuming after a crash hands the last bar again: with ``after_clock`` the
    broker judges the clock in the bar's own transaction and writes nothing for a bar at or
    before it; a later bar is worked as usual."""
    b = _acct(paper_store)
    b.submit(_req(b, type="stop", stop_price=10.2))
    first = b.on_bars({"PETR4": bar(10.0, 10.5, 9.9, 10.4)}, "2024-01-03", after_clock=True)
    assert [f.qty for f in first] == [100] and b.bar_state is not None
    b.submit(_req(b, "sell", 100, type="limit", price=10.45))
    before = (b.fills(), b.orders(), b.account(), b.clock)
    again = b.on_bars({"PETR4": bar(10.0, 10.9, 9.9, 10.4)}, "2024-01-03", after_clock=True)
    assert again == [] and b.bar_state is None
    assert (b.fills(), b.orders(), b.account(), b.clock) == before
    later = b.on_bars({"PETR4": bar(10.3, 10.9, 10.2, 10.6)}, "2024-01-04", after_clock=True)
    assert [(f.side, f.price) for f in later] == [("sell", 10.45)]
    assert b.bar_state is not None and b.clock == pd.Timestamp("2024-01-04")


def test_rotation_sell_then_buy_uses_the_proceeds_at_the_next_open(paper_store):
    # all the cash in PETR4; a market sale of it and a buy of VALE3 sent together: the engine
    # exits at the open before entering, so the paper broker must accept and fill both
    b = _acct(paper_store, cash=10_100)
    b.submit(_req(b, qty=1000))
    b.on_bar("PETR4", bar(10.0), "2024-01-03")
    b.submit(_req(b, "sell", 1000))
    b.submit(_req(b, qty=900, ticker="VALE3"))
    fills = b.on_bars({"VALE3": bar(10.0), "PETR4": bar(10.0)}, "2024-01-04")
    assert [(f.ticker, f.side) for f in fills] == [("PETR4", "sell"), ("VALE3", "buy")]
    assert b.account().cash > 0 and [p.ticker for p in b.positions()] == ["VALE3"]


def test_a_bar_on_a_holiday_is_refused(paper_store):
    b = _acct(paper_store)
    with pytest.raises(InputError, match="não é pregão"):
        b.on_bar("PETR4", bar(10.0), "2024-01-06")  # Saturday
    with pytest.raises(InputError, match="não é pregão"):
        b.on_bar("PETR4", bar(10.0), "2024-02-13")  # Carnival Tuesday


def test_refresh_marks_uses_the_last_stored_close_without_moving_the_clock(paper_store):
    create_account(paper_store, "h", 100_000)
    b = PaperBroker(paper_store, "h")
    o = b.submit(OrderRequest("h", "PETR4", "buy", 100))
    b.fill_at_last(o.id)
    paper_store.write_bars(
        "PETR4",
        th._bars(12.0).iloc[-1:].set_axis(pd.DatetimeIndex(["2024-01-11"], name="date")),
        "csv",
    )
    snap = b.refresh_marks()
    assert b.positions()[0].last == 12.0 and snap.unrealized_pnl > 0
    assert b.clock is None and b.order(o.id).status == "executada"


def test_paper_broker_implements_the_protocol_and_owner_filter(paper_store):
    from core.trading import Broker, list_accounts
    from core.trading.accounts import get_account

    create_account(paper_store, "mine", 1000, owner="ana")
    create_account(paper_store, "team", 1000)
    assert isinstance(PaperBroker(paper_store, "mine"), Broker)
    create_account(paper_store, "bob's", 1000, owner="bob")
    # core.ownership: a user reads their own and the team's accounts, never another user's
    assert [a.name for a in list_accounts(paper_store, owner="ana")] == ["mine", "team"]
    with pytest.raises(InputError, match="não encontrada"):
        get_account(paper_store, "bob's", owner="ana")
    # ... and trades only in their own
    with pytest.raises(InputError, match="não encontrada"):
        PaperBroker(paper_store, "team", owner="ana")
    assert PaperBroker(paper_store, "mine", owner="ana").account().name == "mine"


def test_a_failure_mid_fill_rolls_the_whole_bar_back(paper_store, monkeypatch):
    import core.trading.execution as ex

    b = _acct(paper_store)
    o = b.submit(_req(b))
    before = (len(b.ledger()), len(b.fills()), b.positions(), b.clock)

    def boom(*a, **k):
        raise RuntimeError("crash in the middle of the bar")

    monkeypatch.setattr(ex, "write_event", boom)
    with pytest.raises(RuntimeError):
        b.on_bar("PETR4", bar(10.0), "2024-01-03")
    assert (len(b.ledger()), len(b.fills()), b.positions(), b.clock) == before
    assert b.order(o.id).status == "aceita"
    monkeypatch.undo()
    assert len(b.on_bar("PETR4", bar(10.0), "2024-01-03")) == 1  # the bar again: no duplicate
    assert len(b.fills()) == 1 and b.order(o.id).status == "executada"


def test_account_trades_reads_each_orders_role_note_and_source(paper_store):
    """account_trades' light read of the orders (issue 12, red flags per month) gives the
    exit reasons the full Order records give: a target, a stop and a manual exit."""
    from core.trading.monitor import _order_kinds, account_trades

    b = _acct(paper_store)
    b.submit(_req(b, stop_loss=9.5, target=11.0))
    b.submit(_req(b, ticker="VALE3", stop_loss=19.0, target=22.0))
    b.on_bars({"PETR4": bar(10.0), "VALE3": bar(20.0)}, "2024-01-03")
    b.on_bars(
        {"PETR4": bar(10.2, 11.2, 10.1, 11.1), "VALE3": bar(20.0, 20.2, 18.5, 18.8)}, "2024-01-04"
    )
    b.submit(_req(b, qty=200, ticker="VALE3"))
    b.on_bars({"VALE3": bar(19.0)}, "2024-01-05")
    b.submit(_req(b, "sell", 200, ticker="VALE3", note="à mão"))
    b.on_bars({"VALE3": bar(19.5)}, "2024-01-08")
    kinds = _order_kinds(b)
    full = {o.id: (o.role, o.note, o.source) for o in b.orders()}
    assert {k: (v.role, v.note, v.source) for k, v in kinds.items()} == full
    tr = account_trades(paper_store, "a")
    assert sorted(zip(tr["ticker"], tr["exit_reason"], strict=True)) == [
        ("PETR4", "alvo"),
        ("VALE3", "manual"),
        ("VALE3", "stop"),
    ]
