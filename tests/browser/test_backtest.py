"""Backtest page in a real browser: run a backtest, see the equity curve and the trades."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def test_run_backtest_shows_equity_and_trades(app_server, page):
    page.goto(app_server + "/backtest")
    page.wait_for_selector("#backtest-params input")
    page.click("#backtest-run")
    page.wait_for_selector("#backtest-result-title", timeout=60_000)
    # equity vs buy-and-hold vs ^BVSP vs CDI
    page.wait_for_selector("#backtest-equity .scatterlayer .trace")
    assert page.locator("#backtest-equity .scatterlayer .trace").count() == 4
    assert "Estratégia" in page.inner_text("#backtest-equity")
    page.wait_for_selector("#backtest-trades .ag-row")
    assert page.locator("#backtest-trades .ag-row").count() > 5
    assert "IC 95%" in page.inner_text("#backtest-cards")
    page.wait_for_selector("#backtest-candles .boxlayer .trace")
    # exports: trades CSV and the HTML report
    with page.expect_download() as dl:
        page.click("#backtest-export-csv")
    csv_text = open(dl.value.path(), encoding="utf-8").read()
    # pt-BR for Excel by default: ";", Portuguese headers, dd/mm/aaaa, decimal comma
    assert (
        csv_text.startswith("\ufeffAtivo;Lado;Entrada;Preço entrada (R$)") and "PETR4" in csv_text
    )
    first = csv_text.splitlines()[1].split(";")
    assert first[2].count("/") == 2 and "," in first[3]
    with page.expect_download() as dl:
        page.click("#backtest-export-html")
    html = open(dl.value.path(), encoding="utf-8").read()
    assert dl.value.suggested_filename.endswith(".html") and "Operações" in html
    assert len(html.encode()) < 1_000_000  # no 4,8 MB copy of plotly.js
    assert "fast=" not in html and "Média rápida (barras): 10" in html
    assert "PETR4" in page.inner_text("#backtest-result-title") or "Backtest nº" in page.inner_text(
        "#backtest-result-title"
    )


def test_ml_filter_without_model_shows_message(app_server, page):
    page.goto(app_server + "/backtest")
    page.wait_for_selector("#backtest-params input")
    page.click("#backtest-strategy")
    page.get_by_role("listbox").get_by_text("Filtro de ML (modelo campeão)").click()
    page.wait_for_selector("text=Estratégia base")
    page.click("#backtest-run")
    alert = page.wait_for_selector("#backtest-alert", timeout=60_000)
    page.wait_for_function(
        "document.querySelector('#backtest-alert') && "
        "document.querySelector('#backtest-alert').innerText.includes('nenhum modelo')"
    )
    assert "nenhum modelo treinado/promovido" in alert.inner_text()


def _choose_strategy(page, label):
    page.click("#backtest-strategy")
    page.get_by_role("listbox").get_by_text(label).click()


def test_compare_two_runs_and_reopen_by_url(app_server, page):
    page.goto(app_server + "/backtest")
    page.wait_for_selector("#backtest-params input")
    ids = []
    for label, marker in (
        (None, "Média rápida"),
        ("Rompimento (canal de Donchian)", "Canal de entrada"),
    ):
        if label:
            _choose_strategy(page, label)
        page.wait_for_selector(f"#backtest-params >> text={marker}")
        # no fixed sleep: wait until no callback is updating a component any more
        page.wait_for_function("!document.querySelector('[data-dash-is-loading=\"true\"]')")
        before = page.inner_text("#backtest-title")
        page.click("#backtest-run")
        page.wait_for_function(
            "(b) => { const t = document.querySelector('#backtest-title');"
            " return t && t.innerText.includes('nº') && t.innerText !== b; }",
            arg=before,
            timeout=60_000,
        )
        ids.append(page.inner_text("#backtest-result-title").split("nº ")[1].split(":")[0])
    page.get_by_role("tab", name="Comparar / reabrir").click()
    page.wait_for_function(
        "(ids) => { const cells = Array.from(document.querySelectorAll("
        "'#backtest-runs .ag-center-cols-container .ag-cell[col-id=\"id\"]'));"
        " const seen = cells.map(c => c.textContent.trim());"
        " return ids.every(i => seen.includes(i)); }",
        arg=ids,
    )
    for rid in ids:
        cell = page.locator(
            "#backtest-runs .ag-center-cols-container .ag-cell[col-id='id']",
            has_text=re.compile(rf"^\s*{rid}\s*$"),
        )
        cell.first.click(modifiers=["Control"])
    page.click("#backtest-compare")
    page.wait_for_selector("#backtest-compare-table")
    text = page.inner_text("#backtest-compare-table")
    assert "Cruzamento de médias (SMA)" in text and "Rompimento (canal de Donchian)" in text
    assert "Sharpe" in text and "sma_cross" not in text
    page.wait_for_selector("#backtest-compare-fig .scatterlayer .trace")
    # reopen a stored run by its URL
    page.goto(f"{app_server}/backtest?run={ids[0]}")
    page.wait_for_selector("#backtest-result-title")
    assert f"nº {ids[0]}" in page.inner_text("#backtest-result-title")


def test_walk_forward_one_click(app_server, page):
    page.goto(app_server + "/backtest")
    page.wait_for_selector("#backtest-params input")
    page.get_by_role("tab", name="Walk-forward").click()
    page.fill("#backtest-wf-windows", "2")
    page.fill("#backtest-wf-trials", "5")
    page.click("#backtest-wf-run")
    page.wait_for_selector("#backtest-wf-table", timeout=60_000)
    text = page.inner_text("#backtest-wf-table")
    assert "Média rápida (barras):" in text and "fast=" not in text
    page.wait_for_selector("#backtest-wf-equity .scatterlayer .trace")
    page.wait_for_selector("#backtest-wf-heatmap .heatmaplayer, #backtest-wf-heatmap .hm")
    assert "salvo como backtest nº" in page.inner_text("#backtest-wf-saved")


def test_day_trade_on_win_5min(app_server, page):
    """Issue 14: interval selector, day trade and contracts on the bundled WINFUT."""
    page.goto(app_server + "/backtest")
    page.wait_for_selector("#backtest-params input")
    _choose_strategy(page, "Rompimento da faixa de abertura (intraday)")
    page.wait_for_selector("#backtest-params >> text=Barras da faixa de abertura")
    page.locator("#backtest-tickers .Select-clear, #backtest-tickers [class*=clear]").first.click()
    page.click("#backtest-tickers")
    page.keyboard.type("WINFUT")
    page.keyboard.press("Enter")
    page.select_option("#backtest-interval", "5min")
    page.click("#backtest-day-trade")
    page.click("#backtest-sizing")
    page.get_by_role("listbox").get_by_text("Quantidade fixa (contratos/ações)").click()
    page.fill("#backtest-size-value", "2")
    page.wait_for_function("!document.querySelector('[data-dash-is-loading=\"true\"]')")
    page.click("#backtest-run")
    page.wait_for_function(
        "() => { const t = document.querySelector('#backtest-title');"
        " return t && t.innerText.includes('5 minutos') && t.innerText.includes('day trade'); }",
        timeout=90_000,
    )
    assert "WINFUT" in page.inner_text("#backtest-title")
    page.wait_for_selector("#backtest-trades .ag-row")
    assert page.locator("#backtest-trades .ag-row").count() > 5
    first = page.locator("#backtest-trades .ag-center-cols-container .ag-row").first
    text = first.inner_text()
    # intraday: entry with its time; futures: prices in points, not R$
    assert re.search(r"\d\d/\d\d/20\d\d \d\d:\d\d", text) and " pts" in text
