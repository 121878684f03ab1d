"""Cotações: up to four tickers overlaid (rebased, % axis) or side by side, in Chromium."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

FIG = """() => { const g = document.querySelector('#quotes-graph .js-plotly-plot');
    if (!g || !g.data || !g.layout || !g.layout.meta) return null;
    return {mode: g.layout.meta.mode || null, peers: g.layout.meta.peers || [],
            names: g.data.map(t => t.name), types: g.data.map(t => t.type),
            first: g.data.filter(t => t.customdata).map(t => t.y[0]),
            title: (g.layout.annotations || []).map(a => a.text).join(' | '),
            suffix: g.layout.yaxis && g.layout.yaxis.ticksuffix}; }"""


def _wait(page, predicate: str, timeout: int = 30_000):
    page.wait_for_function(
        f"() => {{ const f = ({FIG})(); return !!f && ({predicate}); }}",
        timeout=timeout,
        polling=100,
    )
    return page.evaluate(FIG)


def _pick(page, ticker: str) -> None:
    page.click("#quotes-peers")
    page.keyboard.type(ticker)
    page.click(f".dash-dropdown-option >> text={ticker}")
    page.keyboard.press("Escape")


def test_compare_overlaid_then_side_by_side(page, app_server):
    page.goto(app_server + "/quotes?ticker=PETR4")
    _wait(page, "f.types.includes('candlestick')")
    _pick(page, "VALE3")
    _pick(page, "ITUB4")
    fig = _wait(page, "f.mode === 'overlay' && f.peers.length === 2")
    assert fig["names"][:3] == ["PETR4", "VALE3", "ITUB4"]
    assert fig["first"] == [0, 0, 0]  # every line starts at 0 % (base 100)
    assert fig["suffix"] == "%" and "negociados" in fig["title"]
    page.wait_for_url("**vs=VALE3,ITUB4*")
    # a zoom re-anchors every line at the first visible date
    page.evaluate(
        "() => Plotly.relayout(document.querySelector('#quotes-graph .js-plotly-plot'),"
        " {'xaxis.range[0]': '2024-06-03', 'xaxis.range[1]': '2024-10-01'})"
    )
    page.wait_for_function(
        """() => { const g = document.querySelector('#quotes-graph .js-plotly-plot');
            const tr = g.data.find(t => t.customdata);
            const k = tr.x.findIndex(x => new Date(x) >= new Date('2024-06-03T00:00:00'));
            return k > 0 && Math.abs(tr.y[k]) < 1e-9 && Math.abs(tr.y[0]) > 1e-6; }""",
        polling=100,
    )
    # the adjusted toggle is respected and named
    page.get_by_label("Ajustados por proventos").check()
    _wait(page, "f.title.includes('ajustados por proventos')")
    # side by side: one candlestick row per ticker on a shared time axis
    page.get_by_label("Lado a lado").check()
    fig = _wait(page, "f.types.filter(t => t === 'candlestick').length === 3")
    assert fig["mode"] == "side"
    page.wait_for_url("**vsmode=side*")
    # a fourth compared ticker is refused with one message, the chart stays
    for t in ("BBAS3", "ABEV3"):
        _pick(page, t)
    page.wait_for_selector("#quotes-error >> text=no máximo 3")
    assert page.evaluate(FIG)["mode"] == "side"
