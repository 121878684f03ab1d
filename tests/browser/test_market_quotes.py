"""The Market and Quotes pages in real headless Chromium, against the real app process."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

FIGURE_JS = """() => {
  const el = document.querySelector('#quotes-graph .js-plotly-plot');
  if (!el || !el.data) return null;
  const c = el.data.find(t => t.type === 'candlestick');
  return {n: el.data.length, candle_last: c ? String(c.x[c.x.length - 1]).slice(0, 10) : null,
          candle_len: c ? c.x.length : 0, meta: el.layout.meta || null,
          titles: (el.layout.annotations || []).map(a => a.text)};
}"""


def _figure(page):
    return page.evaluate(FIGURE_JS)


def _wait_figure(page, predicate, timeout=30_000):
    page.wait_for_function(
        f"() => {{ const f = ({FIGURE_JS})(); return f && ({predicate}); }}",
        timeout=timeout,
        polling=100,  # requestAnimationFrame polling stalls while Plotly draws 2,000 candles
    )
    return _figure(page)


def test_market_click_opens_quotes_and_rsi_panel(page, app_server, tmp_path):
    page.goto(app_server + "/")
    page.wait_for_selector('.ag-row[row-id="PETR4"]')
    assert "Dados até 14/11/2024" in page.inner_text("#market-freshness")
    page.screenshot(path=str(tmp_path / "market.png"), full_page=True)  # never a tracked file
    # the one-month sparkline in the grid and the sector treemap sized by traded value
    spark = page.inner_text('.ag-row[row-id="PETR4"] [col-id="spark"]')
    assert len(spark) >= 10 and set(spark) <= set("▁▂▃▄▅▆▇█")
    page.wait_for_selector("#market-treemap .treemaplayer")
    labels = page.evaluate(
        "() => document.querySelector('#market-treemap .js-plotly-plot').data[0].labels"
    )
    assert "Financeiro" in labels and "PETR4" in labels and "^BVSP" not in labels
    page.click('.ag-row[row-id="PETR4"] [col-id="ticker"]')
    page.wait_for_url("**/quotes?ticker=PETR4*")
    fig = _wait_figure(page, "f.candle_len > 0")
    assert fig["candle_last"] == "2024-11-14"  # the last bundled session of PETR4
    assert "rsi" not in fig["meta"]["panels"]
    page.get_by_label("IFR (RSI 14)").check()
    fig = _wait_figure(page, "f.meta && f.meta.panels.includes('rsi')")
    assert "IFR 14" in fig["titles"]
    page.wait_for_url("**panels=rsi*")
    page.screenshot(path=str(tmp_path / "quotes.png"), full_page=True)


def test_range_presets_change_the_range(page, app_server):
    page.goto(app_server + "/quotes?ticker=PETR4")
    one_year = _wait_figure(page, "f.meta && f.meta.ticker === 'PETR4'")["candle_len"]
    assert 230 < one_year < 260
    page.locator("#quotes-preset label", has_text="5A").click()
    fig = _wait_figure(page, f"f.candle_len > {one_year * 4}")
    assert fig["candle_last"] == "2024-11-14"
    page.wait_for_url("**range=5A*")
    page.locator("#quotes-preset label", has_text="1M").click()
    fig = _wait_figure(page, "f.candle_len < 30")
    assert page.locator("#quotes-preset input[value='1M']").is_checked()


def test_url_reproduces_the_view(page, app_server):
    url = app_server + "/quotes?ticker=VALE3&range=5A&sma=20,50&panels=macd,adx&cmp=1&adj=1"
    page.goto(url)
    fig = _wait_figure(page, "f.meta && f.meta.ticker === 'VALE3'")
    assert fig["meta"]["panels"] == ["macd", "adx"]
    assert "Comparação com ^BVSP (base 100)" in fig["titles"]
    assert page.get_by_label("Ajustados por proventos").is_checked()
    assert page.input_value("#quotes-sma") == "20,50"


def test_anomalies_toggle(page, app_server):
    page.goto(app_server + "/quotes?ticker=PETR4&range=5A")
    _wait_figure(page, "f.meta && f.meta.ticker === 'PETR4'")
    page.get_by_label("anomalias (IsolationForest)").check()
    page.wait_for_function(
        "() => { const el = document.querySelector('#quotes-graph .js-plotly-plot');"
        " return el && el.data.some(t => t.name === 'Anomalias'); }"
    )
    assert "anômala" in page.inner_text("#quotes-anomaly-list")
    page.wait_for_url("**anom=1*")


def test_unknown_ticker_shows_close_matches(page, app_server):
    page.goto(app_server + "/quotes?ticker=PETR9")
    box = page.wait_for_selector("#quotes-unknown")
    text = box.inner_text()
    assert "PETR9" in text and "PETR4" in text and "PETR3" in text
    page.click("#quotes-unknown a:has-text('PETR4')")
    _wait_figure(page, "f.meta && f.meta.ticker === 'PETR4'")


def test_inverted_and_empty_ranges_show_a_message(page, app_server):
    page.goto(app_server + "/quotes?ticker=PETR4&start=2024-05-01&end=2024-01-01")
    assert "invertido" in page.wait_for_selector("#quotes-error").inner_text()
    page.goto(app_server + "/quotes?ticker=PETR4&start=2001-01-01&end=2001-03-01")
    assert "Nenhum pregão" in page.wait_for_selector("#quotes-error").inner_text()
    # the controls are still there: the page is not blank
    assert page.is_visible("#quotes-ticker")


def test_bad_period_input_keeps_chart_and_shows_one_message(page, app_server):
    """Regression: a typo in MMS blanked the chart and KPIs and showed the message twice."""
    page.goto(app_server + "/quotes?ticker=ITUB4")
    before = _wait_figure(page, "f.meta && f.meta.ticker === 'ITUB4'")
    page.fill("#quotes-sma", "20,abc")
    page.press("#quotes-sma", "Enter")
    assert "abc" in page.wait_for_selector("#quotes-input-error").inner_text()
    assert page.locator("text=abc").count() == 1  # once: no annotation in the figure
    assert "is-invalid" in page.get_attribute("#quotes-sma", "class")
    fig = _figure(page)
    assert fig["candle_len"] == before["candle_len"] and "abc" not in " ".join(fig["titles"])
    assert page.is_visible("#quotes-kpi-last")
    page.fill("#quotes-sma", "20")
    page.press("#quotes-sma", "Enter")
    page.wait_for_selector("#quotes-input-error", state="detached")


def test_export_csv_and_dark_theme(page, app_server):
    page.goto(app_server + "/quotes?ticker=PETR4&range=1M")
    _wait_figure(page, "f.meta && f.meta.ticker === 'PETR4'")
    with page.expect_download() as dl:
        page.click("#quotes-export")
    lines = Path(dl.value.path()).read_text(encoding="utf-8").strip().splitlines()
    # pt-BR by default: BOM for Excel, ";" separator, decimal comma, dd/mm/aaaa, Portuguese
    assert lines[0] == "\ufeffData;Abertura;Máxima;Mínima;Fechamento;Fechamento ajustado;Volume"
    last = lines[-1].split(";")
    assert last[0] == "14/11/2024" and "," in last[4] and "." not in last[4]
    assert dl.value.suggested_filename.startswith("PETR4_")
    page.locator("#quotes-export-machine input").check()
    with page.expect_download() as dl:
        page.click("#quotes-export")
    lines = Path(dl.value.path()).read_text(encoding="utf-8").strip().splitlines()
    assert lines[0] == "date,open,high,low,close,adj_close,volume"
    assert lines[-1].startswith("2024-11-14,")
    page.click("#theme-switch")
    page.wait_for_function("document.documentElement.getAttribute('data-bs-theme') === 'dark'")


def test_unknown_path_shows_portuguese_404(page, app_server):
    page.goto(app_server + "/nao-existe")
    assert "Página não encontrada" in page.wait_for_selector("#not-found").inner_text()
    # every page of the menu, and not the 404 page
    names = sorted(page.locator("#nav-links a").all_inner_texts())
    assert names == sorted(
        ["Mercado", "Cotações", "Backtest", "Carteira", "Operações", "Modelos", "Dados", "Alertas"]
    )


SPACING_JS = """() => {
  const el = document.querySelector('#quotes-graph .js-plotly-plot');
  const boxes = Array.from(el.querySelectorAll('.cartesianlayer .trace.boxes path.box'));
  const cs = boxes.map(p => { const m = /^M([\\d.]+),[\\d.]+H([\\d.]+)/.exec(p.getAttribute('d'));
    return m ? (parseFloat(m[1]) + parseFloat(m[2])) / 2 : null; }).filter(v => v !== null);
  const d = cs.slice(1).map((c, i) => c - cs[i]).sort((a, b) => a - b);
  return {n: cs.length, median: d[Math.floor(d.length / 2)], max: d[d.length - 1]};
}"""


def test_candles_are_evenly_spaced_without_gaps(page, app_server):
    """Known defect "Cotações 1A candles show gaps": every candle is one step from the last
    (weekends and holidays hidden); intraday also hides the nights (rangebreaks from the
    data's own session hours)."""
    page.goto(app_server + "/quotes?ticker=PETR4")
    _wait_figure(page, "f.meta && f.meta.ticker === 'PETR4' && f.candle_len > 200")
    page.wait_for_selector("#quotes-graph .trace.boxes path.box")
    s = page.evaluate(SPACING_JS)
    assert s["n"] > 200 and s["max"] < 1.3 * s["median"]
    page.goto(app_server + "/quotes?ticker=WINFUT&range=1M")
    _wait_figure(page, "f.meta && f.meta.ticker === 'WINFUT'")
    page.locator("#quotes-interval label", has_text="15min").click()
    fig = _wait_figure(page, "f.meta && f.meta.interval === '15min'")
    page.wait_for_url("**iv=15min*")
    assert fig["candle_len"] > 300
    page.wait_for_function(f"() => ({SPACING_JS})().n === {fig['candle_len']}")
    s = page.evaluate(SPACING_JS)
    assert s["max"] < 2.5 * s["median"]  # an early close (18:00 vs 18:15) at most: no night
    hours = page.evaluate(
        "() => document.querySelector('#quotes-graph .js-plotly-plot')._fullLayout.xaxis"
        ".rangebreaks.filter(r => r.pattern === 'hour').length"
    )
    assert hours == 1
    page.locator("#quotes-interval label", has_text="S").first.click()
    fig = _wait_figure(page, "f.meta && f.meta.interval === '1w'")
    assert fig["candle_len"] < 10


SHAPES_JS = """() => {
  const el = document.querySelector('#quotes-graph .js-plotly-plot');
  return el && el.layout ? (el.layout.shapes || []).map(s => ({name: s.name || '', y0: s.y0,
    label: s.label ? s.label.text : ''})) : null;
}"""


def test_a_drawn_level_is_saved_and_restored(page, app_server):
    """Issue 14: draw a horizontal level on WINFUT, reload the page, find it again."""
    page.goto(app_server + "/quotes?ticker=WINFUT&iv=15min&range=1M")
    _wait_figure(page, "f.meta && f.meta.interval === '15min'")
    page.locator("#quotes-draw-tool label", has_text="Nível horizontal").click()
    page.wait_for_function(
        "() => document.querySelector('#quotes-graph .js-plotly-plot').layout.dragmode"
        " === 'drawline'"
    )
    # what Plotly reports when the user finishes a line: the full list of shapes
    page.evaluate(
        """() => { const el = document.querySelector('#quotes-graph .js-plotly-plot');
        const c = el.data.find(t => t.type === 'candlestick');
        const s = {type: 'line', xref: 'x', yref: 'y', x0: c.x[10], x1: c.x[40],
                   y0: 110000, y1: 110800};
        Plotly.relayout(el, {shapes: (el.layout.shapes || []).concat([s])}); }"""
    )
    page.wait_for_function(
        f"() => ({SHAPES_JS})().some(s => s.name.startsWith('level:') && s.y0 === 110000)"
    )
    page.reload()
    _wait_figure(page, "f.meta && f.meta.interval === '15min'")
    shapes = page.evaluate(SHAPES_JS)
    levels = [s for s in shapes if s["name"].startswith("level:")]
    assert len(levels) == 1 and levels[0]["y0"] == 110000 and levels[0]["label"] == "110.000"
    page.goto(app_server + "/quotes?ticker=WINFUT&iv=D")  # another interval: still there
    _wait_figure(page, "f.meta && f.meta.interval === '1d'")
    assert any(s["name"].startswith("level:") for s in page.evaluate(SHAPES_JS))


def test_zoom_loads_detail_and_zoom_out_aggregates(page, app_server):
    """Issue 14: the whole 5-min WINFUT file (20k bars) is drawn aggregated; zooming into one
    morning loads its 5-min bars; back to the whole range aggregates again."""
    page.goto(app_server + "/quotes?ticker=WINFUT&iv=5min&range=M%C3%A1x")
    fig = _wait_figure(page, "f.meta && f.meta.interval === '5min'")
    assert fig["meta"]["shown_interval"] != "5min" and fig["candle_len"] <= 2000
    assert "aproxime para ver 5min" in fig["titles"][0]
    page.evaluate(
        "() => Plotly.relayout(document.querySelector('#quotes-graph .js-plotly-plot'),"
        " {'xaxis.range[0]': '2022-03-03 09:00', 'xaxis.range[1]': '2022-03-03 12:30'})"
    )
    fig = _wait_figure(page, "f.meta && f.meta.shown_interval === '5min'")
    assert 30 < fig["candle_len"] < 2000
    page.evaluate(
        "() => Plotly.relayout(document.querySelector('#quotes-graph .js-plotly-plot'),"
        " {'xaxis.autorange': true})"
    )
    fig = _wait_figure(page, "f.meta && f.meta.shown_interval !== '5min'")
    assert fig["candle_len"] <= 2000


def test_panel_periods_from_url_and_input(page, app_server):
    """Issue 14: lower-panel periods are editable (URL p_<panel> and the period inputs)."""
    page.goto(app_server + "/quotes?ticker=PETR4&panels=rsi,macd&p_rsi=9")
    fig = _wait_figure(page, "f.meta && f.meta.panels.includes('rsi')")
    assert "IFR 9" in fig["titles"] and "MACD (12, 26, 9)" in fig["titles"]
    assert page.input_value("#quotes-p-rsi") == "9"
    page.fill("#quotes-p-macd", "5,35,5")
    page.press("#quotes-p-macd", "Enter")
    _wait_figure(page, "f.titles.includes('MACD (5, 35, 5)')")
    page.wait_for_url("**p_macd=5,35,5*")


SIZE_JS = """() => { const g = document.querySelector('#quotes-graph .js-plotly-plot');
  const s = g._fullLayout._size, m = g.layout.margin;
  return {size: [s.l, s.r, s.t, s.b], margin: [m.l, m.r, m.t, m.b]}; }"""


@pytest.mark.parametrize(
    "query",
    [
        "ticker=WINFUT&iv=5min&range=M%C3%A1x",
        "ticker=PETR4&panels=rsi,macd&log=1",
        "ticker=PETR4&vs=VALE3",
    ],
)
def test_chart_is_drawn_in_one_pass(page, app_server, query):
    """Issue 14 (regression): the figure's margins already hold its tick labels, legends and
    axis titles, so Plotly's automargin never grows them and redraws the whole chart (the
    second pass was about half of the browser's draw time of the whole WINFUT file). Nor does
    plotly.js log a warning per volume/MACD bar (numeric bar colours: a ``console.trace``
    each, most of a zoom's redraw)."""
    warnings = []
    page.on("console", lambda m: warnings.append(m.text) if "color" in m.text else None)
    page.goto(app_server + "/quotes?" + query)
    _wait_figure(page, "f.candle_len > 0 || (f.meta && (f.meta.peers || []).length > 0)")
    page.wait_for_timeout(300)
    got = page.evaluate(SIZE_JS)
    assert got["size"] == got["margin"]
    if "WINFUT" in query:  # and after a zoom into one morning (5-min bars, a tick at the edge)
        page.evaluate(
            "() => Plotly.relayout(document.querySelector('#quotes-graph .js-plotly-plot'),"
            " {'xaxis.range[0]': '2022-03-03 09:00', 'xaxis.range[1]': '2022-03-03 12:30'})"
        )
        _wait_figure(page, "f.meta && f.meta.shown_interval === '5min'")
        page.wait_for_timeout(300)
        got = page.evaluate(SIZE_JS)
        assert got["size"] == got["margin"]
    assert not warnings, warnings[:3]


def test_native_string_functions_and_one_plotly_load(page, app_server):
    """Issue 14 (regression): Dash's core-js 2 polyfill replaced trim/parseInt/parseFloat with
    20-70x slower copies (plotly.js calls them for every style it sets): the page has the
    browser's own again (U+180E is not white space since Unicode 6.3: the polyfill trims it,
    the standard functions do not). On Cotações plotly.js starts loading with the page, from
    a fingerprinted (cacheable) URL, and is loaded once."""
    page.goto(app_server + "/quotes?ticker=WINFUT&iv=5min&range=M%C3%A1x")
    _wait_figure(page, "f.candle_len > 0")
    checks = page.evaluate(
        """() => [' a '.trim(), '\\u180e'.trim().length, Number.isNaN(parseInt('\\u180e1')),
        parseInt(' 0x1f'), parseFloat(' 1.5e3x'), '\\u180e'.trimStart().length,
        Number.parseFloat === parseFloat]"""
    )
    assert checks == ["a", 1, True, 31, 1500, 1, True]
    loads = page.evaluate(
        """() => performance.getEntriesByType('resource').map(e => e.name)
        .filter(n => /\\/plotly\\/package_data\\/plotly[^/]*\\.js/.test(n))"""
    )
    assert len(loads) == 1 and "/plotly.v" in loads[0], loads
    assert page.evaluate("() => typeof window.Plotly.newPlot") == "function"
