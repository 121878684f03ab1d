"""Every figure factory in components/ takes the UI theme and honours it.

The factories are found by introspection (public functions annotated to return a
``go.Figure``), so a new factory without a sample here, or one that ignores ``theme``
(e.g. a hard-coded ``plotly_white``), fails this test.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

import components
from components.theme import apply_theme, graph_config, themes_js
from core.quotes import QuoteRequest, quote_view

ROOT = Path(__file__).resolve().parents[2]


def _factories() -> dict[str, object]:
    out = {}
    for mod in pkgutil.iter_modules(components.__path__):
        m = importlib.import_module(f"components.{mod.name}")
        for name, fn in inspect.getmembers(m, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != m.__name__ or mod.name == "theme":
                continue
            ret = inspect.signature(fn).return_annotation
            if "Figure" in str(ret):
                out[f"{mod.name}.{name}"] = fn
    return out


_DATES = pd.bdate_range("2024-01-02", periods=60)
_EQ = pd.Series(np.linspace(100_000, 112_000, 60), index=_DATES)
_BARS = pd.DataFrame(
    {
        "open": np.linspace(30, 36, 60),
        "high": np.linspace(31, 37, 60),
        "low": np.linspace(29, 35, 60),
        "close": np.linspace(30.5, 36.5, 60),
        "volume": np.full(60, 1e7),
    },
    index=_DATES,
)
_TRADES = pd.DataFrame(
    columns=["ticker", "direction", "entry_date", "entry_price", "shares", "pnl", "exit_date"]
)
_PT = {"volatility": 0.2, "expected_return": 0.1, "weights": {"PETR4": 0.6}, "sharpe": 0.5}
_FRONTIER = {
    "frontier": [_PT, {**_PT, "volatility": 0.25, "expected_return": 0.14}],
    "cml": [(0, 0.1), (0.3, 0.2)],
    "assets": {"PETR4": {"volatility": 0.3, "expected_return": 0.15}},
    "benchmark": {"volatility": 0.22, "expected_return": 0.08},
    "landmarks": {"tangency": _PT},
    "window": {"risk_free": 0.11, "risk_free_source": "CDI"},
}
_OOS = {
    "equity": {"dates": [str(d.date()) for d in _DATES[:3]], "series": {"Carteira": [1, 1.1, 1.2]}},
    "drawdown": {"series": {"Carteira": [0, -0.01, 0]}},
}
_SUMMARY = {
    "confusion": [[10, 5], [4, 12]],
    "importance": [{"feature": "ret_1", "permutation": 0.01, "gain": 0.3}],
}
_TRADING = {
    "equity": {"date": list(_DATES[:3]), "strategy": [1, 1.01, 1.02], "buy_hold": [1, 0.99, 1.0]},
    "threshold": 0.55,
}
_HM = pd.DataFrame(
    [[0.1, 0.2], [0.3, 0.4]],
    index=pd.Index([5, 10], name="fast"),
    columns=pd.Index([20, 30], name="slow"),
)


def _samples(store) -> dict[str, tuple]:
    view = quote_view(store, QuoteRequest("PETR4", preset="1A", panels=("macd", "adx")))
    return {
        "charts.quote_figure": (view,),
        "charts.empty_figure": ("nada",),
        "portfolio.empty_figure": ("nada",),
        "portfolio.frontier_figure": (_FRONTIER,),
        "portfolio.weights_figure": ({"PETR4": 0.6, "VALE3": 0.4},),
        "portfolio.oos_figure": (_OOS,),
        "backtest.equity_figure": (_EQ, pd.DataFrame({"buy_hold": _EQ * 0.9})),
        "backtest.drawdown_figure": (_EQ / _EQ.cummax() - 1,),
        "backtest.candles_figure": (_BARS, _TRADES, "PETR4"),
        "backtest.monthly_heatmap": (pd.DataFrame([np.arange(12.0)], index=[2024]),),
        "backtest.heatmap_figure": (_HM, "sharpe"),
        "backtest.compare_figure": ({"nº 1": _EQ},),
        "models.confusion_figure": (_SUMMARY,),
        "models.roc_figure": ({"fpr": [0, 0.5, 1], "tpr": [0, 0.7, 1]},),
        "models.calibration_figure": (
            {"predicted": [0.4, 0.6], "observed": [0.45, 0.55], "count": [10, 12]},
        ),
        "models.importance_figure": (_SUMMARY,),
        "models.equity_figure": (_TRADING,),
        "trading.trading_equity_figure": (_EQ * 1000, pd.DataFrame({"buy_hold": _EQ * 900})),
        "market.sector_treemap": (
            pd.DataFrame(
                {
                    "ticker": ["PETR4", "VALE3"],
                    "name": ["Petrobras", "Vale"],
                    "sector": ["Petróleo", "Materiais Básicos"],
                    "chg_1d": [0.012, -0.02],
                    "traded_value": [2.0e9, 1.5e9],
                }
            ),
        ),
        "trading.ticker_heatmap": (
            pd.DataFrame([[3.0, np.nan]], index=["PETR4"], columns=["2024-01", "2024-02"]),
        ),
    }


def _bg(fig) -> str:
    return fig.layout.paper_bgcolor or fig.layout.template.layout.paper_bgcolor


def test_every_figure_factory_takes_and_honours_the_theme(bundled_store):
    factories = _factories()
    samples = _samples(bundled_store)
    assert set(factories) == set(samples), "add a sample for each new figure factory"
    dark_font = pio.templates["plotly_dark"].layout.font.color
    light_bg = pio.templates["plotly_white"].layout.paper_bgcolor
    for name, fn in factories.items():
        assert "theme" in inspect.signature(fn).parameters, f"{name} takes no theme"
        dark = fn(*samples[name], theme="dark")
        light = fn(*samples[name], theme="light")
        assert dark.layout.template.layout.font.color == dark_font, name
        assert _bg(dark) != light_bg, f"{name} keeps a light background in the dark theme"
        assert _bg(light) == light_bg, name
        assert dark.layout.separators == ",." and light.layout.separators == ",.", name


def test_no_hard_coded_template_outside_theme_module():
    """Regression: Backtest and Modelos figures hard-coded plotly_white (pages too)."""
    for path in [*(ROOT / "components").glob("*.py"), *(ROOT / "pages").glob("*.py")]:
        if path.name == "theme.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "plotly_white" not in text and "plotly_dark" not in text, path.name


def test_numbers_on_axes_are_full_not_si_suffixes():
    import plotly.graph_objects as go

    fig = apply_theme(go.Figure(go.Scatter(x=[1, 2], y=[1e6, 2e6])), "light")
    assert fig.layout.yaxis.exponentformat == "none" and fig.layout.yaxis.separatethousands


def test_quote_volume_axis_in_portuguese_units(bundled_store):
    from components.charts import compact_ticks, quote_figure

    vals, texts = compact_ticks(60_000_000)
    assert texts[:3] == ["0", "20 mi", "40 mi"] and vals[1] == 20_000_000
    assert compact_ticks(2.6e9)[1][1] == "1 bi"
    view = quote_view(bundled_store, QuoteRequest("PETR4", preset="1A"))
    fig = quote_figure(view)
    assert all(t == "0" or t.endswith((" mi", " bi", " mil")) for t in fig.layout.yaxis2.ticktext)


def test_each_lower_panel_has_its_own_legend_clear_of_its_title(bundled_store):
    from components.charts import quote_figure

    view = quote_view(
        bundled_store, QuoteRequest("PETR4", preset="1A", panels=("macd", "stochastic", "adx"))
    )
    fig = quote_figure(view)
    by_legend: dict[str, set] = {}
    for tr in fig.data:
        if tr.showlegend is not False:
            by_legend.setdefault(tr.legend or "legend", set()).add(tr.name)
    assert {"MACD", "Sinal", "Histograma"} <= by_legend["legend3"]
    assert {"%K", "%D"} <= by_legend["legend4"]
    assert {"ADX", "+DI", "−DI"} <= by_legend["legend5"]
    for k in (3, 4, 5):
        leg = fig.layout[f"legend{k}"]
        assert leg.xanchor == "right" and leg.x == 1
    assert all(a.xanchor == "left" and a.x == 0 for a in fig.layout.annotations)


def test_graph_config_is_portuguese():
    assert graph_config()["locale"] == "pt-BR"


def test_generated_theme_asset_matches_plotly_templates():
    assert (ROOT / "assets" / "07-plotly-themes.js").read_text(encoding="utf-8") == themes_js()


@pytest.mark.parametrize("name", ["05-locale-pt-br.js", "06-theme-sync.js"])
def test_locale_and_theme_assets_exist(name):
    assert (ROOT / "assets" / name).stat().st_size > 500


def test_pages_and_components_build_inputs_through_the_pt_br_helpers():
    """Dropdowns get Portuguese texts and graphs the pt-BR locale from one place."""
    offenders = []
    for folder in ("pages", "components"):
        for path in (ROOT / folder).glob("*.py"):
            text = path.read_text(encoding="utf-8")
            if path.name != "inputs.py" and (
                "dcc.Dropdown(" in text or "dcc.DatePickerRange(" in text
            ):
                offenders.append(path.name)
            if 'config={"displaylogo"' in text:
                offenders.append(path.name)
    assert offenders == []


def test_pages_pass_the_theme_to_every_figure_factory_they_call():
    """Regression (issue 14): Mercado drew its sector treemap with ``sector_treemap(stocks)``,
    in the light theme whatever the switch said. Every call of a figure factory in a page
    passes a theme (``theme=...`` or a positional argument named ``theme``)."""
    import ast

    # Calls that still draw in the default theme and rely on the browser's restyle
    # (assets/06-theme-sync.js); pages owned by this session's page-load work, left alone.
    known = {
        ("backtest.py", "empty_figure"),
        ("backtest.py", "candles_figure"),
        ("backtest.py", "equity_figure"),
        ("backtest.py", "drawdown_figure"),
        ("backtest.py", "monthly_heatmap"),
        ("backtest.py", "compare_figure"),
        ("portfolio.py", "empty_figure"),
    }
    names = {key.split(".")[1] for key in _factories()}
    offenders = []
    for path in sorted((ROOT / "pages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
            if name not in names:
                continue
            themed = any(k.arg == "theme" for k in node.keywords) or any(
                "theme" in ast.unparse(a) for a in node.args
            )
            if not themed and (path.name, name) not in known:
                offenders.append(f"{path.name}:{node.lineno} {name}")
    assert offenders == []


def test_theme_layout_is_what_apply_theme_sets():
    import plotly.graph_objects as go

    from components.theme import theme_layout

    for theme in ("light", "dark"):
        fig = apply_theme(go.Figure(), theme)
        patch = theme_layout(theme)
        assert patch["template"] == fig.layout.template.to_plotly_json()
        assert patch["separators"] == fig.layout.separators
        assert patch["paper_bgcolor"] == fig.layout.paper_bgcolor
