"""The Carteira page in a real browser: the default frontier is drawn; infeasible input is told."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_first_load_computes_nothing_then_default_frontier_on_request(app_server, page):
    page.goto(app_server + "/portfolio")
    page.wait_for_selector("#portfolio-run")
    # the page load computes nothing: the form and an invitation to compute
    page.wait_for_function(
        "(document.querySelector('#portfolio-frontier') || {}).innerText"
        " && document.querySelector('#portfolio-frontier').innerText.includes('clique em Calcular')"
    )
    assert page.locator("#portfolio-window").count() == 0
    page.click("#portfolio-run")
    page.wait_for_selector("#portfolio-window", timeout=60_000)
    # The frontier trace is an SVG path with ≥ 50 markers; the assets and ^BVSP are labelled.
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
    # Allocation in lots and the out-of-sample check are shown.
    page.wait_for_selector("#portfolio-orders-table")
    page.wait_for_selector("#portfolio-oos-table")
    orders = page.inner_text("#portfolio-orders-table")
    assert "lote" in orders or "fracionário" in orders
    # leave and come back: the last result is shown again without computing it again
    page.click("#nav-links a:has-text('Mercado')")
    page.wait_for_selector("#market-freshness")
    page.click("#nav-links a:has-text('Carteira')")
    page.wait_for_selector("#portfolio-window", timeout=30_000)
    assert "Pronto" in page.inner_text("#portfolio-progress-label")
    assert page.is_enabled("#portfolio-run") and page.is_disabled("#portfolio-cancel")


def test_infeasible_bounds_show_the_message(app_server, page):
    page.goto(app_server + "/portfolio")
    page.wait_for_selector("#portfolio-run")
    page.click("#portfolio-run")
    page.wait_for_selector("#portfolio-window", timeout=60_000)
    page.wait_for_function("!document.querySelector('#portfolio-run').disabled")
    page.fill("#portfolio-wmax", "5")
    page.press("#portfolio-wmax", "Enter")
    page.click("#portfolio-run")
    alert = page.wait_for_selector("#portfolio-message .alert", timeout=30_000)
    assert "não permitem pesos somando 100%" in alert.inner_text()
    # The previous frontier stays on screen.
    assert page.locator("#portfolio-frontier .scatterlayer .trace").count() > 3
