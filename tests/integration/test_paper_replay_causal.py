"""A replay never reads a bar its feed has not delivered yet (issue 12).

Two proofs on real bars of two stocks:

* a spy: every call of the strategy's signal code and of the engine's kernel made while a
  bar is processed sees bars up to that bar only (the feed's last delivered time);
* a poisoned future: the same replay on a store whose bars after a date X are rewritten
  gives exactly the same signals, orders and fills up to X.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import core.trading.runner as runner_mod
from core.backtest.engine import EngineConfig
from core.backtest.sizing import Sizing
from core.strategies.sma_cross import SmaCross
from core.trading.accounts import create_account
from core.trading.broker import PaperBroker
from core.trading.feeds import ReplayFeed
from core.trading.runner import StrategyRunner, signal_log
from tests.helpers import real_bars

TICK = ["PETR4", "VALE3"]
START, END = "2024-03-01", "2024-05-31"
POISON_AFTER = pd.Timestamp("2024-04-15")
CFG = EngineConfig(reinvest=False, stop_loss=0.03, take_profit=0.06, sizing=Sizing("percent", 45.0))


def _store(poison: bool = False):
    from core.data.store import init_db

    s = init_db("sqlite://")
    rng = np.random.default_rng(7)
    for t in TICK:
        s.upsert_instrument(t, kind="stock")
        b = real_bars(t).loc["2023-01-01":END].copy()
        if poison:  # a different future: prices that would trade very differently
            late = b.index > POISON_AFTER
            f = rng.uniform(0.6, 1.4, late.sum())
            for c in ("open", "high", "low", "close", "adj_close"):
                b.loc[late, c] = b.loc[late, c].to_numpy() * f
            b.loc[late, "high"] = b.loc[late, ["open", "high", "low", "close"]].max(axis=1)
            b.loc[late, "low"] = b.loc[late, ["open", "high", "low", "close"]].min(axis=1)
        s.write_bars(t, b, "bundled")
    return s


class _Delivered(ReplayFeed):
    """A replay feed that remembers the last time it delivered."""

    delivered: pd.Timestamp | None = None
    events = 0

    def groups(self):
        for g in super().groups():
            self.delivered = g[0].time
            self.events += len(g)
            yield g


def test_signals_and_plan_never_read_an_undelivered_bar(monkeypatch):
    store = _store()
    create_account(store, "spy", CFG.cash)
    feed = _Delivered(store, TICK, START, END)
    seen: list[tuple[pd.Timestamp, pd.Timestamp]] = []

    class Spy(SmaCross):
        def signals(self, bars):
            if feed.delivered is not None:  # the warm-up before the first bar: history
                seen.append((bars.index[-1], feed.delivered))
            return super().signals(bars)

    real = runner_mod.simulate
    kernel: list[tuple[int, pd.Timestamp]] = []

    def spy_simulate(market, signals, params):
        kernel.append((len(market.open), feed.delivered))
        return real(market, signals, params)

    monkeypatch.setattr(runner_mod, "simulate", spy_simulate)
    r = StrategyRunner(store, "spy", Spy(fast=3, slow=8), TICK, None, CFG, feed, start=START)
    st = r.run()
    assert st.status == "concluído" and st.bars_done > 50
    assert len(seen) == feed.events  # every bar of every ticker, once
    late = [(last, d) for last, d in seen if last > d]
    assert not late, f"signals read bars after the delivered one: {late[:3]}"
    assert kernel and all(r.index[n - 1] <= d for n, d in kernel), "kernel read the future"


def test_a_different_future_changes_nothing_before_it():
    runs = {}
    for name, poison in (("real", False), ("poisoned", True)):
        store = _store(poison)
        create_account(store, name, CFG.cash)
        StrategyRunner(
            store, name, "sma_cross", TICK, {"fast": 3, "slow": 8}, CFG, start=START, end=END
        ).run()
        b = PaperBroker(store, name)
        every = [(f.ticker, f.side, f.qty, f.price, f.time) for f in b.fills()]
        fills = [
            (f.ticker, f.side, f.qty, round(f.price, 6), f.time)
            for f in b.fills()
            if f.time <= POISON_AFTER
        ]
        orders = [  # as sent (their later status depends on the later bars)
            (o.client_id, o.ticker, o.side, o.type, o.qty, o.stop_price, o.created_at)
            for o in b.orders()
            if pd.Timestamp(o.created_at) <= POISON_AFTER
        ]
        log = signal_log(store, name)
        log = log[log["time"] <= POISON_AFTER].drop(columns=["reasoning"])
        runs[name] = (fills, orders, log.reset_index(drop=True), every)
        store.dispose()
    real, poisoned = runs["real"], runs["poisoned"]
    assert real[0] and real[1] and len(real[2]) > 0  # something happened before X
    assert poisoned[0] == real[0]
    assert poisoned[1] == real[1]
    pd.testing.assert_frame_equal(poisoned[2], real[2])
    assert poisoned[3] != real[3]  # the control: the rewritten bars do matter after X
