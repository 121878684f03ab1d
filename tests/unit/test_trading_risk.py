"""Risk manager: each rule alone, the kill switch (manual and drawdown), events; proventos,
splits, borrow and the monthly DARF in the paper account's ledger."""

from __future__ import annotations

import pandas as pd
import pytest

from core.errors import InputError
from core.trading import OrderRequest, PaperBroker, RiskRejected, RiskRules, create_account
from core.trading.broker import AccountSnapshot
from core.trading.events import list_events
from core.trading.risk import check, kill_switch, unblock
from tests import trading_helpers as th
from tests.trading_helpers import bar

paper_template, paper_store = th.paper_template, th.paper_store  # fixtures


def _acct(store, rules: RiskRules | None = None, cash=100_000.0, name="r", **kw):
    create_account(store, name, cash, risk=rules or RiskRules(max_drawdown_pct=None), **kw)
    b = PaperBroker(store, name)
    b.mark({}, "2024-01-02")
    return b


def _buy(b, t="PETR4", q=100, **kw):
    return b.submit(OrderRequest(b.name, t, "buy", q, **kw))


def _rejected(b, rule, **kw):
    with pytest.raises(RiskRejected) as e:
        _buy(b, **kw)
    assert e.value.rule == rule, e.value.message
    assert "regra" in e.value.message
    return e.value


def test_from_text_parses_and_names_bad_keys():
    r = RiskRules.from_text(
        "max_position_pct=20%,max_open_positions=5,require_stop=sim,window=10:15-16:45"
    )
    assert (r.max_position_pct, r.max_open_positions, r.require_stop, r.window) == (
        0.2,
        5,
        True,
        "10:15-16:45",
    )
    assert r.max_drawdown_pct == 0.15  # seed 002 default kept
    assert RiskRules.from_text("max_drawdown_pct=off").max_drawdown_pct is None
    for bad, word in [
        ("foo=1", "desconhecida"),
        ("max_open_positions=1.5", "max_open_positions"),
        ("window=17:00-10:00", "Janela"),
        ("max_position_pct", "sem valor"),
    ]:
        with pytest.raises(InputError, match=word):
            RiskRules.from_text(bad)


def test_max_position_pct_alone(paper_store):
    b = _acct(paper_store, RiskRules(max_position_pct=0.1, max_drawdown_pct=None))
    _buy(b, q=900)  # R$ 9.000 <= 10 % of R$ 100.000
    e = _rejected(b, "max_position_pct", q=1100)
    assert "R$ 11.000,00" in e.message and "10,00%" in e.message


def test_max_gross_exposure_alone(paper_store):
    b = _acct(paper_store, RiskRules(max_gross_exposure_pct=0.15, max_drawdown_pct=None))
    _buy(b, q=1000)
    b.on_bar("PETR4", bar(10.0), "2024-01-03")
    _rejected(b, "max_gross_exposure_pct", t="VALE3", q=600)
    _buy(b, t="VALE3", q=400)


def test_max_open_positions_alone_counts_pending_entries(paper_store):
    b = _acct(paper_store, RiskRules(max_open_positions=1, max_drawdown_pct=None))
    _buy(b)
    _rejected(b, "max_open_positions", t="VALE3")
    _buy(b)  # adding to the same ticker is fine


def test_daily_loss_limit_alone_blocks_entries_for_the_day(paper_store):
    b = _acct(paper_store, RiskRules(daily_loss_limit_pct=0.02, max_drawdown_pct=None))
    _buy(b, q=5000, type="limit", price=10.0)
    b.on_bar("PETR4", bar(10.0, c=10.0), "2024-01-03")
    b.on_bar("PETR4", bar(10.0, c=9.5), "2024-01-04 11:00")  # −R$ 2.500 ≈ 2,5 % today
    ev = list_events(paper_store, "r", kinds=["daily_loss_limit"])
    assert len(ev) == 1 and ev[0].values["loss_pct"] >= 0.02
    _rejected(b, "daily_loss_limit_pct", t="VALE3")
    b.submit(OrderRequest("r", "PETR4", "sell", 1000))  # exits stay allowed
    b.on_bar("PETR4", bar(9.5), "2024-01-05")  # next session: allowed again
    _buy(b, t="VALE3")


