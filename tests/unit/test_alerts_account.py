"""Account rules on real paper accounts (core.trading): events inserted in paper_events, a
drawdown above the seed-002 threshold (5 %) fired once per rise, and the 17:30 summary."""

from __future__ import annotations

import pandas as pd
import pytest

from core.alerts import engine as E
from core.alerts.rules import Rule, add_rule
from core.trading import OrderRequest, PaperBroker, create_account
from core.trading.events import write_event
from tests import trading_helpers as th
from tests.trading_helpers import bar

paper_template, paper_store = th.paper_template, th.paper_store  # fixtures


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr("core.alerts.dispatch.dispatch", lambda store, f: calls.append(f))
    return calls


def _account(store, name="wave3", cash=100_000.0):
    acc = create_account(store, name, cash)
    b = PaperBroker(store, name)
    b.mark({}, "2024-01-02")
    return acc, b


def _insert(store, account_id, kind, ticker=None, time="2024-01-03", **values):
    with store.transaction() as conn:
        return write_event(
            conn, account_id, pd.Timestamp(time), kind, ticker, values, f"{kind} {ticker or ''}"
        )


def test_account_rule_fires_once_per_inserted_event_of_its_kinds(paper_store, sent):
    acc, _ = _account(paper_store)
    old = _insert(paper_store, acc.id, "fill", "PETR4", qty=100)
    rule = add_rule(
        paper_store, Rule("conta", kind="account", params={"events": ["stop", "red_flag"]})
    )
    assert rule.last_event_id == old  # alerts on what happens from now on
    ids = [
        _insert(paper_store, acc.id, "stop", "PETR4", price=9.5),
        _insert(paper_store, acc.id, "rejected", "VALE3"),
        _insert(paper_store, acc.id, "red_flag", None, rule="win_rate"),
    ]
    out = E.evaluate_account_events(paper_store)
    assert [(f.event_key, f.ticker, f.severity) for f in out] == [
        (f"event:{ids[0]}", "PETR4", "warning"),
        (f"event:{ids[2]}", "", "critical"),
    ]
    assert out[0].values["price"] == 9.5 and "Stop executado" in out[0].message
    assert E.evaluate_account_events(paper_store) == []  # cursor advanced
    # a crash before the cursor was saved: the unique key still stores nothing twice
    from sqlalchemy import update

    from core.alerts.models import AlertRule

    with paper_store.transaction() as conn:
        conn.execute(update(AlertRule.__table__).values(last_event_id=old))
    again = E.evaluate_account_events(paper_store)
    assert [f.id for f in again] == [f.id for f in out] and not any(f.new for f in again)
    assert len(sent) == 2


def ev(t, c):
    """A daily BarEvent of PETR4 closing at ``c``."""
    return th_bar_event("PETR4", pd.Timestamp(t), c)


def th_bar_event(ticker, time, c):
    from types import SimpleNamespace

    return SimpleNamespace(ticker=ticker, time=time, open=c, high=c, low=c, close=c, volume=1e7)


def test_drawdown_above_5pct_fires_once_per_rise_through_the_runner_hook(paper_store, sent):
    _, b = _account(paper_store)
    add_rule(paper_store, Rule("Drawdown 5%", kind="account", params={"drawdown_pct": "5"}))
    b.submit(OrderRequest("wave3", "PETR4", "buy", 5000))
    b.on_bar("PETR4", bar(10.0), "2024-01-03")
    assert E.evaluate_bar(paper_store, ev("2024-01-03", 10.0)) == []
    b.mark({"PETR4": 9.2}, "2024-01-04")  # −8 % on half the equity: about −4 %
    assert b.account().drawdown_pct < 0.05
    assert E.evaluate_bar(paper_store, ev("2024-01-04", 9.2)) == []
    b.mark({"PETR4": 8.9}, "2024-01-05")
    snap = b.account()
    assert snap.drawdown_pct >= 0.05
    out = E.evaluate_bar(paper_store, ev("2024-01-05", 8.9))
    assert [(f.kind, f.bar_time, f.severity) for f in out] == [
        ("account", pd.Timestamp("2024-01-05"), "critical")
    ]
    assert out[0].values["drawdown_pct"] == pytest.approx(snap.drawdown_pct)
    assert "Drawdown de" in out[0].message and "5,0%" in out[0].message
    b.mark({"PETR4": 8.8}, "2024-01-08")
    assert E.evaluate_bar(paper_store, ev("2024-01-08", 8.8)) == []  # still above: no repeat
    b.mark({"PETR4": 10.5}, "2024-01-09")  # recovered: re-armed
    assert E.evaluate_bar(paper_store, ev("2024-01-09", 10.5)) == []
    b.mark({"PETR4": 8.0}, "2024-01-10")
    assert len(E.evaluate_bar(paper_store, ev("2024-01-10", 8.0))) == 1
    assert len(sent) == 2


