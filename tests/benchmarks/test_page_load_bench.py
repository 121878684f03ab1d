"""Issue 11 figure: each page's first useful paint after navigation (Chromium, bundled data).

Run: ``.venv/bin/python -m pytest tests/benchmarks/test_page_load_bench.py -s``
Only some pages: ``PREGAO_BENCH_PAGES=/trading,/backtest`` (paths, comma-separated); more
runs: ``PREGAO_BENCH_REPEAT=7``.
Goal: ≤ 1 s per page. "First useful paint" is the moment the page shows what it is for
(page-specific, below): the Market grid's rows, the Quotes candles, the Backtest form with its
(empty) charts, the Carteira controls with the frontier placeholder, the Modelos form, the
Dados instruments grid. Each page is loaded fresh (a new tab) ``REPEAT`` times after a
warm-up; the median and every run are printed. Figures, not pass/fail.
"""

from __future__ import annotations

import os
import statistics
import time

import pytest

from tests.benchmarks.conftest import report

pytestmark = pytest.mark.browser

REPEAT = int(os.environ.get("PREGAO_BENCH_REPEAT", "3"))
GOAL_S = 1.0
#: page -> (label, JS condition for its first useful paint)
PAGES = {
    "/": ("Mercado: grid com as linhas", "document.querySelector('#market-grid .ag-row') !== null"),
    "/quotes?ticker=PETR4": (
        "Cotações: candles desenhados",
        "(() => { const g = document.querySelector('#quotes-graph .js-plotly-plot');"
        " return !!(g && g.data && g.data.some(t => t.type === 'candlestick')"
        " && g.querySelector('.candlestick, .trace.boxes, .cartesianlayer .trace')); })()",
    ),
    "/backtest": (
        "Backtest: formulário e gráficos",
        "document.querySelector('#backtest-run') !== null &&"
        " document.querySelector('#backtest-equity .main-svg') !== null",
    ),
    "/portfolio": (
        "Carteira: controles e fronteira",
        "document.querySelector('#portfolio-run') !== null &&"
        " document.querySelector('#portfolio-frontier .main-svg') !== null",
    ),
    "/models": ("Modelos: formulário", "document.querySelector('#models-train') !== null"),
    "/data": (
        "Dados: grid de instrumentos",
        "document.querySelector('#data-instruments .ag-row') !== null",
    ),
    "/trading": (
        "Operações: boleta, cartões da conta e gráfico",
        "document.querySelector('#trading-submit') !== null &&"
        " document.querySelector('#trading-card-equity, #trading-no-account') !== null &&"
        " document.querySelector('#trading-equity .main-svg') !== null",
    ),
    "/alerts": (
        "Alertas: formulário e lista de regras",
        "document.querySelector('#alerts-save') !== null &&"
        " document.querySelector('#alerts-rules-table') !== null",
    ),
    "/admin": (
        "Admin: aviso do modo local",
        "document.querySelector('#_pages_content .alert') !== null",
    ),
}


def _selected() -> dict:
    """``PAGES`` filtered by ``PREGAO_BENCH_PAGES`` (paths); all when unset."""
    wanted = [w.strip() for w in os.environ.get("PREGAO_BENCH_PAGES", "").split(",") if w.strip()]
    if not wanted:
        return PAGES
    return {
        p: v for p, v in PAGES.items() if any(p.split("?")[0] == w.split("?")[0] for w in wanted)
    }


_PUSH = (
    "url => { window.history.pushState({}, '', url);"
    " window.dispatchEvent(new CustomEvent('_dashprivate_pushstate')); }"
)


def _navigate(page, path: str, condition: str) -> float:
    """In-app navigation (what a menu link does): 404 page first, then ``path``; seconds."""
    page.evaluate(_PUSH, "/nada-aqui")
    page.wait_for_selector("#not-found", timeout=120_000)
    t = time.perf_counter()
    page.evaluate(_PUSH, path)
    page.wait_for_function(f"() => {condition}", timeout=120_000, polling=25)
    return time.perf_counter() - t


def _full_load(page, url: str, condition: str) -> float:
    """Typing the address (full page load, browser cache warm); seconds."""
    t = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=120_000)
    page.wait_for_function(f"() => {condition}", timeout=120_000, polling=25)
    return time.perf_counter() - t


def _fmt(times: list[float]) -> str:
    med = statistics.median(times)
    flag = "ok" if med <= GOAL_S else f"{med / GOAL_S:.1f}× a meta"
    return f"{med:.2f} s  [{', '.join(f'{x:.2f}' for x in times)}]  {flag}"


def test_first_useful_paint_per_page(browser, app_server):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="pt-BR")
    page = ctx.new_page()
    nav_rows, load_rows = [], []
    try:
        for path, (label, condition) in _selected().items():
            _full_load(page, app_server + path, condition)  # warm-up: caches, assets
            nav = [_navigate(page, path, condition) for _ in range(REPEAT)]
            full = [_full_load(page, app_server + path, condition) for _ in range(REPEAT)]
            nav_rows.append((f"{label} ({path})", _fmt(nav)))
            load_rows.append((f"{label} ({path})", _fmt(full)))
    finally:
        ctx.close()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    cpus = os.cpu_count()
    report(
        f"Primeira pintura útil após navegar no app (meta ≤ {GOAL_S:.0f} s, mediana de "
        f"{REPEAT}; carga da máquina {load:.1f} em {cpus} CPUs)",
        nav_rows,
    )
    report("Carga completa da página pelo endereço (cache do navegador quente)", load_rows)


def test_server_side_cost_of_each_page(seeded_sqlite):
    """Where a page's time goes on the server: the core calls its layout makes per request."""
    from core.data.quality import quality_report
    from core.data.store import init_db
    from core.market import market_snapshot
    from core.portfolio import most_liquid
    from core.quotes import QuoteRequest, quote_view
    from tests.benchmarks.conftest import median_time

    store = init_db(f"sqlite:///{seeded_sqlite}")
    calls = [
        ("Mercado: market_snapshot", lambda: market_snapshot(store)),
        ("Cotações: quote_view PETR4 1A", lambda: quote_view(store, QuoteRequest("PETR4"))),
        ("todas: store.instruments", store.instruments),
        ("Carteira: most_liquid(10)", lambda: most_liquid(store, 10)),
        ("Dados: quality_report", lambda: quality_report(store)),
    ]
    rows = []
    for label, fn in calls:
        med, _ = median_time(fn, repeat=3)
        rows.append((label, f"{med:.2f} s"))
    store.dispose()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    report(f"Custo no servidor por página (mediana de 3; carga {load:.1f})", rows)
