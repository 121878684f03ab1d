"""Strategy runner on two real stocks over a few months (issue 12): replay ≡ backtest,
resume after a stop, a bar processed twice, signal log, ML training data, report."""

from __future__ import annotations

import json
import threading

import pandas as pd
import pytest

from core.backtest.engine import EngineConfig
from core.backtest.runner import run_backtest
from core.backtest.sizing import Sizing
from core.errors import InputError
from core.trading.accounts import create_account
from core.trading.broker import PaperBroker
from core.trading.feeds import ReplayFeed
from core.trading.monitor import collect_ml_data, ml_training_frame, monitor
from core.trading.runner import (
    StrategyRunner,
    check_supported,
    equity_curve,
    runner_status,
    signal_log,
)
from tests.helpers import real_bars
from tests.integration.test_paper_replay import assert_same_trades

TICK = ["PETR4", "VALE3"]
START, END = "2024-03-01", "2024-06-28"
PARAMS = {"fast": 3, "slow": 8}
# percent sizing: the budget never reaches the account's cash (see the all-in test below)
CFG = EngineConfig(reinvest=False, stop_loss=0.03, take_profit=0.06, sizing=Sizing("percent", 45.0))


@pytest.fixture(scope="module")
def store():
    from core.data.store import init_db

    s = init_db("sqlite://")
    for t in [*TICK, "^BVSP"]:
        s.upsert_instrument(t, kind="index" if t.startswith("^") else "stock")
        s.write_bars(t, real_bars(t).loc["2023-01-01":"2024-06-30"], "bundled")
    yield s
    s.dispose()


def _runner(store, account, feed=None, hooks=()):
    return StrategyRunner(
        store, account, "sma_cross", TICK, PARAMS, CFG, feed, hooks, start=START, end=END
    )


def _fills(store, account):
    return [(f.ticker, f.side, f.qty, f.price, f.time) for f in PaperBroker(store, account).fills()]


def test_replay_equals_backtest_and_reports(store):
    create_account(store, "full", CFG.cash)
    st = _runner(store, "full").run()
    assert (st.status, st.bars_done) == ("concluído", st.bars_total)
    bt = run_backtest(store, "sma_cross", TICK, START, END, params=PARAMS, config=CFG)
    n = assert_same_trades(bt.trades, store, "full")
    assert n >= 4
    eq = equity_curve(store, "full")
    assert len(eq) == st.bars_total and eq.iloc[-1] == pytest.approx(
        PaperBroker(store, "full").account().equity
    )
    sig = signal_log(store, "full")
    entries = sig[sig["kind"] == "entry_long"]
    assert len(entries) >= n and (entries["side"] == "buy").all()
    assert "entry_long" in json.loads(entries["reasoning"].iloc[0])["flags"]
    from core.trading.events import list_events

    res = monitor(store, "full")
    # the equity beside its benchmarks (a changed core.backtest signature once left only the
    # account's curve: the error was swallowed as "optional decoration")
    assert {"equity", "buy_hold", "bvsp"} <= set(res.equity.columns)
    assert res.equity["buy_hold"].notna().all() and res.equity["bvsp"].notna().any()
    events = list_events(store, "full", kinds=["red_flag"])
    active = {f.code for f in res.flags if f.active}
    assert active <= {e.values["flag"] for e in events}  # handed to alerts as events
    assert len(events) == len({(e.values["flag"], e.values["month"]) for e in events})
    rep = res.to_json_dict()
    assert rep["n_trades"] == n and len(rep["trades"]) == n
    assert set(rep) >= {
        "equity",
        "cash",
        "win_rate",
        "win_rate_ci",
        "sharpe",
        "max_drawdown_pct",
        "red_flags",
    }
    assert set(rep["trades"][0]) == {
        "ticker",
        "direction",
        "entry_date",
        "entry_price",
        "exit_date",
        "exit_price",
        "shares",
        "qty",
        "pnl",
        "fees",
        "day_trade",
        "exit_reason",
    }  # the shape of backtest --json's trades (core.backtest.runner.trade_json_rows)
    assert collect_ml_data(store, "full") == n
    assert collect_ml_data(store, "full") == 0  # unique per trade
    ml = ml_training_frame(store, "full")
    assert ml["trade_id"].is_unique and set(ml["result"]) <= {"WIN", "LOSS"}
    feats = json.loads(ml["features"].iloc[0])
    assert len(feats) > 10


