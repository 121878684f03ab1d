"""Builders of the Backtest page: figures and tables from plain data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from components import backtest as cb
from core.backtest.costs import NO_COSTS
from core.backtest.engine import EngineConfig, run_engine
from core.backtest.metrics import compute_metrics, monthly_returns
from core.backtest.sizing import Sizing
from core.strategies import STRATEGIES, get_strategy


def _run(bundled_store):
    bars = bundled_store.bars("PETR4", "2020-01-01", "2021-12-30")
    res = run_engine(
        {"PETR4": bars},
        {"PETR4": get_strategy("sma_cross").signals(bars)},
        EngineConfig(costs=NO_COSTS, sizing=Sizing(lot_size=1)),
    )
    return bars, res


def test_candles_mark_trades_and_hide_non_sessions(bundled_store):
    bars, res = _run(bundled_store)
    fig = cb.candles_figure(bars, res.trades, "PETR4")
    kinds = [t.type for t in fig.data]
    assert kinds[0] == "candlestick"
    entries = [t for t in fig.data if t.name == "Entrada (compra)"][0]
    assert len(entries.x) == len(res.trades)
    breaks = fig.layout.xaxis.rangebreaks
    assert breaks[0].bounds == ("sat", "mon")
    # 2020-02-24/25 (Carnival) are weekdays without a session
    assert "2020-02-24" in breaks[1].values


def test_equity_cards_heatmap_grid(bundled_store):
    bars, res = _run(bundled_store)
    m = compute_metrics(res.equity, res.trades)
    bench = pd.DataFrame(
        {"buy_hold": res.equity * 1.1, "bvsp": res.equity * 0.9, "cdi": res.equity * 0 + 1e5}
    )
    fig = cb.equity_figure(res.equity, bench)
    assert [t.name for t in fig.data] == [
        "Estratégia",
        "Comprar e segurar",
        "Ibovespa (^BVSP)",
        "CDI",
    ]
    cards = str(cb.metric_cards(m))
    assert "IC 95%" in cards and "poucas para concluir" in cards
    hm = cb.monthly_heatmap(monthly_returns(res.equity))
    assert np.asarray(hm.data[0].z).shape == (2, 12)
    rows = cb.trades_rows(res.trades)
    assert len(rows) == len(res.trades) and rows[0]["entrada"].count("-") == 2  # ISO: sorts


def test_param_form_has_one_input_per_declared_param():
    for name, cls in STRATEGIES.items():
        form = cb.param_form([p.to_dict() for p in cls.params])
        assert str(form).count("backtest-param") == len(cls.params), name


def test_report_html_is_self_contained(bundled_store):
    bars, res = _run(bundled_store)
    html = cb.report_html(
        "R",
        {"Estratégia": "sma_cross"},
        [("Retorno", "1,0", "%")],
        [cb.drawdown_figure(res.equity / res.equity.cummax() - 1)],
        pd.DataFrame(cb.trades_rows(res.trades)),
    )
    assert html.startswith("<!DOCTYPE html>") and "plotly" in html and "<table" in html
    # regression: the report carried a 4,8 MB copy of plotly.js (5,5 MB in all)
    assert len(html.encode()) < 1_000_000 and html.count('src="https://cdn.plot.ly') == 1
    dd = cb.drawdown_figure(res.equity / res.equity.cummax() - 1)
    offline = cb.report_html("R", {}, [], [dd], pd.DataFrame(), True)
    assert len(offline.encode()) > 4_000_000  # on request, a fully offline file