def test_daily_summary_once_per_session_with_pnl_and_win_rate(paper_store, sent):
    _, b = _account(paper_store)
    add_rule(paper_store, Rule("Resumo", kind="daily_summary", channels=["telegram"]))
    b.submit(OrderRequest("wave3", "PETR4", "buy", 1000))
    b.on_bar("PETR4", bar(10.0), "2024-01-03")
    b.submit(OrderRequest("wave3", "PETR4", "sell", 1000))
    b.on_bar("PETR4", bar(11.0), "2024-01-04")
    snap = b.account()
    out = E.run_daily_summary(paper_store, pd.Timestamp("2024-01-04 17:30"))
    assert len(out) == 1
    v = out[0].values
    assert (v["fills"], v["closed_trades"], v["wins"], v["win_rate"]) == (1, 1, 1, 1.0)
    assert v["day_pnl"] == pytest.approx(snap.day_pnl) and v["day_pnl"] > 900
    assert out[0].bar_time == pd.Timestamp("2024-01-04") and out[0].channels == ["telegram"]
    assert "Resumo diário [wave3] 04/01/2024" in out[0].message and "100%" in out[0].message
    assert [f.new for f in E.run_daily_summary(paper_store, pd.Timestamp("2024-01-04 17:31"))] == [
        False
    ]
    assert E.run_daily_summary(paper_store, pd.Timestamp("2024-01-06 17:30")) == []  # Saturday
    assert len(sent) == 1


def test_trade_win_above_3pct_fires_once_per_closed_trade(paper_store, sent):
    _, b = _account(paper_store)
    add_rule(paper_store, Rule("Trade WIN", kind="account", params={"win_pct": "3%"}))
    b.submit(OrderRequest("wave3", "PETR4", "buy", 1000))
    b.on_bar("PETR4", bar(10.0), "2024-01-03")
    b.submit(OrderRequest("wave3", "PETR4", "sell", 500))
    b.on_bar("PETR4", bar(10.1), "2024-01-04")  # +1 %: below the threshold
    assert E.evaluate_account_events(paper_store) == []
    b.submit(OrderRequest("wave3", "PETR4", "sell", 500))
    b.on_bar("PETR4", bar(11.0), "2024-01-05")  # +10 %
    out = E.evaluate_account_events(paper_store)
    tr = b.trades()
    assert len(tr) == 2
    assert [(f.ticker, f.bar_time, f.event_key) for f in out] == [
        ("PETR4", pd.Timestamp("2024-01-05"), f"trade:{int(tr['id'].iloc[-1])}")
    ]
    assert out[0].values["return"] == pytest.approx(tr["return_pct"].iloc[-1] / 100)
    assert "Trade vencedor" in out[0].message and "+9," in out[0].message
    assert E.evaluate_account_events(paper_store) == [] and len(sent) == 1


def test_session_summary_hook_sends_each_replayed_session_once_all_tickers_reported(
    paper_store, sent
):
    _, b = _account(paper_store)
    _, other = _account(paper_store, "outra")
    add_rule(paper_store, Rule("Resumo", kind="daily_summary"))
    hook = E.session_summary_hook("wave3", ["PETR4", "VALE3"])
    b.submit(OrderRequest("wave3", "PETR4", "buy", 1000))
    b.on_bar("PETR4", bar(10.0), "2024-01-03")
    assert hook(paper_store, th_bar_event("PETR4", pd.Timestamp("2024-01-03"), 10.0)) == []
    b.on_bar("VALE3", bar(10.0), "2024-01-03")
    out = hook(paper_store, th_bar_event("VALE3", pd.Timestamp("2024-01-03"), 10.0))
    assert [(f.bar_time, f.values["account"], f.values["fills"]) for f in out] == [
        (pd.Timestamp("2024-01-03"), "wave3", 1)
    ]  # only the runner's account, once both tickers reported
    # 04/01: VALE3 has no bar; the session is summarised when 05/01 starts
    b.on_bar("PETR4", bar(11.0), "2024-01-04")
    assert hook(paper_store, th_bar_event("PETR4", pd.Timestamp("2024-01-04"), 11.0)) == []
    late = hook(paper_store, th_bar_event("PETR4", pd.Timestamp("2024-01-05"), 11.0))
    assert [f.bar_time for f in late] == [pd.Timestamp("2024-01-04")]
    assert late[0].values["day_pnl"] > 900  # +R$ 1 on 1.000 shares
    assert len(sent) == 2 and other.name == "outra"
