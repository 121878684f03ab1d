"""Issue 14 figures: importing the bundled WINFUT 5-minute file (20.001 bars).

Run: ``.venv/bin/python -m pytest tests/benchmarks/test_intraday_bench.py -s``
Goal: ≥ 200.000 bars/s for the import. Printed: parse + session checks alone
(:func:`core.data.intraday.read_intraday_file`), the whole import into a fresh SQLite file
(:func:`core.data.imports.import_files`: parse, validate, one-transaction write, log), and
resampling the file to 60 minutes and to daily bars; medians of 5 runs after a warm-up.
"""

from __future__ import annotations

import itertools
import time

from core.data.bundled import BUNDLED_DIR
from core.data.imports import import_files
from core.data.intraday import read_intraday_file
from core.data.resample import resample_bars
from core.data.store import init_db
from tests.benchmarks.conftest import median_time, report

WIN = BUNDLED_DIR / "intraday" / "WINFUT_5min_2021-08-23_2022-05-18.csv.gz"
GOAL = 200_000


def test_import_bundled_win(tmp_path):
    n = len(read_intraday_file(WIN, ticker="WINFUT").bars["WINFUT"])
    t_parse, _ = median_time(lambda: read_intraday_file(WIN, ticker="WINFUT"))
    counter = itertools.count()

    # migrations are not part of an import: time only import_files on a migrated store
    times, cpus = [], []
    for _ in range(6):
        store = init_db(f"sqlite:///{tmp_path / f'w{next(counter)}.db'}")
        c0 = time.process_time()
        t, _ = median_time(
            lambda s=store: import_files(s, [WIN], ticker="WINFUT"), repeat=1, warmup=0
        )
        cpus.append(time.process_time() - c0)
        assert store.bars("WINFUT", interval="5min").shape[0] == n
        store.dispose()
        times.append(t)
    t_import = sorted(times[1:])[2]  # median of 5 after one warm-up
    c_import = sorted(cpus[1:])[2]  # CPU time of this process (the machine may be shared)
    bars = read_intraday_file(WIN, ticker="WINFUT").bars["WINFUT"].drop(columns="line")
    t_60, _ = median_time(lambda: resample_bars(bars, "60min", source="5min"))
    t_1d, _ = median_time(lambda: resample_bars(bars, "1d", source="5min"))
    report(
        f"Import of the bundled WINFUT 5min file ({n} bars; goal ≥ {GOAL:,} bars/s)",
        [
            (
                "parse + session checks",
                f"{t_parse * 1e3:.0f} ms = {n / t_parse:,.0f} bars/s "
                f"({n / t_parse / GOAL:.2f}× goal)",
            ),
            (
                "import_files into SQLite (write incl.)",
                f"{t_import * 1e3:.0f} ms = "
                f"{n / t_import:,.0f} bars/s ({n / t_import / GOAL:.2f}× goal)",
            ),
            (
                "import_files, CPU time of the process",
                f"{c_import * 1e3:.0f} ms = {n / c_import:,.0f} bars/s "
                f"({n / c_import / GOAL:.2f}× goal)",
            ),
            ("resample 5min → 60min", f"{t_60 * 1e3:.1f} ms"),
            ("resample 5min → 1d", f"{t_1d * 1e3:.1f} ms"),
        ],
    )


def test_day_trade_backtest_on_win_5min(bundled_store):
    """A 5-minute day-trade backtest over all 183 WINFUT sessions (goal ≤ 50 ms engine time).

    Engine time: :func:`core.backtest.engine.run_engine` on prepared inputs (bars in R$ per
    contract, signals, flatten codes, contract terms), median of 30 runs after a warm-up;
    full: :func:`core.backtest.runner.run_backtest` (store read, signals, engine, metrics,
    taxes), median of 5. A second case stacks a year of 5-minute bars (the file twice,
    shifted by its span: ~40.000 bars) to show how the engine scales.
    """
    import numpy as np
    import pandas as pd

    from core.backtest.engine import ContractTerms, EngineConfig, flatten_codes, run_engine
    from core.backtest.runner import run_backtest, session_codes
    from core.backtest.sizing import Sizing
    from core.strategies import get_strategy

    bars = bundled_store.bars("WINFUT", interval="5min")
    cfg = EngineConfig(sizing=Sizing("contracts", 1), day_trade=True, allow_short=True)
    terms = {
        "WINFUT": ContractTerms(margin=100.0, fee_regular=0.37, fee_day_trade=0.25, slippage=1.0)
    }

    def prepared(b):
        sig = get_strategy("opening_range_breakout").signals(b)
        flat = flatten_codes(b.index, 10, 5)
        scaled = b.copy()
        for c in ("open", "high", "low", "close", "adj_close"):
            scaled[c] = b[c] * 0.2
        sig["stop"] = sig["stop"] * 0.2
        return scaled, sig, flat, session_codes(b.index, "5min")

    def engine(inputs):
        scaled, sig, flat, sess = inputs
        return run_engine(
            {"WINFUT": scaled},
            {"WINFUT": sig},
            cfg,
            sessions=sess,
            flat=flat,
            contracts=terms,
            lots={"WINFUT": 1},
        )

    one = prepared(bars)
    n_trades = len(engine(one).trades)
    t_engine, _ = median_time(lambda: engine(one), repeat=30)
    span = bars.index[-1].normalize() - bars.index[0].normalize() + pd.Timedelta("1D")
    year = pd.concat([bars, bars.set_axis(bars.index + span)])
    two = prepared(year)
    t_year, _ = median_time(lambda: engine(two), repeat=10)
    t_full, _ = median_time(
        lambda: run_backtest(
            bundled_store, "opening_range_breakout", ["WINFUT"], config=cfg, interval="5min"
        ),
        repeat=5,
    )
    report(
        f"Day-trade backtest, opening_range_breakout on WINFUT 5min ({len(bars)} bars, "
        f"183 sessions, {n_trades} trades; goal ≤ 50 ms engine time)",
        [
            (
                "engine (run_engine), median of 30",
                f"{t_engine * 1e3:.1f} ms ({50 / (t_engine * 1e3):.1f}× goal)",
            ),
            (f"engine, ~1 year ({len(year)} bars), median of 10", f"{t_year * 1e3:.1f} ms"),
            ("full run_backtest, median of 5", f"{t_full * 1e3:.0f} ms"),
        ],
    )
    assert np.isfinite(t_engine)