def test_red_flags_memo_gives_the_flags_and_cdi_of_a_fresh_read(store):
    """The runner's per-run memo (CDI returns extended to its later sessions, splits, point
    values) gives what a fresh evaluation gives, month after month (prefixes)."""
    from core.rates import cdi_daily_returns
    from core.trading.monitor import _cdi_returns, evaluate_red_flags

    if runner_status(store, "full") is None:
        create_account(store, "full", CFG.cash)
        _runner(store, "full").run()
    days = equity_curve(store, "full").index
    memo = {"cdi_extend": pd.DatetimeIndex(days[5:])}
    for n in (6, 30, 31, len(days)):  # growing prefixes: served from the first computation
        idx = pd.DatetimeIndex(days[:n])
        pd.testing.assert_series_equal(
            _cdi_returns(store, idx, memo), cdi_daily_returns(store, idx), check_freq=False
        )
    assert len(memo["cdi"]) == len(days)  # computed once, on the extended index
    T = days[-1]
    plain = [repr(f) for f in evaluate_red_flags(store, "full", T)]  # repr: NaN == NaN
    memo = {"cdi_extend": pd.DatetimeIndex(days)}
    assert [repr(f) for f in evaluate_red_flags(store, "full", T, memo=memo)] == plain
    again = evaluate_red_flags(store, "full", T, memo=memo)  # the memo reused
    assert [repr(f) for f in again] == plain
    assert memo["mult"] and set(memo["share_events"]) == set(TICK)  # read per ticker, once


def test_stopped_runner_resumes_with_the_same_fills(store):
    create_account(store, "stopped", CFG.cash)
    stop = threading.Event()
    seen = []

    def hook(_store, event):
        seen.append(event.time)
        if len(set(seen)) >= 30:
            stop.set()

    st = _runner(store, "stopped", hooks=[hook]).run(stop=stop)
    assert st.status == "parado" and st.bars_done == 30
    st = _runner(store, "stopped").run()
    assert st.status == "concluído"
    assert _fills(store, "stopped") == _fills(store, "full")
    _same_records(store, "stopped")


def _same_records(store, account):
    """The runner's equity curve and signal log equal the uninterrupted run's: one row per
    bar and per signal (a repeated or resumed bar replaces its rows, never adds)."""
    pd.testing.assert_series_equal(equity_curve(store, account), equity_curve(store, "full"))
    cols = ["time", "ticker", "kind", "side", "entry", "stop", "target"]
    got, full = signal_log(store, account)[cols], signal_log(store, "full")[cols]
    assert not got.duplicated(["time", "ticker", "kind"]).any() and len(full) > 0
    pd.testing.assert_frame_equal(got.reset_index(drop=True), full.reset_index(drop=True))


def test_a_bar_processed_twice_sends_nothing_twice(store):
    create_account(store, "twice", CFG.cash)
    r = _runner(store, "twice")
    feed = ReplayFeed(store, TICK, START, END)
    b = PaperBroker(store, "twice")
    for group in feed.groups():
        r.process(group)
        n_orders, n_fills = len(b.orders()), len(b.fills())
        r.process(group)  # as after a crash before the bar was marked done
        assert (len(b.orders()), len(b.fills())) == (n_orders, n_fills)
    assert _fills(store, "twice") == _fills(store, "full")
    assert runner_status(store, "twice").last_bar is not None
    _same_records(store, "twice")
    # a new runner object (a restart) processing the last bar again replaces its rows
    _runner(store, "twice").process(group)
    _same_records(store, "twice")


def test_another_configuration_on_the_same_account_is_refused(store):
    with pytest.raises(InputError, match="já tem um robô"):
        StrategyRunner(
            store, "full", "sma_cross", TICK, {"fast": 4, "slow": 8}, CFG, start=START, end=END
        )


def test_options_a_runner_cannot_reproduce_are_refused():
    for cfg, word in (
        (EngineConfig(reinvest=True), "Reinvestir"),
        (EngineConfig(cash_interest=1.0), "CDI"),
        (EngineConfig(trailing_stop=0.05), "Stop móvel"),
    ):
        with pytest.raises(InputError, match=word):
            check_supported(cfg)
    with pytest.raises(InputError, match="ajustados"):
        check_supported(EngineConfig(), adjusted=True)


