"""Pure builders: pt-BR formatting and the Quotes figure."""

from __future__ import annotations

import math

import pandas as pd

from components.charts import quote_figure
from components.format import fmt_brl, fmt_date, fmt_int, fmt_num, fmt_pct, fmt_points
from core.quotes import QuoteRequest, quote_view


def test_pt_br_formatting():
    assert fmt_brl(1234.56) == "R$ 1.234,56"
    assert fmt_brl(-0.5) == "-R$ 0,50"
    assert fmt_pct(0.0123) == "1,23%"
    assert fmt_pct(0.0123, sign=True) == "+1,23%"
    assert fmt_num(1234567.891, 1) == "1.234.567,9"
    assert fmt_int(1234567) == "1.234.567"
    assert fmt_points(127791.6) == "127.792 pts"
    assert fmt_date(pd.Timestamp("2024-11-14")) == "14/11/2024"
    assert fmt_brl(math.nan) == "–" and fmt_pct(None) == "–"


def test_quote_figure_traces_and_layout(bundled_store):
    v = quote_view(
        bundled_store,
        QuoteRequest(
            "PETR4", preset="Máx", sma=(20,), bollinger=True, panels=("rsi", "macd"), compare=True
        ),
    )
    fig = quote_figure(v, theme="dark")
    candle = [t for t in fig.data if t.type == "candlestick"]
    assert len(candle) == 1 and candle[0].name == "PETR4"
    assert pd.Timestamp(candle[0].x[-1]) == pd.Timestamp("2024-11-14")
    assert len(candle[0].x) == len(v.bars) > 3000
    names = {t.name for t in fig.data}
    assert {
        "Volume",
        "MMS 20",
        "Bollinger sup.",
        "IFR",
        "MACD",
        "Sinal",
        "^BVSP (base 100)",
    } <= names
    assert fig.layout.meta["panels"] == ["rsi", "macd"]
    assert fig.layout.separators == ",."
    rb = fig.layout.xaxis.rangebreaks
    assert rb[0].bounds == ("sat", "mon")
    assert "2024-02-12" in rb[1].values  # Carnaval
    assert fig.layout.template.layout.paper_bgcolor is not None  # plotly_dark applied
    titles = [a.text for a in fig.layout.annotations]
    assert "PETR4 (R$)" in titles and "IFR 14" in titles


def test_anomaly_markers(bundled_store):
    v = quote_view(bundled_store, QuoteRequest("PETR4", preset="Máx", anomalies=True))
    fig = quote_figure(v)
    marks = [t for t in fig.data if t.name == "Anomalias"]
    assert len(marks) == 1 and len(marks[0].x) == len(v.anomalies)


def test_histograms_are_bars_until_they_would_be_sub_pixel(bundled_store):
    short = quote_figure(
        quote_view(bundled_store, QuoteRequest("PETR4", preset="1A", panels=("macd",)))
    )
    long = quote_figure(
        quote_view(bundled_store, QuoteRequest("PETR4", preset="Máx", panels=("macd",)))
    )
    kinds = {f: {t.name: t.type for t in fig.data} for f, fig in (("1A", short), ("Máx", long))}
    assert kinds["1A"]["Volume"] == "bar" and kinds["1A"]["Histograma"] == "bar"
    assert kinds["Máx"]["Volume"] == "scatter" and kinds["Máx"]["Histograma"] == "scatter"
