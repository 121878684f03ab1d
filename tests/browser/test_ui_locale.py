"""Portuguese, sortable, filterable and themed, checked in real Chromium on every page.

Grids: AG Grid texts in Portuguese, numeric sort and a numeric filter on what is displayed
("Mês > 10" means 10 %). Charts: the pt-BR Plotly locale (modebar texts) on every graph.
Dark theme: every figure, the date inputs and the dropdowns of every page follow the switch.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PAGES = ["/", "/quotes?ticker=PETR4", "/backtest", "/portfolio", "/models", "/data", "/trading"]
READY = {
    "/": ".ag-row",
    "/quotes?ticker=PETR4": "#quotes-graph .main-svg",
    "/backtest": "#backtest-equity .main-svg",
    "/portfolio": "#portfolio-frontier .main-svg",
    "/models": "#models-train",
    "/data": "#data-instruments .ag-row",
    "/trading": "#trading-equity .main-svg",
}

GRID_API = "id => dash_ag_grid.getApi(id)"


def _rows_in_order(page, grid_id: str, field: str) -> list:
    return page.evaluate(
        f"""() => {{ const api = dash_ag_grid.getApi('{grid_id}'); const out = [];
            api.forEachNodeAfterFilterAndSort(n => out.push(n.data['{field}'])); return out; }}"""
    )


def test_market_grid_sorts_numbers_and_filters_in_percent(page, app_server):
    page.goto(app_server + "/")
    page.wait_for_selector('.ag-row[row-id="PETR4"]')
    # a click on the header sorts numerically (not "-12,05%" < "-2,17%" as text)
    page.click('.ag-header-cell[col-id="chg_1m"] .ag-header-cell-label')
    page.wait_for_function(
        "() => dash_ag_grid.getApi('market-grid').getColumnState()"
        ".some(c => c.colId === 'chg_1m' && c.sort)"
    )
    vals = [v for v in _rows_in_order(page, "market-grid", "chg_1m") if v is not None]
    assert vals == sorted(vals) or vals == sorted(vals, reverse=True)
    shown = page.inner_text('.ag-row[row-id="PETR4"] [col-id="chg_1m"]')
    assert shown.endswith("%") and "," in shown
    # "Mês > 10": the filter takes the percent the trader reads
    expected = [v for v in vals if v > 10]
    assert expected, "the bundled data has a stock up more than 10 % in a month"
    page.evaluate(
        """() => { const api = dash_ag_grid.getApi('market-grid');
            api.setColumnFilterModel('chg_1m', {filterType: 'number', type: 'greaterThan',
                                                filter: 10}).then(() => api.onFilterChanged()); }"""
    )
    page.wait_for_function(
        f"() => dash_ag_grid.getApi('market-grid').getDisplayedRowCount() === {len(expected)}"
    )
    # an impossible filter shows the Portuguese empty-grid message
    page.evaluate(
        """() => { const api = dash_ag_grid.getApi('market-grid');
            api.setColumnFilterModel('chg_1m', {filterType: 'number', type: 'greaterThan',
                                                filter: 1e6}).then(() => api.onFilterChanged()); }"""
    )
    overlay = page.wait_for_selector(".ag-overlay-no-rows-center, .ag-overlay-wrapper")
    assert "Nenhuma linha" in overlay.inner_text()


def test_grid_filter_menu_and_pagination_in_portuguese(page, app_server):
    page.goto(app_server + "/data")
    page.wait_for_selector("#data-instruments .ag-row")
    pager = page.inner_text("#data-instruments .ag-paging-panel")
    assert "Linhas por página" in pager and " a " in pager and " de " in pager
    assert "Page" not in pager and " of " not in pager
    page.locator(
        '#data-instruments .ag-header-cell[col-id="n_bars"] .ag-header-cell-filter-button'
    ).click()
    menu = page.wait_for_selector(".ag-filter")
    text = menu.inner_text()
    assert "Filtrar..." in page.evaluate(
        "() => Array.from(document.querySelectorAll('.ag-filter input')).map(i => i.placeholder).join(' ')"
    )
    page.locator(".ag-filter input").first.fill("3000")
    page.wait_for_selector(".ag-filter .ag-filter-condition")
    text = page.inner_text(".ag-filter")
    assert "E" in text and "OU" in text and "AND" not in text
    # the count column sorts as numbers
    page.keyboard.press("Escape")
    page.click('#data-instruments .ag-header-cell[col-id="n_bars"] .ag-header-cell-label')
    vals = _rows_in_order(page, "data-instruments", "n_bars")
    assert vals == sorted(vals) or vals == sorted(vals, reverse=True)


def test_plotly_locale_and_ticker_search(page, app_server):
    page.goto(app_server + "/quotes?ticker=PETR4")
    page.wait_for_selector("#quotes-graph .main-svg")
    locale = page.evaluate(
        "() => document.querySelector('#quotes-graph .js-plotly-plot')._context.locale"
    )
    assert locale == "pt-BR"
    titles = page.evaluate(
        "() => Array.from(document.querySelectorAll('#quotes-graph .modebar-btn'))"
        ".map(b => b.getAttribute('data-title'))"
    )
    assert "Baixar o gráfico como PNG" in titles and "Download plot as a png" not in titles
    # candlestick hover in Portuguese with the decimal comma
    hover = page.evaluate(
        """() => { const g = document.querySelector('#quotes-graph .js-plotly-plot');
            Plotly.Fx.hover(g, [{curveNumber: 0, pointNumber: 20}]);
            return Array.from(g.querySelectorAll('.hoverlayer text')).map(t => t.textContent)
                .join(' '); }"""
    )
    hover = hover.lower()  # the OHLC readout capitalises its labels ("Abertura: R$ 34,21")
    assert "abertura:" in hover and "fechamento:" in hover and "open:" not in hover
    assert "," in hover.split("fechamento:")[1][:12]
    # accents and case do not matter: "itau" finds Itaú
    page.click("#quotes-ticker")
    search = page.wait_for_selector(".dash-dropdown-search")
    page.wait_for_function(
        "() => document.activeElement.classList.contains('dash-dropdown-search')", timeout=5_000
    )
    search.fill("itau")
    opt = page.wait_for_selector(".dash-dropdown-option >> text=Itaú Unibanco")
    assert "ITUB4" in opt.inner_text()
    opt.click()
    page.wait_for_url("**ticker=ITUB4*")


def test_backtest_date_picker_in_portuguese_within_the_data(page, app_server):
    page.goto(app_server + "/backtest")
    page.wait_for_selector("#backtest-dates")
    end = page.input_value(".dash-datepicker-end-date")
    assert end == "14/11/2024"  # the stocks' last session, not today
    page.click(".dash-datepicker-end-date")
    cal = page.wait_for_selector(".dash-datepicker-content")
    assert "novembro 2024" in cal.inner_text().lower()
    assert "November" not in cal.inner_text()


@pytest.mark.parametrize("path", PAGES)
def test_dark_theme_reaches_every_figure_and_input(page, app_server, path):
    page.goto(app_server + path)
    page.wait_for_selector(READY[path], timeout=60_000)
    page.click("#theme-switch")
    page.wait_for_function("document.documentElement.getAttribute('data-bs-theme') === 'dark'")
    # every figure: dark template (server-built or restyled in the browser)
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot')).every(g =>
            g.layout && g.layout.template && g.layout.template.layout &&
            g.layout.template.layout.paper_bgcolor === window.pregaoThemes.dark.layout.paper_bgcolor)""",
        timeout=20_000,
    )
    # inputs: the background of dropdowns and date inputs is dark, the text light
    colours = page.evaluate(
        """() => Array.from(document.querySelectorAll('.dash-dropdown, .dash-datepicker-input-wrapper, .form-control'))
            .filter(e => e.offsetParent !== null)
            .map(e => { const s = getComputedStyle(e); return [s.backgroundColor, s.color]; })"""
    )

    def lum(css: str) -> float:
        nums = [float(x) for x in css[css.index("(") + 1 : css.index(")")].split(",")[:3]]
        return sum(nums) / 3

    for bg, fg in colours:
        if "rgba(0, 0, 0, 0)" in bg:
            continue  # transparent: the dark card behind shows
        assert lum(bg) < 100 and lum(fg) > 150, (path, bg, fg)
