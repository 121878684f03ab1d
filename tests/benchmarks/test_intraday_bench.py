"""Issue 14 figures: importing the bundled WINFUT 5-minute file (20.001 bars).

Run: ``.venv/bin/python -m pytest tests/benchmarks/test_intraday_bench.py -s``
Goal: ≥ 200.000 bars/s for the import. Printed: parse + session checks alone
(:func:`core.data.intraday.read_intraday_file`), the whole import into a fresh SQLite file
(:func:`core.data.imports.import_files`: parse, validate, one-transaction write, log), and
resampling the file to 60 minutes and to daily bars; medians of 5 runs after a warm-up.
"""

from __future__ import annotations

import itertools

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
    times = []
    for _ in range(6):
        store = init_db(f"sqlite:///{tmp_path / f'w{next(counter)}.db'}")
        t, _ = median_time(
            lambda s=store: import_files(s, [WIN], ticker="WINFUT"), repeat=1, warmup=0
        )
        assert store.bars("WINFUT", interval="5min").shape[0] == n
        store.dispose()
        times.append(t)
    t_import = sorted(times[1:])[2]  # median of 5 after one warm-up
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
            ("resample 5min → 60min", f"{t_60 * 1e3:.1f} ms"),
            ("resample 5min → 1d", f"{t_1d * 1e3:.1f} ms"),
        ],
    )
