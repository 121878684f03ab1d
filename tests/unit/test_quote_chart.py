"""The Quotes chart builder: rangebreaks, crosshair, OHLC readout, log scale (issue 14)."""

from __future__ import annotations

import pytest

from components.charts import quote_figure, rangebreaks
from components.format import ohlc_hovertemplate
from core.quotes import QuoteRequest, quote_view


def test_intraday_rangebreaks_hide_nights_weekends_and_holidays():
    rb = rangebreaks(["2022-03-01"], (9.0, 18.5))
    assert {"bounds": ["sat", "mon"]} in rb
    assert {"pattern": "hour", "bounds": [18.5, 9.0]} in rb
    assert {"values": ["2022-03-01"]} in rb
    assert not any(r.get("pattern") == "hour" for r in rangebreaks([]))  # daily: no hour break


def test_ohlc_hovertemplate_is_portuguese():
    t = ohlc_hovertemplate(",.2f", "R$ ")
    for label in ("Abertura", "Máxima", "Mínima", "Fechamento"):
        assert label in t
    assert "R$ %{close:,.2f}" in t


@pytest.fixture(scope="module")
def win_view(bundled_store):
    return quote_view(bundled_store, QuoteRequest("WINFUT", preset="1M", interval="5min", log=True))


def test_intraday_figure_has_vwap_crosshair_log_and_hour_breaks(win_view):
    fig = quote_figure(win_view)
    names = [t.name for t in fig.data]
    # the bundled WINFUT has no volume: the VWAP and the volume panel say so
    assert "VWAP (sem volume: pesos iguais)" in names
    titles = [a.text for a in fig.layout.annotations]
    assert "Volume: a série não tem volume" in titles
    candle = next(t for t in fig.data if t.type == "candlestick")
    assert "Fechamento" in candle.hovertemplate and "%H:%M" in candle.xhoverformat
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.showspikes
    hour = [r for r in fig.layout.xaxis.rangebreaks if r.pattern == "hour"]
    assert hour and list(hour[0].bounds) == [win_view.hours[1], win_view.hours[0]]
    assert fig.layout.meta["interval"] == "5min"


def test_vwap_line_breaks_between_sessions(win_view):
    fig = quote_figure(win_view)
    vwap = next(t for t in fig.data if t.name.startswith("VWAP"))
    sessions = win_view.bars.index.normalize().nunique()
    assert sum(1 for v in vwap.y if v != v) == sessions - 1  # one break per night


def test_a_series_with_volume_keeps_the_plain_titles(bundled_store):
    view = quote_view(bundled_store, QuoteRequest("PETR4", preset="1M"))
    titles = [a.text for a in quote_figure(view).layout.annotations]
    assert "Volume" in titles and not [t for t in titles if "não tem volume" in t]


def test_memoized_plotly_paths_build_the_same_figure(bundled_store):
    """The path memo (components.figcache.memoize_plotly_paths) changes speed, not output."""
    import json

    import plotly.basedatatypes as bdt

    from components.charts import quote_figure

    view = quote_view(bundled_store, QuoteRequest("PETR4", preset="6M", panels=("macd",)))
    memo = bdt._str_to_dict_path_full
    assert memo._pregao_memo
    fast = json.dumps(quote_figure(view, "dark").to_plotly_json(), sort_keys=True, default=str)
    bdt._str_to_dict_path_full = memo._pregao_original
    try:
        slow = json.dumps(quote_figure(view, "dark").to_plotly_json(), sort_keys=True, default=str)
    finally:
        bdt._str_to_dict_path_full = memo
    assert fast == slow
