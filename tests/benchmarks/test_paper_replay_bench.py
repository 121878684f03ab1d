"""Paper replay benchmark (issue 12; figures printed, timings never asserted).

Run: ``python -m pytest tests/benchmarks/test_paper_replay_bench.py -s -p no:cacheprovider``

A replay of one year (the last 12 months of the bundled data) × 10 stocks × ``sma_cross``
through a paper account (goal ≤ 5 s), printed beside :func:`run_backtest` on the same work,
on an in-memory SQLite store and on a SQLite file. The replay computes the strategy's
signals on the history up to every bar (10 × ~250 calls: the feed delivers one bar at a
time and a replay never reads a bar before it is delivered), plans each bar with the
engine's kernel and sends the orders through the paper broker (risk rules, ledger, one
transaction per state change); the figures show which part dominates. Wall and CPU time
are both printed: on a machine shared with other jobs the wall time measures the queue.
"""

from __future__ import annotations

import shutil
import time

import pandas as pd
import pytest

from core.backtest.engine import EngineConfig
from core.backtest.runner import compute_signals, load_inputs, run_backtest
from core.strategies import get_strategy
from core.trading.accounts import create_account
from core.trading.monitor import account_trades
from core.trading.runner import StrategyRunner
from tests.benchmarks.conftest import report

TEN = ["PETR4", "VALE3", "ITUB4", "BBDC4", "ABEV3", "B3SA3", "ITSA4", "PRIO3", "LREN3", "RAIL3"]


def _replay(store, account, start, end):
    cfg = EngineConfig(reinvest=False)
    create_account(store, account, cfg.cash)
    t, c = time.perf_counter(), time.process_time()
    r = StrategyRunner(store, account, "sma_cross", TEN, None, cfg, start=start, end=end)
    st = r.run()
    return time.perf_counter() - t, time.process_time() - c, st


@pytest.mark.parametrize("where", ["memory", "file"])
def test_replay_one_year_ten_stocks(bundled_store, seeded_sqlite, tmp_path, where):
    from core.data.store import init_db

    if where == "file":
        db = tmp_path / "bench.db"
        shutil.copy(seeded_sqlite, db)
        store = init_db(f"sqlite:///{db}")
    else:
        store = bundled_store
    last = max(store.last_date(t) for t in TEN)
    start, end = last - pd.DateOffset(years=1) + pd.Timedelta(days=1), last
    cfg = EngineConfig(reinvest=False)
    run_backtest(store, "sma_cross", TEN, start, end, config=cfg)  # warm caches and kernel
    t, c = time.perf_counter(), time.process_time()
    bt = run_backtest(store, "sma_cross", TEN, start, end, config=cfg)
    bt_s, bt_cpu = time.perf_counter() - t, time.process_time() - c
    replay_s, replay_cpu, st = _replay(store, f"bench-{where}", start, end)
    # the signal part alone: the strategy on the history up to each bar, every ticker
    inp = load_inputs(store, TEN, end)
    strat = get_strategy("sma_cross")
    n_calls = 0
    t, c = time.perf_counter(), time.process_time()
    for tk in TEN:
        adj, raw = inp.signal_bars[tk], inp.bars[tk]
        for i in range(int(adj.index.searchsorted(start)), len(adj)):
            compute_signals(strat, {tk: adj.iloc[: i + 1]}, {tk: raw.iloc[: i + 1]})
            n_calls += 1
    sig_s, sig_cpu = time.perf_counter() - t, time.process_time() - c
    paper = account_trades(store, f"bench-{where}")
    closed = bt.trades[bt.trades["exit_reason"] != "fim"]
    report(
        f"Paper replay: 1 year × 10 stocks × sma_cross ({where} SQLite)",
        [
            ("bars (sessions)", f"{st.bars_done}"),
            ("replay through the paper broker", f"{replay_s:.2f} s (goal ≤ 5 s)"),
            ("  CPU time of this process", f"{replay_cpu:.2f} s (the wall on a shared machine)"),
            ("  sessions per second", f"{st.bars_done / replay_s:.0f}"),
            ("  of which signals on history ≤ t", f"{sig_s:.2f} s, CPU {sig_cpu:.2f} s"),
            ("    (strategy calls)", f"{n_calls}"),
            ("run_backtest on the same work", f"{bt_s:.3f} s, CPU {bt_cpu:.3f} s"),
            ("replay / backtest", f"{replay_s / bt_s:.0f}× (CPU {replay_cpu / bt_cpu:.0f}×)"),
            ("trades (backtest closed / replay)", f"{len(closed)} / {len(paper)}"),
        ],
    )
    if where == "file":
        store.dispose()
