"""Benchmarks of issue 3 (figures, not pass/fail): ``make bench`` or
``python -m pytest tests/benchmarks/test_data_bench.py -s``.

* COTAHIST parse throughput (records/s) on a file of >= 1,000,000 records made by repeating
  the real 2021-06-25 daily file's 7,518 quote records over 134 B3 sessions, against
  ``pandas.read_fwf`` on the same file in the same run;
* import throughput into SQLite and PostgreSQL (bar rows/s), first import and re-import;
* peak memory (tracemalloc) while streaming and importing.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc

import pandas as pd
import pytest

from core.data.imports import import_files
from core.data.sources.cotahist import ALL_RECORDS, DEFAULT_FILTER, iter_cotahist, read_cotahist
from core.data.store import init_db
from tests.datafiles import build_cotahist

N_DATES = 134  # 134 x 7,518 = 1,007,412 records (~249 MB)

# B3 layout, 0-based half-open spans of the fields read_cotahist decodes.
FWF_SPECS = [
    (0, 2),
    (2, 10),
    (10, 12),
    (12, 24),
    (24, 27),
    (27, 39),
    (39, 49),
    (56, 69),
    (69, 82),
    (82, 95),
    (95, 108),
    (108, 121),
    (147, 152),
    (152, 170),
    (170, 188),
    (210, 217),
]


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("bench") / "COTAHIST_A2015.TXT"
    n = build_cotahist(p, N_DATES)
    return p, n


def _timed(fn, repeat=5):
    """Median wall time of ``fn`` (each result is dropped before the next run)."""
    ts = []
    out = None
    for _ in range(repeat):
        out = None
        gc.collect()
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def test_cotahist_parse_throughput(big_file):
    path, n = big_file
    size = path.stat().st_size
    t_all, rows = _timed(lambda: len(read_cotahist(path, ALL_RECORDS)))
    assert rows == n
    t_def, kept = _timed(lambda: len(read_cotahist(path, DEFAULT_FILTER)))
    gc.collect()
    t = time.perf_counter()
    fwf = pd.read_fwf(path, colspecs=FWF_SPECS, header=None, dtype=str, encoding="latin-1")
    t_fwf = time.perf_counter() - t
    assert len(fwf) == n + 2  # header and trailer are rows too
    del fwf
    gc.collect()
    tracemalloc.start()
    for _ in iter_cotahist(path, ALL_RECORDS):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\nCOTAHIST file: {n:,} records, {size / 1e6:.0f} MB")
    print(
        f"read_cotahist (all records):      {t_all:6.2f} s  {n / t_all:12,.0f} records/s (median of 5)"
    )
    print(
        f"read_cotahist (spot+fractional):  {t_def:6.2f} s  {n / t_def:12,.0f} records/s scanned, {kept:,} kept"
    )
    print(
        f"pandas.read_fwf (same fields):    {t_fwf:6.2f} s  {n / t_fwf:12,.0f} records/s (strings only, 1 run)"
    )
    print(
        f"speed-up vs read_fwf:             {t_fwf / t_all:6.1f}x (all records), {t_fwf / t_def:.1f}x (default filter)"
    )
    print(f"peak traced memory while streaming all records: {peak / 1e6:.0f} MB")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_import_throughput(backend, tmp_path, request):
    path = tmp_path / "COTAHIST_A2016.TXT"
    n = build_cotahist(path, 40)  # 300,720 records -> 43,440 spot bars
    url = (
        f"sqlite:///{tmp_path / 'bench.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    s = init_db(url)
    try:
        gc.collect()
        t = time.perf_counter()
        rep = import_files(s, [path])
        t1 = time.perf_counter() - t
        assert rep.status == "ok"
        t = time.perf_counter()
        again = import_files(s, [path])
        t2 = time.perf_counter() - t
        assert again.inserted == 0
        print(
            f"\n{backend}: import {n:,} records -> {rep.inserted:,} bars in {t1:.2f} s = "
            f"{rep.inserted / t1:,.0f} rows/s ({n / t1:,.0f} records/s); re-import (all "
            f"unchanged) {t2:.2f} s = {again.unchanged / t2:,.0f} rows/s"
        )
        if backend == "sqlite":  # memory measured apart: tracemalloc slows Python down
            mem = init_db("sqlite://")
            gc.collect()
            tracemalloc.start()
            import_files(mem, [path])
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            mem.dispose()
            print(
                f"peak traced memory of that import: {peak / 1e6:.0f} MB for a "
                f"{path.stat().st_size / 1e6:.0f} MB file"
            )
    finally:
        s.dispose()
