"""Issue 11 figure: each page's first useful paint after navigation (Chromium, bundled data).

Run: ``.venv/bin/python -m pytest tests/benchmarks/test_page_load_bench.py -s``
(``-k first_useful`` for the per-page table only; ``-k fresh`` for Mercado's first visit)
Only some pages: ``PREGAO_BENCH_PAGES=/trading,/backtest`` (paths, comma-separated); more
runs: ``PREGAO_BENCH_REPEAT=7``.
Goal: ≤ 1 s per page. "First useful paint" is the moment the page shows what it is for
(page-specific, below): the Market grid's rows, the Quotes candles, the Backtest form with its
(empty) charts, the Carteira controls with the frontier placeholder, the Modelos form, the
Dados instruments grid, the Operações order ticket, the Alertas form, the Admin notice. Each
page is visited once (its first visit: cold caches of that page) and then ``REPEAT`` times
by in-app navigation and ``REPEAT`` times by a full load; the median and every run are
printed, with the server time of the page's callbacks (time to first byte of each
``/_dash-update-component`` request before the paint, summed). Figures, not pass/fail.
``test_mercado_first_visit_fresh_process`` measures Mercado's first visit in a just-started
app: the placeholder's paint and the grid's, with and without the start-up warming.
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


class _ServerClock:
    """Sums the time to first byte of the ``/_dash-update-component`` requests that finish
    while it is armed (the server's share of a page's paint)."""

    def __init__(self, page) -> None:
        self.total = 0.0
        self.armed = False
        page.on("requestfinished", self._finished)

    def _finished(self, request) -> None:
        if self.armed and "/_dash-update-component" in request.url:
            t = request.timing
            if t.get("responseStart", -1) >= 0 and t.get("requestStart", -1) >= 0:
                self.total += (t["responseStart"] - t["requestStart"]) / 1000.0

    def start(self) -> None:
        self.total, self.armed = 0.0, True

    def stop(self) -> float:
        self.armed = False
        return self.total


def _navigate(page, path: str, condition: str, clock: _ServerClock | None = None) -> float:
    """In-app navigation (what a menu link does): 404 page first, then ``path``; seconds."""
    page.evaluate(_PUSH, "/nada-aqui")
    page.wait_for_selector("#not-found", timeout=120_000)
    if clock:
        clock.start()
    t = time.perf_counter()
    page.evaluate(_PUSH, path)
    page.wait_for_function(f"() => {condition}", timeout=120_000, polling=25)
    el = time.perf_counter() - t
    if clock:
        clock.stop()
    return el


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
    clock = _ServerClock(page)
    nav_rows, load_rows, first_rows = [], [], []
    try:
        for path, (label, condition) in _selected().items():
            first = _full_load(page, app_server + path, condition)  # also the warm-up
            nav, server = [], []
            for _ in range(REPEAT):
                nav.append(_navigate(page, path, condition, clock))
                server.append(clock.total)
            full = [_full_load(page, app_server + path, condition) for _ in range(REPEAT)]
            name = f"{label} ({path})"
            nav_rows.append((name, f"{_fmt(nav)}  servidor {statistics.median(server):.2f} s"))
            load_rows.append((name, _fmt(full)))
            first_rows.append((name, f"{first:.2f} s"))
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
    report("Primeira visita de cada página (carga completa, caches frios da página)", first_rows)


@pytest.mark.parametrize("warm", ["1", "0"], ids=["com-aquecimento", "sem-aquecimento"])
def test_mercado_first_visit_fresh_process(browser, seeded_sqlite, tmp_path, warm):
    """Mercado's first visit right after the app started (read cache empty): seconds to
    the placeholder (or the page) and to the grid's rows. ``PREGAO_WARM=0`` is the worst
    case (nothing computed before the visit)."""
    import shutil

    from tests.conftest import start_app, stop_app

    shutil.copy(seeded_sqlite, tmp_path / "pregao.db")
    proc, base = start_app(tmp_path, {"PREGAO_WARM": warm, "PREGAO_SCHEDULER": "0"})
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="pt-BR")
    page = ctx.new_page()
    try:
        t = time.perf_counter()
        page.goto(base + "/", wait_until="commit", timeout=120_000)
        page.wait_for_function(
            "() => document.querySelector('#market-loading, #market-grid') !== null",
            timeout=120_000,
            polling=25,
        )
        painted = time.perf_counter() - t
        page.wait_for_function(f"() => {PAGES['/'][1]}", timeout=120_000, polling=25)
        grid = time.perf_counter() - t
    finally:
        ctx.close()
        stop_app(proc)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    report(
        f"Mercado, primeira visita logo após iniciar (PREGAO_WARM={warm}; carga {load:.1f})",
        [("primeira pintura (marcador ou página)", f"{painted:.2f} s"), ("grid", f"{grid:.2f} s")],
    )


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
