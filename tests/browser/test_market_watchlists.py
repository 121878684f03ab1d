"""Mercado's named watchlists in real Chromium: create, fill, choose (remembered), rename,
delete; and the sector treemap following the theme switch."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

ROWS_JS = """() => Array.from(document.querySelectorAll('#market-grid .ag-center-cols-container .ag-row'))
    .map(r => r.getAttribute('row-id')).sort().join(',')"""


def _rows(page, expected: str) -> None:
    page.wait_for_function(f"() => ({ROWS_JS})() === {expected!r}", timeout=20_000)


def _choose_list(page, label: str) -> None:
    page.click("#market-list")
    page.click(f".dash-dropdown-option >> text={label}")


def test_named_watchlists_round_trip(page, app_server):
    page.goto(app_server + "/")
    page.wait_for_selector('.ag-row[row-id="PETR4"]')
    assert "Minha lista" in page.inner_text("#market-list")
    # a new, empty list is shown at once
    page.fill("#market-list-name", "Bancos")
    page.click("#market-list-create")
    page.wait_for_function(
        "() => document.querySelector('#market-list').innerText.includes('Bancos (0)')"
    )
    _rows(page, "")
    # fill it from "Todos"
    page.get_by_role("radio", name="Todos", exact=True).check()
    page.wait_for_selector('.ag-row[row-id="ITUB4"]')
    for t in ("ITUB4", "BBAS3"):
        page.click(f'.ag-row[row-id="{t}"] .ag-selection-checkbox input')
    page.click("#market-watch-add")
    page.wait_for_function(
        "() => document.querySelector('#market-watch-msg').innerText.includes('lista Bancos')"
    )
    page.get_by_role("radio", name="Bancos (2)").check()
    _rows(page, "BBAS3,ITUB4")
    # the choice survives a new visit
    page.reload()
    page.wait_for_selector('.ag-row[row-id="ITUB4"]')
    _rows(page, "BBAS3,ITUB4")
    assert "Bancos (2)" in page.inner_text("#market-list")
    # switch to the default list and back
    _choose_list(page, "Minha lista")
    page.wait_for_selector('.ag-row[row-id="PETR4"]')
    _choose_list(page, "Bancos")
    _rows(page, "BBAS3,ITUB4")
    # rename, then delete: Mercado falls back to "Minha lista"
    page.fill("#market-list-name", "Financeiro")
    page.click("#market-list-rename")
    page.wait_for_function(
        "() => document.querySelector('#market-list').innerText.includes('Financeiro (2)')"
    )
    page.click("#market-list-delete")
    page.wait_for_function(
        "() => document.querySelector('#market-list').innerText.includes('Minha lista')"
    )
    page.wait_for_selector('.ag-row[row-id="PETR4"]')
    page.click("#market-list")
    options = (
        page.inner_text(".dash-dropdown-content")
        if page.query_selector(".dash-dropdown-content")
        else ""
    )
    assert "Financeiro" not in options
    page.keyboard.press("Escape")
    # a duplicate or empty name is refused with one message
    page.click("#market-list-create")
    page.wait_for_function(
        "() => document.querySelector('#market-watch-msg').innerText.includes('nome')"
    )


def test_sector_treemap_follows_the_theme_switch(page, app_server):
    page.goto(app_server + "/")
    page.wait_for_selector("#market-treemap .treemaplayer")
    bg = (
        """() => document.querySelector('#market-treemap .js-plotly-plot')._fullLayout.font.color"""
    )
    light_font = page.evaluate(bg)
    page.click("#theme-switch")
    page.wait_for_function(
        """() => { const g = document.querySelector('#market-treemap .js-plotly-plot');
            return g.layout.template.layout.paper_bgcolor === window.pregaoThemes.dark.layout.paper_bgcolor
                && g._fullLayout.paper_bgcolor === 'rgba(0,0,0,0)'; }"""
    )
    assert page.evaluate(bg) != light_font
    page.click("#theme-switch")
    page.wait_for_function(
        """() => { const g = document.querySelector('#market-treemap .js-plotly-plot');
            return g.layout.template.layout.paper_bgcolor === window.pregaoThemes.light.layout.paper_bgcolor; }"""
    )