def test_max_drawdown_alone_fires_the_kill_switch(paper_store):
    b = _acct(paper_store, RiskRules(max_drawdown_pct=0.05))
    _buy(b, q=5000, type="limit", price=10.0)
    b.on_bar("PETR4", bar(10.0, c=10.0), "2024-01-03")
    b.on_bar("PETR4", bar(10.0, c=8.9), "2024-01-04")  # −R$ 5.500: drawdown 5,5 %
    snap = b.account()
    assert snap.blocked and "Drawdown" in snap.block_reason
    (ev,) = list_events(paper_store, "r", kinds=["drawdown"])
    assert ev.values["drawdown_pct"] >= 0.05
    flat = [o for o in b.orders("open") if o.source == "kill_switch"]
    assert len(flat) == 1 and flat[0].side == "sell" and flat[0].qty == 5000
    (f,) = b.on_bar("PETR4", bar(9.0), "2024-01-05")  # flattened at the next open
    assert f.qty == 5000 and b.positions() == []
    _rejected(b, "bloqueio", t="VALE3")


def test_check_reports_drawdown_rule_with_numbers():
    snap = AccountSnapshot("x", 0, 0, 0, 80_000, 0, 0, 0, 0, 100_000, 0.2, False, "")
    d = check(snap, [], OrderRequest("x", "PETR4", "buy", 100), rules=RiskRules(), price=10.0)
    assert (
        not d.ok
        and d.rule == "max_drawdown_pct"
        and "20,00%" in d.message
        and "15,00%" in d.message
    )


def test_require_stop_alone(paper_store):
    b = _acct(paper_store, RiskRules(require_stop=True, max_drawdown_pct=None))
    _rejected(b, "require_stop")
    _buy(b, stop_loss=9.0)


def test_max_orders_per_day_alone(paper_store):
    b = _acct(paper_store, RiskRules(max_orders_per_day=2, max_drawdown_pct=None))
    _buy(b)
    _buy(b)
    _rejected(b, "max_orders_per_day")


def test_window_alone(paper_store):
    clock = {"t": pd.Timestamp("2024-01-03 12:00")}
    create_account(
        paper_store, "w", 100_000, risk=RiskRules(window="10:00-11:00", max_drawdown_pct=None)
    )
    b = PaperBroker(paper_store, "w", clock=lambda: clock["t"])
    _rejected(b, "window")
    clock["t"] = pd.Timestamp("2024-01-03 10:30")
    _buy(b)


def test_rejection_is_recorded_with_event_and_nothing_else(paper_store):
    b = _acct(paper_store, RiskRules(require_stop=True, max_drawdown_pct=None))
    e = _rejected(b, "require_stop")
    (o,) = b.orders()
    assert o.id == e.order_id and o.status == "rejeitada"
    assert [x.status for x in b.order_events(o.id)] == ["nova", "rejeitada"]
    (ev,) = list_events(paper_store, "r", kinds=["rejected"])
    assert ev.values["rule"] == "require_stop"
    assert len(b.ledger()) == 1 and b.fills() == []


def test_manual_kill_switch_flattens_at_once_and_blocks(paper_store):
    b = _acct(paper_store)
    _buy(b, q=300)
    b.on_bar("PETR4", bar(10.0, c=10.2), "2024-01-03")
    pending = _buy(b, t="VALE3", type="limit", price=9.0)
    orders = kill_switch(paper_store, "r", "parar tudo")
    assert [o.status for o in orders] == ["executada"] and b.positions() == []
    assert b.order(pending.id).status == "cancelada"
    assert b.fills()[-1].price == pytest.approx(10.2 * (1 - 0.0005))
    assert b.account().blocked
    assert list_events(paper_store, "r", kinds=["kill_switch"])[0].message == "parar tudo"
    _rejected(b, "bloqueio")
    unblock(paper_store, "r")
    _buy(b)


# -- proventos, splits, borrow, taxes ---------------------------------------------------
def _actions(store, rows):
    from core.data.actions import write_actions

    write_actions(store, pd.DataFrame(rows, columns=["ticker", "date", "kind", "value"]), "test")


def test_dividend_jcp_and_split_on_the_ex_date(paper_store):
    _actions(
        paper_store,
        [
            ("PETR4", pd.Timestamp("2024-01-04"), "dividend", 0.50),
            ("PETR4", pd.Timestamp("2024-01-04"), "jcp", 1.00),
            ("PETR4", pd.Timestamp("2024-01-05"), "split", 2.0),
        ],
    )
    b = _acct(paper_store)
    _buy(b, q=100)
    b.on_bar("PETR4", bar(10.0), "2024-01-03")
    avg = b.positions()[0].avg_price
    cash0 = b.account().cash
    b.on_bar("PETR4", bar(10.0), "2024-01-04")
    kinds = [(r.kind, round(r.amount, 2)) for r in b.ledger()[-3:]]
    assert kinds == [("dividend", 50.0), ("jcp", 100.0), ("tax", -15.0)]
    assert b.account().cash == pytest.approx(cash0 + 135.0)
    b.on_bar("PETR4", bar(5.0), "2024-01-05")
    p = b.positions()[0]
    assert p.qty == 200 and p.avg_price == pytest.approx(avg / 2)


