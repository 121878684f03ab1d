"""Backtest benchmarks (figures printed, timings never asserted).

Run: ``python -m pytest tests/benchmarks/test_backtest_bench.py -s -p no:cacheprovider``

1. One strategy × one ticker × ~15 years (PETR4 2010-2024, 3,600+ sessions): engine time
   (goal ≤ 20 ms), plus signals + engine.
2. A sweep of 1,000 parameter sets × the 23 bundled stocks (23,000 backtests) on 2 worker
   processes (goal ≤ 60 s). It runs in full (about 10 s here); ``PREGAO_BENCH_SETS=N``
   runs a fraction and extrapolates linearly (each set × ticker is an independent
   backtest).
3. ``sma_cross`` vs backtesting.py on the same data, costs off, 1-share lots: the same
   trades (entry/exit dates and prices) and the speed ratio (goal ≥ 20×).
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np
import pandas as pd
import pytest

from core.backtest.costs import NO_COSTS
from core.backtest.engine import EngineConfig, run_engine
from core.backtest.optimize import sweep
from core.backtest.runner import adjust_bars
from core.backtest.sizing import Sizing
from core.strategies import get_strategy

SWEEP_SETS = int(os.environ.get("PREGAO_BENCH_SETS", "1000"))


def _median_ms(fn, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


@pytest.fixture(scope="module")
def petr4(bundled_store):
    return adjust_bars(bundled_store.bars("PETR4"))


def test_single_ticker_15_years(petr4):
    strat = get_strategy("sma_cross")
    sig = strat.signals(petr4)
    cfg = EngineConfig()
    run_engine(petr4, sig, cfg)  # JIT warm-up / cache load
    engine_ms = _median_ms(lambda: run_engine(petr4, sig, cfg), 50)
    full_ms = _median_ms(lambda: run_engine(petr4, strat.signals(petr4), cfg), 50)
    years = (petr4.index[-1] - petr4.index[0]).days / 365.25
    print(
        f"\n[bench] engine, sma_cross × PETR4 × {years:.1f} years ({len(petr4)} sessions): "
        f"median {engine_ms:.2f} ms (goal ≤ 20 ms); signals + engine {full_ms:.2f} ms"
    )


def test_sweep_parameter_sets_by_23_stocks(bundled_store):
    tickers = bundled_store.tickers("stock")
    bars = {t: adjust_bars(bundled_store.bars(t)) for t in tickers}
    rng = np.random.default_rng(0)
    sets = []
    while len(sets) < SWEEP_SETS:
        f, s = int(rng.integers(2, 60)), int(rng.integers(10, 250))
        if f < s:
            sets.append({"fast": f, "slow": s})
    cfg = EngineConfig()
    sweep("sma_cross", sets[:2], {tickers[0]: bars[tickers[0]]}, cfg, n_jobs=1)  # warm-up
    t = time.perf_counter()
    df = sweep("sma_cross", sets, bars, cfg, n_jobs=2)
    secs = time.perf_counter() - t
    n = len(df)
    per_1000 = secs * 1000 / SWEEP_SETS
    print(
        f"\n[bench] sweep: {SWEEP_SETS} parameter sets × {len(tickers)} stocks = {n} backtests "
        f"in {secs:.1f} s on 2 processes ({1000 * secs / n:.2f} ms per backtest); "
        f"1,000 sets × {len(tickers)} stocks ≈ {per_1000:.1f} s "
        f"({'measured' if SWEEP_SETS == 1000 else 'extrapolated linearly'}; goal ≤ 60 s)"
    )
    assert n == SWEEP_SETS * len(tickers)


def test_sma_cross_against_backtesting_py(petr4):
    bt_mod = pytest.importorskip("backtesting")
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    fast, slow = 10, 30

    def sma(x, n):
        return pd.Series(x).rolling(n).mean().to_numpy()

    class SmaCross(Strategy):
        def init(self):
            self.f = self.I(sma, self.data.Close, fast)
            self.s = self.I(sma, self.data.Close, slow)

        def next(self):
            if crossover(self.f, self.s):
                if not self.position:
                    self.buy()
            elif crossover(self.s, self.f):
                self.position.close()

    df = petr4.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]
    cash = 1_000_000.0
    bt = Backtest(
        df, SmaCross, cash=cash, commission=0.0, trade_on_close=False, finalize_trades=False
    )
    stats = bt.run()
    ref = stats._trades
    bt_ms = _median_ms(bt.run, 3)

    strat = get_strategy("sma_cross", fast=fast, slow=slow)
    cfg = EngineConfig(cash=cash, costs=NO_COSTS, sizing=Sizing("all_in", lot_size=1))
    ours = run_engine(petr4, strat.signals(petr4), cfg).trades
    ours_ms = _median_ms(lambda: run_engine(petr4, strat.signals(petr4), cfg), 30)
    closed = ours[ours["exit_reason"] != "fim"].reset_index(drop=True)

    ref_dates = list(zip(pd.to_datetime(ref["EntryTime"]), pd.to_datetime(ref["ExitTime"])))
    our_dates = list(zip(closed["entry_date"], closed["exit_date"]))
    same_dates = ref_dates == our_dates
    np.testing.assert_allclose(closed["entry_price"], ref["EntryPrice"], rtol=1e-9)
    np.testing.assert_allclose(closed["exit_price"], ref["ExitPrice"], rtol=1e-9)
    share_diff = int(np.max(np.abs(closed["shares"].to_numpy() - ref["Size"].to_numpy())))
    print(
        f"\n[bench] sma_cross({fast},{slow}) on PETR4 ({len(petr4)} sessions) vs "
        f"backtesting.py {bt_mod.__version__}: {len(ref)} trades each, same dates "
        f"{same_dates}, same prices True, max share difference {share_diff} "
        f"(backtesting.py sizes at 99.99 % of equity); backtesting.py {bt_ms:.1f} ms, "
        f"Pregão (signals + engine) {ours_ms:.2f} ms: {bt_ms / ours_ms:.0f}× faster "
        "(goal ≥ 20×)"
    )
    assert same_dates
