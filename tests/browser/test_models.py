"""Models page in headless Chromium: train with progress, see results, promote, predictions."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def test_models_page_trains_with_progress_and_promotes(app_server, page):
    page.goto(app_server + "/models")
    page.wait_for_selector("#models-train")
    # one fast model on one ticker, holdout: keeps the test short on 2 cores
    for box in page.locator("#models-models input[type=checkbox]").all():
        if box.is_checked():
            box.uncheck()
    page.locator("#models-models label", has_text="Regressão logística").click()
    page.select_option("#models-validation select, select#models-validation", "walk-forward")
    page.fill("#models-folds", "3")
    page.click("#models-train")
    # progress messages arrive through the job tracker (fold i of n, model j of m, then
    # "Treino concluído"); a fast job may skip the intermediate ones.
    page.wait_for_function(
        "() => (document.querySelector('#models-progress-label')||{}).innerText"
        " && /dobra|Carregando|concluído/.test("
        "document.querySelector('#models-progress-label').innerText)",
        timeout=45_000,
    )
    # calibration (3 inner fits per fold) and the engine backtest of the signals make the
    # job longer than before: 150 s on the shared 2-core machine
    page.wait_for_selector(".models-result", timeout=150_000)
    card = page.locator(".models-result").first
    text = card.inner_text()
    assert "Acurácia" in text and "IC 95%" in text
    # one p-value, the minimum detectable effect, skill scores, bins, engine trading view
    assert "maior entre binomial" in text and "Efeito mínimo detectável" in text
    assert "Habilidade de log-loss" in text and "Faixa comprovada" in text
    assert "Sharpe (vs CDI)" in text and "caixa parado rende o CDI" in text
    # the retrain (weekly job's function) and the meta-labelling sections are on the page
    assert page.locator("#models-retrain").is_visible()
    assert page.locator("#models-meta-run").is_visible()
    assert "Sempre alta" in text and "Direção anterior" in text
    assert re.search(r"n = [\d.]+", text)
    # confusion, ROC, calibration, importance, equity (plotly renders asynchronously)
    page.wait_for_function(
        "() => document.querySelectorAll('.models-result .js-plotly-plot').length >= 4",
        timeout=20_000,
    )
    # the registry shows the new challenger
    page.wait_for_selector("#models-registry-table")
    # promote: a gate report is shown whichever way it goes
    card.locator("button", has_text="Promover").click()
    page.wait_for_selector("#models-gate-alert", timeout=20_000)
    alert = page.locator("#models-gate-alert").inner_text()
    assert "Acurácia mínima" in alert and "regra" in alert
    # default gates: significance after Holm is required; PETR4 logistic regression has none
    assert "Valor-p vs. referência" in alert
    if "promovido a campeão" in alert:
        page.wait_for_selector("#models-predictions-table", timeout=20_000)
        assert page.locator("#models-predictions-table tbody tr").count() >= 20
    else:
        assert "não promovido" in alert


def test_models_page_shows_error_without_tickers(app_server, page):
    page.goto(app_server + "/models")
    page.wait_for_selector("#models-train")
    # anomalous sessions of the default ticker are listed with a severity
    page.wait_for_selector("#models-anomalies-table", timeout=30_000)
    assert page.locator("#models-anomalies-table tbody tr").count() >= 5
    page.locator("#models-tickers .Select-clear, #models-tickers [class*=clear]").first.click()
    page.click("#models-train")
    page.wait_for_selector("#models-error", timeout=30_000)
    assert "Escolha pelo menos um ativo" in page.inner_text("#models-error")
