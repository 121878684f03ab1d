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
    assert csv_text.startswith("ticker,direction,entry_date") and "PETR4" in csv_text
    with page.expect_download() as dl:
        page.click("#backtest-export-html")
    html = open(dl.value.path(), encoding="utf-8").read()
    assert dl.value.suggested_filename.endswith(".html") and "Operações" in html
    assert "PETR4" in page.inner_text("#backtest-result-title") or "Backtest nº" in page.inner_text(
        "#backtest-result-title"
    )


def test_ml_filter_without_model_shows_message(app_server, page):
    page.goto(app_server + "/backtest")
    page.wait_for_selector("#backtest-params input")
    page.click("#backtest-strategy")
    page.get_by_role("listbox").get_by_text("Filtro de ML (modelo campeão) (ml_filter)").click()
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
        ("Rompimento (canal de Donchian) (breakout)", "Canal de entrada"),
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
    assert "sma_cross" in text and "breakout" in text and "Sharpe" in text
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
    assert "fast=" in text and "slow=" in text
    page.wait_for_selector("#backtest-wf-equity .scatterlayer .trace")
    page.wait_for_selector("#backtest-wf-heatmap .heatmaplayer, #backtest-wf-heatmap .hm")
    assert "salvo como backtest nº" in page.inner_text("#backtest-wf-saved")