def test_borrow_fee_on_shorts(paper_store):
    from core.backtest.engine import EngineConfig

    b = _acct(paper_store, engine=EngineConfig(allow_short=True))
    b.submit(OrderRequest("r", "PETR4", "sell", 1000))
    b.on_bar("PETR4", bar(10.0), "2024-01-03")
    assert b.positions()[0].qty == -1000
    b.on_bar("PETR4", bar(10.0), "2024-01-04")
    (row,) = [r for r in b.ledger() if r.kind == "borrow"]
    assert row.amount == pytest.approx(-10_000 * 0.02 / 252 * 1, rel=0.01)


def test_monthly_darf_is_debited_from_the_engine_tax_report(paper_store):
    from core.backtest.taxes import tax_report

    b = _acct(paper_store, cash=1_000_000)
    _buy(b, q=10_000, type="limit", price=10.0)
    b.on_bar("PETR4", bar(10.0), "2024-01-03")
    b.submit(OrderRequest("r", "PETR4", "sell", 10_000, type="limit", price=12.0))
    b.on_bar("PETR4", bar(12.0), "2024-01-04")  # sales R$ 120.000 > 20.000: taxable
    rep = b.tax_report()
    assert rep["darf"].iloc[0] > 0
    b.on_bar("PETR4", bar(12.0), "2024-02-01")  # the month turns: DARF + IRRF debited
    tax = [r for r in b.ledger() if r.kind == "tax"]
    expected = tax_report(b.trades())
    assert len(tax) == 1 and tax[0].amount == pytest.approx(
        -(expected["darf"].iloc[0] + expected["withheld"].iloc[0])
    )
    b.on_bar("PETR4", bar(12.0), "2024-03-01")
    assert len([r for r in b.ledger() if r.kind == "tax"]) == 1  # never twice


def test_record_event_for_a_runner_red_flag(paper_store):
    from core.trading.events import record_event

    b = _acct(paper_store)
    eid = record_event(
        paper_store, "r", "red_flag", values={"flag": "win_rate"}, message="Taxa de acerto < 60%"
    )
    (ev,) = list_events(paper_store, "r", since_id=eid - 1)
    assert ev.kind == "red_flag" and ev.time == b.clock and ev.values == {"flag": "win_rate"}
    with pytest.raises(ValueError):
        record_event(paper_store, "r", "nope")
    with pytest.raises(InputError):
        record_event(paper_store, "ghost", "red_flag")


def test_runner_orders_follow_a_split_and_a_dividend_of_an_unheld_ticker_changes_nothing(
    paper_store,
):
    """The runner's broker re-levels its open orders on a split of a ticker it does not hold
    (exact quotient), and a session whose only action is a dividend of a ticker not held
    writes nothing (the runner skips the work)."""
    from core.trading.runner import _engine_level_broker

    _actions(
        paper_store,
        [
            ("VALE3", pd.Timestamp("2024-01-04"), "dividend", 0.70),
            ("PETR4", pd.Timestamp("2024-01-05"), "split", 3.0),
        ],
    )
    create_account(paper_store, "run", 100_000.0, risk=RiskRules(max_drawdown_pct=None))
    now = [pd.Timestamp("2024-01-02")]
    b = _engine_level_broker(paper_store, "run", lambda: now[0])
    b.order_tickers = frozenset({"PETR4", "VALE3"})
    b.mark({}, "2024-01-02")
    o = b.submit(
        OrderRequest(
            "run",
            "PETR4",
            "buy",
            300,
            type="stop",
            stop_price=12.1,
            tif="gtc",
            source="strategy:x",
            client_id="r:1",
        )
    )
    ledger = len(b.ledger())
    b.on_bars({"VALE3": bar(20.0)}, "2024-01-04")  # VALE3's dividend: not held
    assert len(b.ledger()) == ledger and b.order(o.id).stop_price == pytest.approx(12.1)
    b.on_bars({"VALE3": bar(20.0)}, "2024-01-05")  # PETR4 splits 1:3, the order follows
    assert b.order(o.id).stop_price == 12.1 / 3.0
