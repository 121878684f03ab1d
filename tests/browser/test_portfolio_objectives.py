"""Every objective runs from the Carteira page (picked in the dropdown, run, drawn)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

OBJECTIVES = [
    ("Mínima volatilidade", None),
    ("Retorno-alvo (mín. risco)", "10"),
    ("Volatilidade-alvo (máx. retorno)", "30"),
    ("Máxima utilidade quadrática", None),
    ("Hierarchical Risk Parity", None),
    ("Mínimo CVaR", None),
    ("Máximo Sharpe (tangente)", None),
]


def test_every_objective_from_the_page(app_server, page):
    page.goto(app_server + "/portfolio")
    page.wait_for_selector("#portfolio-run", timeout=60_000)
    # Smaller, faster runs: no out-of-sample, no allocation, 20 frontier points.
    page.click("#portfolio-oos input")
    page.fill("#portfolio-points", "20")
    page.press("#portfolio-points", "Enter")
    for label, target in OBJECTIVES:
        page.click("#portfolio-objective")
        page.get_by_role("option", name=label, exact=True).click()
        page.fill("#portfolio-target", target or "")
        page.press("#portfolio-target", "Enter")
        page.click("#portfolio-run")
        page.wait_for_function(
            "t => (document.querySelector('#portfolio-objective-used') || {}).innerText"
            " === 'Objetivo: ' + t + '.'",
            arg=label,
            timeout=90_000,
        )
        assert page.locator("#portfolio-message .alert").count() == 0, label
        assert page.locator("#portfolio-frontier .scatterlayer .trace").count() >= 6
    # CVaR card appeared for the CVaR run earlier; the last one is max Sharpe again.
    assert "Tangente" in page.inner_text("#portfolio-frontier")
