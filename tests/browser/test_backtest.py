"""Backtest page in a real browser: run a backtest, see the equity curve and the trades."""

from __future__ import annotations

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
    assert "PETR4" in page.inner_text("#backtest-result-title") or "Backtest nº" in page.inner_text(
        "#backtest-result-title"
    )


def test_ml_filter_without_model_shows_message(app_server, page):
    page.goto(app_server + "/backtest")
    page.wait_for_selector("#backtest-params input")
    page.click("#backtest-strategy")
    page.get_by_text("Filtro de ML (modelo campeão) (ml_filter)").click()
    page.wait_for_selector("text=Estratégia base")
    page.click("#backtest-run")
    alert = page.wait_for_selector("#backtest-alert", timeout=60_000)
    page.wait_for_function(
        "document.querySelector('#backtest-alert') && "
        "document.querySelector('#backtest-alert').innerText.includes('nenhum modelo')"
    )
    assert "nenhum modelo treinado/promovido" in alert.inner_text()
