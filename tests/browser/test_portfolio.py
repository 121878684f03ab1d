"""The Carteira page in a real browser: nothing computed on load, a run draws and stores the
frontier with the walk-forward test, an error clears the old result and says where it came
from, a saved portfolio loads back into the controls."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def _run_and_wait(page):
    """Click Calcular and wait for *this* run's result: the job's own "Pronto" line (a result
    restored from an earlier run of the module's app is on screen before the click)."""
    page.click("#portfolio-run")
    page.wait_for_function(
        "() => { const e = document.querySelector('#portfolio-progress-label');"
        " return e && e.innerText.startsWith('Pronto: carteira calculada'); }",
        timeout=480_000,
    )
    page.wait_for_selector("#portfolio-stored-banner", state="detached", timeout=480_000)
    page.wait_for_selector("#portfolio-window", timeout=480_000)


def test_load_computes_nothing_then_a_run_draws_and_stores(app_server, page):
    """Regression (issue 11): the first load ran the default portfolio (6,5 s)."""
    page.goto(app_server + "/portfolio")
    page.wait_for_selector("#portfolio-run")
    # no fixed sleep: once no callback is updating anything, nothing has started
    page.wait_for_function("!document.querySelector('[data-dash-is-loading=\"true\"]')")
    if page.locator("#portfolio-stored-banner").count() == 0:
        assert page.locator("#portfolio-window").count() == 0
    assert page.locator("#portfolio-progress-label").inner_text() == ""
    assert page.is_enabled("#portfolio-run") and page.is_disabled("#portfolio-cancel")
    _run_and_wait(page)
    page.wait_for_selector("#portfolio-frontier .scatterlayer .trace .points path")
    n_points = (
        page.locator("#portfolio-frontier .scatterlayer .trace")
        .first.locator(".points path")
        .count()
    )
    assert n_points >= 50
    text = page.inner_text("#portfolio-frontier")
    assert "^BVSP" in text and "PETR4" in text
    assert "limitada por" in page.inner_text("#portfolio-window")
    page.wait_for_selector("#portfolio-orders-table")
    page.wait_for_selector("#portfolio-oos-table")
    oos = page.inner_text("#portfolio-oos-section")
    assert "Walk-forward" in oos and "Mínima variância" in oos and "CDI" in oos
    assert "sobrevivência" in oos
    # Reloading shows the stored result without computing it again.
    page.goto(app_server + "/portfolio")
    page.wait_for_selector("#portfolio-stored-banner")
    page.wait_for_selector("#portfolio-window")


def test_error_clears_the_previous_result(app_server, page):
    page.goto(app_server + "/portfolio")
    page.wait_for_selector("#portfolio-run")
    page.click("#portfolio-oos input")  # quicker: no walk-forward
    _run_and_wait(page)
    page.fill("#portfolio-wmax", "5")
    page.press("#portfolio-wmax", "Enter")
    page.click("#portfolio-run")
    alert = page.wait_for_selector("#portfolio-message .alert-danger", timeout=60_000)
    assert "não permitem pesos somando 100%" in alert.inner_text()
    # Regression (issue 10): the old result stayed on screen under the error.
    page.wait_for_selector("#portfolio-window", state="detached")
    assert page.locator("#portfolio-frontier .scatterlayer .trace").count() == 0


def test_saved_portfolio_loads_into_the_controls(app_server, page):
    page.goto(app_server + "/portfolio")
    page.wait_for_selector("#portfolio-run")
    page.click("#portfolio-oos input")
    page.click("#portfolio-objective")
    page.get_by_role("option", name="Mínima volatilidade", exact=True).click()
    page.fill("#portfolio-wmax", "40")
    page.press("#portfolio-wmax", "Enter")
    _run_and_wait(page)
    page.fill("#portfolio-save-name", "teste carregar")
    page.click("#portfolio-save")
    page.wait_for_selector("#portfolio-save-message .alert-success")
    # Change the controls, then load the saved portfolio back.
    page.fill("#portfolio-wmax", "100")
    page.press("#portfolio-wmax", "Enter")
    page.click("#portfolio-objective")
    page.get_by_role("option", name="Hierarchical Risk Parity", exact=True).click()
    page.click("#portfolio-load-name")
    page.get_by_role("option", name="teste carregar", exact=True).click()
    page.click("#portfolio-load")
    page.wait_for_selector("#portfolio-load-message .alert-success")
    assert page.input_value("#portfolio-wmax") == "40"
    assert "Mínima volatilidade" in page.inner_text("#portfolio-objective")
