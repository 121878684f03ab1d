"""Issue 2 figures: first-start load, the Quotes callback, browser time to chart.

Run: ``.venv/bin/python -m pytest tests/benchmarks/test_foundation_bench.py -s``
Goals: load ≤ 10 s; Quotes store→figure ≤ 150 ms median (15 years of PETR4, five
indicators); browser navigation → chart drawn ≤ 2 s.
"""

from __future__ import annotations

import json
import statistics
import time

import plotly.io as pio
import pytest

from components.charts import quote_figure
from core import indicators as ind
from core.data.bundled import load_bundled
from core.data.store import init_db
from core.quotes import QuoteRequest, quote_view
from tests.benchmarks.conftest import median_time, report
from tests.services import fresh_postgres_database, postgres_admin_url

REQ = QuoteRequest(
    "PETR4", preset="Máx", sma=(20,), ema=(9,), bollinger=True, panels=("rsi", "macd")
)


def test_first_start_load(tmp_path):
    times = []
    for i in range(3):
        url = f"sqlite:///{tmp_path / f'load{i}.db'}"
        t = time.perf_counter()
        store = init_db(url)
        rep = load_bundled(store)
        times.append(time.perf_counter() - t)
        store.dispose()
    rows = [
        ("SQLite file: migrate + load (median of 3)", f"{statistics.median(times):.2f} s"),
        ("bars / CDI days loaded", f"{rep.bars} / {rep.rates}"),
    ]
    admin = postgres_admin_url()
    if admin:
        url, drop = fresh_postgres_database(admin)
        t = time.perf_counter()
        store = init_db(url)
        load_bundled(store)
        rows.append(("PostgreSQL: migrate + load (1 run)", f"{time.perf_counter() - t:.2f} s"))
        store.dispose()
        drop()
    report("First-start load of the bundled data (goal ≤ 10 s)", rows)


@pytest.fixture(scope="module")
def file_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "b.db"
    store = init_db(f"sqlite:///{path}")
    load_bundled(store)
    yield store
    store.dispose()


def test_quotes_callback(file_store):
    def callback_path():
        view = quote_view(file_store, REQ)
        return pio.to_json(quote_figure(view))

    total, _ = median_time(callback_path, repeat=20, warmup=2)
    read, _ = median_time(lambda: file_store.bars("PETR4"), repeat=20)
    bars = file_store.bars("PETR4")

    def indicators_only():
        c = bars.close
        ind.sma(c, 20), ind.ema(c, 9), ind.bollinger(c), ind.rsi(c), ind.macd(c)

    talib_t, _ = median_time(indicators_only, repeat=20)
    view = quote_view(file_store, REQ)
    view_t, _ = median_time(lambda: quote_view(file_store, REQ), repeat=20)
    fig_t, _ = median_time(lambda: quote_figure(view), repeat=20)
    fig = quote_figure(view)
    json_t, _ = median_time(lambda: pio.to_json(fig), repeat=20)
    size = len(json.dumps(fig.to_plotly_json(), default=str))
    report(
        f"Quotes callback, PETR4 {len(view.bars)} bars (15 years), 5 indicators (goal ≤ 150 ms)",
        [
            ("store → figure JSON, median of 20", f"{total * 1000:.1f} ms"),
            ("  store read (SQLite file)", f"{read * 1000:.1f} ms"),
            ("  quote_view (read + indicators + stats)", f"{view_t * 1000:.1f} ms"),
            ("  indicators alone (TA-Lib reference)", f"{talib_t * 1000:.2f} ms"),
            ("  figure build", f"{fig_t * 1000:.1f} ms"),
            ("  JSON serialisation", f"{json_t * 1000:.1f} ms"),
            ("figure JSON size", f"{size / 1e6:.2f} MB"),
        ],
    )


@pytest.mark.browser
def test_browser_navigation_to_chart(page, app_server):
    url = app_server + "/quotes?ticker=PETR4&range=M%C3%A1x&sma=20&ema=9&bb=1&panels=rsi,macd"
    times = []
    for _ in range(4):
        t = time.perf_counter()
        page.goto(url)
        page.wait_for_function(
            "() => { const el = document.querySelector('#quotes-graph .js-plotly-plot');"
            " return el && el.data && el.data.some(t => t.type === 'candlestick')"
            " && el.querySelector('.boxlayer path'); }",
            timeout=30_000,
        )
        times.append(time.perf_counter() - t)
    report(
        "Browser: navigation → chart drawn, PETR4 Máx + 5 indicators (goal ≤ 2 s)",
        [
            ("median of 3 (after 1 warm-up)", f"{statistics.median(times[1:]):.2f} s"),
            ("runs", ", ".join(f"{x:.2f}" for x in times)),
        ],
    )