def test_all_in_entries_are_trimmed_by_the_income_tax_the_account_paid(store):
    """The account pays IR/IRRF from its cash, the engine's equity is pre-tax: all-in
    entries may buy a few shares less; everything else is the backtest's."""
    cfg = EngineConfig(reinvest=False, stop_loss=0.03, take_profit=0.06)
    create_account(store, "allin", cfg.cash)
    r = StrategyRunner(store, "allin", "sma_cross", TICK, PARAMS, cfg, start=START, end=END)
    r.run()
    bt = run_backtest(store, "sma_cross", TICK, START, END, params=PARAMS, config=cfg).trades
    from core.trading.monitor import account_trades

    paper = account_trades(store, "allin")
    closed = bt[bt["exit_reason"] != "fim"].sort_values(["exit_date", "ticker"]).reset_index()
    paper = paper.sort_values(["exit_date", "ticker"]).reset_index()
    assert len(closed) == len(paper) >= 4
    taxes = -sum(x.amount for x in PaperBroker(store, "allin").ledger() if x.kind == "tax")
    assert taxes > 0
    for x, y in zip(closed.itertuples(), paper.itertuples(), strict=True):
        assert (x.ticker, x.entry_date, x.exit_date, x.exit_reason) == (
            y.ticker,
            y.entry_date,
            y.exit_date,
            y.exit_reason,
        )
        assert abs(x.entry_price - y.entry_price) < 1e-6 and abs(x.exit_price - y.exit_price) < 1e-6
        assert 0 <= x.shares - y.shares <= (taxes + 2 * x.entry_price) / x.entry_price
    trimmed = [d for d in r.drift if "IR pago" in d]
    assert trimmed or (closed["shares"] == paper["shares"]).all()


def test_a_live_yahoo_feed_is_stored_and_traded_from_its_first_new_bar(store):
    from pathlib import Path

    from core.trading.feeds import YahooFeed

    payload = (
        Path(__file__).resolve().parents[1] / "fixtures" / "trading" / "yahoo_chart_petr4_5d.json"
    ).read_bytes()
    feed = YahooFeed(
        ["PETR4"],
        get=lambda url, timeout: payload,
        max_polls=1,
        now=lambda: pd.Timestamp("2024-11-18 12:00"),
        sleep=lambda s: None,
    )
    create_account(store, "live", CFG.cash)
    r = StrategyRunner(store, "live", "sma_cross", ["PETR4"], PARAMS, CFG, feed, feed_kind="yahoo")
    assert r.start == pd.Timestamp("2024-06-29")  # the day after the stored history
    st = r.run()
    assert (st.status, st.last_bar) == ("concluído", pd.Timestamp("2024-11-14"))
    assert store.bars("PETR4", "2024-11-08", "2024-11-14")["close"].tolist() == [
        36.18,
        36.25,
        36.93,
        36.88,
        37.27,
    ]
    assert len(equity_curve(store, "live")) == 5
    # restarted, it keeps its start and skips what it has done
    again = StrategyRunner(
        store, "live", "sma_cross", ["PETR4"], PARAMS, CFG, feed, feed_kind="yahoo"
    )
    assert again.start == r.start and again.last_bar == pd.Timestamp("2024-11-14")


def test_unattended_thread_runner_one_per_account_and_stop(store):
    import time

    from dashboard.paper_runners import running_threads, start_runner, stop_runner

    create_account(store, "bg", CFG.cash)
    assert (
        start_runner(store, "bg", "sma_cross", TICK, PARAMS, CFG, start=START, end=END) == "thread"
    )
    with pytest.raises(InputError, match="já está rodando"):
        start_runner(store, "bg", "sma_cross", TICK, PARAMS, CFG, start=START, end=END)
    deadline = time.time() + 300
    while "bg" in running_threads() and time.time() < deadline:
        time.sleep(0.2)
    st = runner_status(store, "bg")
    assert st.status == "concluído" and st.bars_done == st.bars_total
    assert _fills(store, "bg") == _fills(store, "full")
    assert stop_runner(store, "bg") is False  # nothing running any more


def test_equity_rows_read_as_tuples_equal_the_row_frame(store):
    """The monitor's equity rows (read as plain tuples for speed) are the frame pandas
    builds from the SQLAlchemy rows themselves."""
    from sqlalchemy import select

    from core.trading.monitor import _EQ, _equity_rows, _runner_row

    if runner_status(store, "full") is None:
        create_account(store, "full", CFG.cash)
        _runner(store, "full").run()
    rid = int(_runner_row(store, "full")["id"])
    q = (
        select(_EQ.c.time, _EQ.c.equity, _EQ.c.cash, _EQ.c.traded, _EQ.c.slip_abs)
        .where(_EQ.c.runner_id == rid)
        .order_by(_EQ.c.time)
    )
    with store.engine.connect() as conn:
        ref = pd.DataFrame(
            conn.execute(q).all(), columns=["date", "equity", "cash", "traded", "slip_abs"]
        )
    ref["date"] = pd.to_datetime(ref["date"])
    got = _equity_rows(store, rid)
    assert len(got) > 50
    pd.testing.assert_frame_equal(got, ref.set_index("date"))
