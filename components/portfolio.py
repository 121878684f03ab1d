"""Builders of the portfolio page: controls, frontier, weights, benchmark, out-of-sample, orders.

Pure functions: plain data in (the dict returned by :func:`core.portfolio.analyse`),
Dash components or ``go.Figure`` out. No I/O, no app.
"""

from __future__ import annotations

import io

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html
from plotly.subplots import make_subplots

from components.format import PLOTLY_DATE, PLOTLY_SEPARATORS, fmt_brl, fmt_int, fmt_num, fmt_pct
from components.jobs import job_progress

__all__ = [
    "CONTROL_KEYS",
    "controls_from_parameters",
    "portfolio_controls",
    "frontier_figure",
    "weights_figure",
    "weights_table",
    "summary_cards",
    "oos_figure",
    "oos_table",
    "allocation_view",
    "saved_table",
    "weights_csv",
    "orders_csv",
    "empty_figure",
]

_COLORS = {
    "frontier": "#1f77b4",
    "asset": "#7f7f7f",
    "bench": "#d62728",
    "eq": "#ff7f0e",
    "minvol": "#2ca02c",
    "tangency": "#9467bd",
    "chosen": "#111111",
    "cml": "#9467bd",
}


#: Control values :func:`controls_from_parameters` can fill, in the order of the page's
#: outputs (each key is the control id without the ``portfolio-`` prefix, ``_`` for ``-``).
CONTROL_KEYS = (
    "tickers",
    "start",
    "end",
    "objective",
    "target",
    "returns",
    "risk_model",
    "risk_free",
    "wmin",
    "wmax",
    "gamma",
    "risk_aversion",
    "points",
    "views",
    "asset_bounds",
    "holdings",
    "capital",
    "oos",
    "oos_universe",
    "lookback",
    "rebalance",
)


def _num(x: float, scale: float = 100.0) -> float:
    """A fraction as the number typed in a % field (rounded to remove float noise)."""
    return round(float(x) * scale, 6)


def controls_from_parameters(params: dict) -> dict:
    """Control values (page units: % fields in %) of a saved portfolio's or run's parameters.

    Parameters
    ----------
    params : dict
        :meth:`core.portfolio.PortfolioRequest.parameters` (older saved portfolios carry a
        subset; only the keys present are returned).

    Returns
    -------
    dict
        Keys of :data:`CONTROL_KEYS`.
    """
    p = params or {}
    out: dict = {}
    if p.get("tickers"):
        out["tickers"] = list(p["tickers"])
    for k in ("start", "end"):
        if k in p:
            out[k] = p[k]
    if "objective" in p:
        out["objective"] = p["objective"]
    if "target" in p:
        out["target"] = None if p["target"] is None else _num(p["target"])
    if "returns_method" in p:
        out["returns"] = p["returns_method"]
    if "risk_model" in p:
        out["risk_model"] = p["risk_model"]
    if "risk_free" in p:
        out["risk_free"] = None if p["risk_free"] is None else _num(p["risk_free"])
    if p.get("bounds"):
        out["wmin"], out["wmax"] = _num(p["bounds"][0]), _num(p["bounds"][1])
    for k in ("gamma", "risk_aversion", "points"):
        if k in p and p[k] is not None:
            out[k] = p[k]
    if "views" in p:
        views = p["views"] or {}
        out["views"] = ", ".join(f"{t}={_num(v):g}" for t, v in views.items()) or None
    if "per_asset_bounds" in p:
        pab = p["per_asset_bounds"] or {}
        out["asset_bounds"] = (
            ", ".join(f"{t}={_num(lo):g}:{_num(hi):g}" for t, (lo, hi) in pab.items()) or None
        )
    if "holdings" in p:
        h = p["holdings"] or {}
        out["holdings"] = ", ".join(f"{t}={int(n)}" for t, n in h.items()) or None
    if "capital" in p:
        out["capital"] = p["capital"]
    if "out_of_sample" in p:
        out["oos"] = ["on"] if p["out_of_sample"] else []
    if "oos_universe" in p:
        out["oos_universe"] = p["oos_universe"]
    if p.get("lookback"):
        out["lookback"] = round(p["lookback"] / 252, 2)
    if "rebalance" in p:
        out["rebalance"] = p["rebalance"]
    return out


def _template(theme: str | None) -> str:
    return "plotly_dark" if theme == "dark" else "plotly_white"


def empty_figure(message: str, theme: str | None = None) -> go.Figure:
    """A blank figure carrying ``message`` in its centre."""
    fig = go.Figure()
    fig.update_layout(
        template=_template(theme),
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[{"text": message, "showarrow": False, "font": {"size": 14}}],
        height=320,
        separators=PLOTLY_SEPARATORS,
    )
    return fig


def _labelled(label: str, control, width: int = 12, md: int | None = None) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className="small mb-1"), control], xs=width, md=md or width)


def portfolio_controls(
    ticker_options: list[dict],
    default_tickers: list[str],
    objectives: dict,
    returns_methods: dict,
    risk_models: dict,
    rebalance: dict,
    universes: dict | None = None,
    values: dict | None = None,
) -> dbc.Card:
    """The control panel (ids prefixed ``portfolio-``).

    ``values`` (from :func:`controls_from_parameters`) overrides the defaults, e.g. to show
    the controls that produced the last stored result.
    """
    v = values or {}

    def opts(d: dict) -> list[dict]:
        return [{"label": v, "value": k} for k, v in d.items()]

    def num(id_, value=None, **kw) -> dbc.Input:
        return dbc.Input(id=id_, type="number", value=value, size="sm", debounce=True, **kw)

    return dbc.Card(
        dbc.CardBody(
            [
                dbc.Row(
                    [
                        _labelled(
                            "Ações",
                            dcc.Dropdown(
                                id="portfolio-tickers",
                                options=ticker_options,
                                value=v.get("tickers", default_tickers),
                                multi=True,
                                placeholder="Escolha 2 ou mais ações",
                            ),
                            md=6,
                        ),
                        _labelled(
                            "Janela (vazio = toda a história comum)",
                            dcc.DatePickerRange(
                                id="portfolio-dates",
                                display_format="DD/MM/YYYY",
                                clearable=True,
                                start_date=v.get("start"),
                                end_date=v.get("end"),
                                start_date_placeholder_text="início",
                                end_date_placeholder_text="fim",
                            ),
                            md=3,
                        ),
                        _labelled(
                            "Capital (R$)",
                            num("portfolio-capital", v.get("capital", 50000), min=0, step=100),
                            md=3,
                        ),
                    ],
                    className="g-2",
                ),
                dbc.Row(
                    [
                        _labelled(
                            "Objetivo",
                            dcc.Dropdown(
                                id="portfolio-objective",
                                options=opts(objectives),
                                value=v.get("objective", "max_sharpe"),
                                clearable=False,
                            ),
                            md=3,
                        ),
                        _labelled(
                            "Alvo (% a.a.: retorno ou volatilidade)",
                            num("portfolio-target", v.get("target"), step=0.5),
                            md=2,
                        ),
                        _labelled(
                            "Retorno esperado",
                            dcc.Dropdown(
                                id="portfolio-returns",
                                options=opts(returns_methods),
                                value=v.get("returns", "mean_historical"),
                                clearable=False,
                            ),
                            md=2,
                        ),
                        _labelled(
                            "Modelo de risco",
                            dcc.Dropdown(
                                id="portfolio-risk-model",
                                options=opts(risk_models),
                                value=v.get("risk_model", "ledoit_wolf"),
                                clearable=False,
                            ),
                            md=3,
                        ),
                        _labelled(
                            "Livre de risco (% a.a.; vazio = CDI)",
                            num("portfolio-risk-free", v.get("risk_free"), step=0.25),
                            md=2,
                        ),
                    ],
                    className="g-2 mt-1",
                ),
                dbc.Row(
                    [
                        _labelled(
                            "Peso mín. (%)", num("portfolio-wmin", v.get("wmin", 0), step=1), md=1
                        ),
                        _labelled(
                            "Peso máx. (%)", num("portfolio-wmax", v.get("wmax", 100), step=1), md=1
                        ),
                        _labelled(
                            "L2 (gamma)",
                            num("portfolio-gamma", v.get("gamma", 0), min=0, step=0.05),
                            md=1,
                        ),
                        _labelled(
                            "Aversão a risco",
                            num(
                                "portfolio-risk-aversion",
                                v.get("risk_aversion", 1),
                                min=0,
                                step=0.5,
                            ),
                            md=1,
                        ),
                        _labelled(
                            "Pontos",
                            num("portfolio-points", v.get("points", 50), min=2, max=500, step=1),
                            md=1,
                        ),
                        _labelled(
                            "Visões Black-Litterman (TICKER=% a.a.)",
                            dbc.Input(
                                id="portfolio-views",
                                value=v.get("views"),
                                placeholder="PETR4=20, VALE3=12",
                                size="sm",
                                debounce=True,
                            ),
                            md=3,
                        ),
                        _labelled(
                            "Limites por ativo (TICKER=mín:máx %)",
                            dbc.Input(
                                id="portfolio-asset-bounds",
                                value=v.get("asset_bounds"),
                                placeholder="PETR4=5:30",
                                size="sm",
                                debounce=True,
                            ),
                            md=2,
                        ),
                        _labelled(
                            "Posições atuais (TICKER=ações)",
                            dbc.Input(
                                id="portfolio-holdings",
                                value=v.get("holdings"),
                                placeholder="PETR4=300, VALE3=150",
                                size="sm",
                                debounce=True,
                            ),
                            md=2,
                        ),
                    ],
                    className="g-2 mt-1",
                ),
                dbc.Row(
                    [
                        _labelled(
                            "Teste fora da amostra",
                            dbc.Checklist(
                                id="portfolio-oos",
                                options=[{"label": "walk-forward", "value": "on"}],
                                value=v.get("oos", ["on"]),
                                switch=True,
                            ),
                            md=1,
                        ),
                        _labelled(
                            "Universo do teste",
                            dcc.Dropdown(
                                id="portfolio-oos-universe",
                                options=opts(universes or {}),
                                value=v.get("oos_universe", "liquid"),
                                clearable=False,
                            ),
                            md=2,
                        ),
                        _labelled(
                            "Estimação (anos)",
                            num(
                                "portfolio-lookback", v.get("lookback", 3), min=1, max=10, step=0.5
                            ),
                            md=1,
                        ),
                        _labelled(
                            "Rebalanceamento",
                            dcc.Dropdown(
                                id="portfolio-rebalance",
                                options=opts(rebalance),
                                value=v.get("rebalance", "quarterly"),
                                clearable=False,
                            ),
                            md=1,
                        ),
                        dbc.Col(
                            [
                                dbc.Button(
                                    [html.I(className="bi bi-play-fill me-1"), "Calcular"],
                                    id="portfolio-run",
                                    color="primary",
                                    size="sm",
                                    className="me-2",
                                ),
                                dbc.Button(
                                    "Cancelar",
                                    id="portfolio-cancel",
                                    color="secondary",
                                    size="sm",
                                    outline=True,
                                    disabled=True,
                                ),
                            ],
                            md=2,
                            className="d-flex align-items-end",
                        ),
                        dbc.Col(
                            job_progress("portfolio", className=""),
                            md=4,
                            className="d-flex flex-column justify-content-end",
                        ),
                    ],
                    className="g-2 mt-1",
                ),
            ]
        ),
        className="mb-3",
    )


def _weights_hover(weights: dict, top: int = 8) -> str:
    items = sorted(weights.items(), key=lambda kv: -kv[1])
    lines = [f"{t}: {fmt_pct(w, 1)}" for t, w in items[:top] if w > 0.0005]
    return "<br>".join(lines)


def frontier_figure(res: dict, theme: str | None = None) -> go.Figure:
    """Efficient frontier (volatility × expected return, annual %) with its landmarks.

    Traces, in order: frontier line (hover shows each point's weights), capital market
    line, assets, ^BVSP, equal weight, minimum volatility, tangency, chosen portfolio.
    """
    fig = go.Figure()
    pts = res["frontier"]
    fig.add_trace(
        go.Scatter(
            x=[p["volatility"] for p in pts],
            y=[p["expected_return"] for p in pts],
            mode="lines+markers",
            marker={"size": 4},
            line={"color": _COLORS["frontier"], "width": 2},
            name="Fronteira eficiente",
            customdata=[
                [_weights_hover(p["weights"]), p["sharpe"], p.get("geometric_return")] for p in pts
            ],
            hovertemplate=(
                "Vol. %{x:.2%} · Ret. %{y:.2%} (CAGR aprox. %{customdata[2]:.2%})"
                "<br>Sharpe %{customdata[1]:.2f}<br>%{customdata[0]}<extra></extra>"
            ),
        )
    )
    if res.get("cml"):
        fig.add_trace(
            go.Scatter(
                x=[c[0] for c in res["cml"]],
                y=[c[1] for c in res["cml"]],
                mode="lines",
                line={"color": _COLORS["cml"], "dash": "dash", "width": 1},
                name="Linha do mercado de capitais",
                hoverinfo="skip",
            )
        )
    assets = res["assets"]
    fig.add_trace(
        go.Scatter(
            x=[a["volatility"] for a in assets.values()],
            y=[a["expected_return"] for a in assets.values()],
            mode="markers+text",
            text=list(assets),
            textposition="top center",
            textfont={"size": 10},
            marker={"color": _COLORS["asset"], "size": 7},
            name="Ações",
            customdata=[[a.get("geometric_return")] for a in assets.values()],
            hovertemplate=(
                "%{text}<br>Vol. %{x:.2%} · Ret. %{y:.2%}"
                "<br>CAGR aprox. %{customdata[0]:.2%}<extra></extra>"
            ),
        )
    )
    b = res["benchmark"]
    fig.add_trace(
        go.Scatter(
            x=[b["volatility"]],
            y=[b["expected_return"]],
            mode="markers+text",
            text=["^BVSP"],
            textposition="bottom center",
            marker={"color": _COLORS["bench"], "size": 11, "symbol": "diamond"},
            name="IBOVESPA (^BVSP)",
            customdata=[[b.get("geometric_return")]],
            hovertemplate=(
                "^BVSP<br>Vol. %{x:.2%} · Ret. %{y:.2%}"
                "<br>CAGR aprox. %{customdata[0]:.2%}<extra></extra>"
            ),
        )
    )
    marks = [
        ("equal_weight", "Pesos iguais", "square", _COLORS["eq"]),
        ("min_volatility", "Mínima volatilidade", "triangle-up", _COLORS["minvol"]),
        ("tangency", "Tangente (máx. Sharpe)", "star", _COLORS["tangency"]),
        ("chosen", "Carteira escolhida", "x", _COLORS["chosen"]),
    ]
    for key, label, symbol, color in marks:
        p = res["landmarks"].get(key)
        if not p:
            continue
        fig.add_trace(
            go.Scatter(
                x=[p["volatility"]],
                y=[p["expected_return"]],
                mode="markers",
                marker={
                    "color": color,
                    "size": 13,
                    "symbol": symbol,
                    "line": {"width": 1, "color": "white"},
                },
                name=label,
                customdata=[[_weights_hover(p["weights"]), p["sharpe"], p.get("geometric_return")]],
                hovertemplate=(
                    f"{label}<br>Vol. %{{x:.2%}} · Ret. %{{y:.2%}} (CAGR aprox. "
                    "%{customdata[2]:.2%})<br>Sharpe "
                    "%{customdata[1]:.2f}<br>%{customdata[0]}<extra></extra>"
                ),
            )
        )
    rf = res["window"].get("risk_free_arithmetic", res["window"]["risk_free"])
    label = "CDI" if res["window"]["risk_free_source"] == "CDI" else "Livre de risco"
    fig.add_hline(
        y=rf,
        line={"width": 1, "dash": "dot", "color": "#888"},
        annotation_text=f"{label} {fmt_pct(rf)} (aritm.; composto "
        f"{fmt_pct(res['window']['risk_free'])})",
        annotation_position="bottom right",
    )
    fig.update_layout(
        template=_template(theme),
        separators=PLOTLY_SEPARATORS,
        height=520,
        margin={"l": 60, "r": 20, "t": 40, "b": 50},
        title={"text": "Fronteira eficiente (anual)", "x": 0.01},
        xaxis={"title": "Volatilidade [% a.a.]", "tickformat": ".0%", "rangemode": "tozero"},
        yaxis={"title": "Retorno esperado (média aritmética) [% a.a.]", "tickformat": ".0%"},
        legend={"orientation": "h", "y": -0.15},
        hovermode="closest",
    )
    return fig


def weights_figure(weights: dict, theme: str | None = None) -> go.Figure:
    """Horizontal bars of the non-zero weights, largest on top."""
    items = sorted(((t, w) for t, w in weights.items() if w), key=lambda kv: kv[1])
    fig = go.Figure(
        go.Bar(
            x=[w for _, w in items],
            y=[t for t, _ in items],
            orientation="h",
            marker_color=_COLORS["frontier"],
            text=[fmt_pct(w, 1) for _, w in items],
            textposition="auto",
            hovertemplate="%{y}: %{x:.2%}<extra></extra>",
        )
    )
    fig.update_layout(
        template=_template(theme),
        separators=PLOTLY_SEPARATORS,
        height=max(220, 34 * len(items) + 80),
        margin={"l": 70, "r": 20, "t": 30, "b": 40},
        xaxis={"tickformat": ".0%", "title": "Peso [%]"},
        title={"text": "Pesos", "x": 0.01},
    )
    return fig


def _table(header: list[str], rows: list[list], *, id_: str | None = None) -> dbc.Table:
    kw = {"id": id_} if id_ else {}
    return dbc.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in header])),
            html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows]),
        ],
        size="sm",
        striped=True,
        hover=True,
        responsive=True,
        className="small",
        **kw,
    )


def weights_table(res: dict) -> dbc.Table:
    """Ticker, weight, expected return and volatility of each asset."""
    rows = []
    for t, w in sorted(res["weights"].items(), key=lambda kv: -kv[1]):
        a = res["assets"].get(t, {})
        rows.append(
            [
                t,
                fmt_pct(w),
                fmt_pct(a.get("expected_return")),
                fmt_pct(a.get("geometric_return")),
                fmt_pct(a.get("volatility")),
            ]
        )
    return _table(
        [
            "Ação",
            "Peso",
            "Retorno esperado (aritm.) [% a.a.]",
            "CAGR aprox. [% a.a.]",
            "Volatilidade [% a.a.]",
        ],
        rows,
        id_="portfolio-weights-table",
    )


def _card(label: str, value: str, sub: str | None = None) -> dbc.Col:
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(label, className="small text-muted"),
                    html.Div(value, className="fs-5 fw-semibold"),
                    html.Div(sub or "", className="small text-muted"),
                ],
                className="py-2",
            )
        ),
        xs=6,
        md=3,
        lg=True,
        className="mb-2",
    )


def summary_cards(res: dict) -> html.Div:
    """Window used, performance and metrics against ^BVSP."""
    w, p, m = res["window"], res["performance"], res["metrics"]
    window = (
        f"Janela comum: {pd.Timestamp(w['start']):%d/%m/%Y} a {pd.Timestamp(w['end']):%d/%m/%Y} "
        f"({fmt_int(w['sessions'])} pregões), limitada por {w['limiting_ticker']}. "
        f"Livre de risco: {fmt_pct(w['risk_free'])} a.a. "
        f"({'CDI do período' if w['risk_free_source'] == 'CDI' else 'informada'}; "
        f"{fmt_pct(w.get('risk_free_arithmetic'))} na escala aritmética dos retornos)."
    )
    objective = html.P(
        f"Objetivo: {res.get('objective_label') or res['objective']}.",
        className="small mb-2 fw-semibold",
        id="portfolio-objective-used",
    )
    cards = [
        _card("Retorno esperado", fmt_pct(p["expected_return"]), "a.a. (média aritmética)"),
        _card(
            "CAGR aproximado",
            fmt_pct(p.get("geometric_return")),
            "a.a.: exp(μ − σ²/2) − 1 (Booth & Fama)",
        ),
        _card("Volatilidade", fmt_pct(p["volatility"]), "a.a."),
        _card("Sharpe", fmt_num(p["sharpe"]), "vs livre de risco"),
        _card("Beta", fmt_num(m["beta"]), "vs ^BVSP"),
        _card("Alfa (Jensen)", fmt_pct(m["alpha"]), "a.a. vs ^BVSP"),
        _card("Tracking error", fmt_pct(m["tracking_error"]), "a.a."),
        _card("Information ratio", fmt_num(m["information_ratio"]), f"n = {fmt_int(m['n'])} dias"),
    ]
    if res.get("cvar") is not None:
        cards.append(_card("CVaR diário", fmt_pct(res["cvar"]), "perda média nos piores dias"))
    notes = [dbc.Alert(n, color="warning", className="py-1 small mb-1") for n in res["notes"]]
    return html.Div(
        [
            html.P(window, className="small mb-1", id="portfolio-window"),
            objective,
            dbc.Row(cards, className="g-2"),
            *notes,
        ],
        id="portfolio-summary-body",
    )


def oos_figure(oos: dict, theme: str | None = None) -> go.Figure:
    """Equity (R$) and drawdown (%) of the portfolio, equal weight and ^BVSP on the test window."""
    dates = pd.to_datetime(oos["equity"]["dates"])
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.05
    )
    colors = {
        "Carteira": _COLORS["frontier"],
        "Pesos iguais": _COLORS["eq"],
        "Mínima variância": _COLORS["minvol"],
        "^BVSP": _COLORS["bench"],
        "CDI": "#8c564b",
    }
    for name, ys in oos["equity"]["series"].items():
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=ys,
                name=name,
                line={"color": colors.get(name)},
                hovertemplate="%{y:,.2f}<extra>" + name + "</extra>",
            ),
            1,
            1,
        )
    for name, ys in oos["drawdown"]["series"].items():
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=ys,
                name=name,
                showlegend=False,
                line={"color": colors.get(name), "width": 1},
                fill="tozeroy",
                hovertemplate="%{y:.2%}<extra>" + name + "</extra>",
            ),
            2,
            1,
        )
    fig.update_layout(
        template=_template(theme),
        separators=PLOTLY_SEPARATORS,
        height=460,
        margin={"l": 70, "r": 20, "t": 40, "b": 30},
        hovermode="x unified",
        title={
            "text": "Fora da amostra (walk-forward): patrimônio e queda a partir do pico",
            "x": 0.01,
        },
        legend={"orientation": "h", "y": 1.08},
    )
    fig.update_yaxes(title_text="Patrimônio [R$]", tickprefix="R$ ", row=1, col=1)
    fig.update_yaxes(title_text="Queda [%]", tickformat=".0%", row=2, col=1)
    fig.update_xaxes(hoverformat=PLOTLY_DATE)
    return fig


def oos_table(oos: dict) -> html.Div:
    """Walk-forward statistics per series, active returns with 95 % CIs, Sharpe tests, notes."""
    rows = []
    for name, st in oos["stats"].items():
        rows.append(
            [
                name,
                fmt_pct(st["total_return"]),
                fmt_pct(st["cagr"]),
                fmt_pct(st["volatility"]),
                fmt_num(st["sharpe"]),
                fmt_pct(st["max_drawdown"]),
                fmt_brl(st["costs"]) if "costs" in st else "–",
                fmt_brl(st["taxes"]) if "taxes" in st else "–",
                fmt_pct(st["turnover"], 1) if "turnover" in st else "–",
            ]
        )
    tr, te = oos["train"], oos["test"]

    def d(s):
        return f"{pd.Timestamp(s):%d/%m/%Y}"

    def ci(a):
        return (
            f"{fmt_pct(a['mean'], sign=True)} a.a. (IC 95% {fmt_pct(a['ci_low'])} a "
            f"{fmt_pct(a['ci_high'])}; n = {fmt_int(a['n'])} dias)"
        )

    def sharpe(t):
        return (
            f"{fmt_num(t['difference'], sign=True)} (p = {fmt_num(t['p_value'], 3)}, "
            f"teste de Jobson-Korkie/Memmel; n = {fmt_int(t['n'])} dias)"
        )

    params = oos.get("parameters", {})
    n_reb = len(oos.get("rebalances", []))
    lookback = params.get("lookback")
    header = (
        f"Walk-forward: a cada rebalanceamento ({n_reb} de {d(te['start'])} a {d(te['end'])}, "
        f"{fmt_int(te['sessions'])} pregões) os pesos são reestimados com os "
        f"{fmt_int(lookback)} pregões anteriores (primeira janela: {d(tr['start'])} a "
        f"{d(tr['end'])}) e negociados no fechamento, com custos da B3, IR e caixa no CDI."
        if n_reb
        else f"Teste de {d(te['start'])} a {d(te['end'])} ({fmt_int(te['sessions'])} pregões)."
    )
    active = oos.get("active", {})
    tests = oos.get("sharpe_tests", {})
    lines = [
        html.P(f"Carteira − ^BVSP: {ci(active['vs_benchmark'])}", className="small mb-0"),
        html.P(f"Carteira − pesos iguais: {ci(active['vs_equal_weight'])}", className="small mb-0"),
    ]
    if "vs_min_variance" in active:
        lines.append(
            html.P(
                f"Carteira − mínima variância: {ci(active['vs_min_variance'])}",
                className="small mb-0",
            )
        )
    for key, label in (("vs_equal_weight", "pesos iguais"), ("vs_min_variance", "mín. variância")):
        if key in tests:
            lines.append(
                html.P(
                    f"Sharpe da carteira − {label}: {sharpe(tests[key])}", className="small mb-0"
                )
            )
    return html.Div(
        [
            html.P(header, className="small mb-1", id="portfolio-oos-header"),
            _table(
                [
                    "Série",
                    "Retorno total",
                    "CAGR",
                    "Volatilidade",
                    "Sharpe (CDI)",
                    "Máx. queda",
                    "Custos",
                    "IR",
                    "Giro médio",
                ],
                rows,
                id_="portfolio-oos-table",
            ),
            *lines,
            *[
                dbc.Alert(n, color="secondary", className="py-1 small mt-1 mb-0")
                for n in oos.get("notes", [])
            ],
        ]
    )


def allocation_view(alloc: dict | None, prices: dict | None = None) -> html.Div:
    """Positions (shares, lots, fractional, R$, achieved weight) and the B3 orders."""
    if not alloc:
        return html.Div(
            "Informe o capital para ver a alocação em lotes.", className="text-muted small"
        )
    pos_rows = [
        [
            r["ticker"],
            fmt_brl(r["price"]),
            fmt_pct(r["target_weight"]),
            fmt_int(r["current_shares"]),
            fmt_int(r["shares"]),
            fmt_int(r["lots"]),
            fmt_int(r["fractional"]),
            fmt_brl(r["value"]),
            fmt_pct(r["weight"]),
        ]
        for r in alloc["positions"]
        if r["shares"] or r["current_shares"] or r["target_weight"] > 0
    ]
    ord_rows = [
        [
            o["ticker"],
            o["market"],
            "Compra" if o["side"] == "C" else "Venda",
            fmt_int(o["shares"]),
            fmt_brl(o["price"]),
            fmt_brl(o["value"]),
            fmt_brl(o["fees"] + o["slippage"]),
        ]
        for o in alloc["orders"]
    ]
    date = ""
    if prices:
        last = max(v["date"] for v in prices.values())
        date = f" Preços de fechamento de {pd.Timestamp(last):%d/%m/%Y}."
    summary = (
        f"Capital {fmt_brl(alloc['capital'])}: investido {fmt_brl(alloc['invested'])}, custos "
        f"{fmt_brl(alloc['costs'])}, sobra em caixa {fmt_brl(alloc['cash_left'])}. Distância "
        f"aos pesos-alvo: {fmt_brl(alloc['distance'])}.{date}"
    )
    return html.Div(
        [
            html.P(summary, className="small mb-2", id="portfolio-allocation-summary"),
            _table(
                [
                    "Ação",
                    "Preço",
                    "Peso-alvo",
                    "Ações atuais",
                    "Ações",
                    "Lotes de 100",
                    "Fracionário",
                    "Valor",
                    "Peso obtido",
                ],
                pos_rows,
                id_="portfolio-positions-table",
            ),
            html.H6("Ordens", className="mt-2"),
            _table(
                [
                    "Código",
                    "Mercado",
                    "Lado",
                    "Quantidade",
                    "Preço",
                    "Valor (com derrapagem)",
                    "Custos",
                ],
                ord_rows,
                id_="portfolio-orders-table",
            )
            if ord_rows
            else html.P("Nenhuma ordem necessária.", className="small"),
            *[
                dbc.Alert(n, color="warning", className="py-1 small")
                for n in alloc.get("notes", [])
            ],
        ]
    )


def saved_table(records: list[dict]) -> html.Div:
    """Saved portfolios: name, date (dd/mm/aaaa), main weights."""
    if not records:
        return html.Div("Nenhuma carteira salva.", className="small text-muted")
    rows = []
    for r in records:
        top = ", ".join(
            f"{t} {fmt_pct(w, 0)}"
            for t, w in sorted(r["weights"].items(), key=lambda kv: -kv[1])
            if w > 0.005
        )
        rows.append(
            [
                r["name"],
                f"{pd.Timestamp(r['created_at']):%d/%m/%Y %H:%M}",
                r["parameters"].get("objective", ""),
                top,
            ]
        )
    return _table(
        ["Nome", "Criada em (UTC)", "Objetivo", "Pesos"], rows, id_="portfolio-saved-table"
    )


def weights_csv(res: dict) -> str:
    """CSV text of ticker, weight (fraction), expected return and volatility (annual)."""
    df = pd.DataFrame(
        [
            {
                "ticker": t,
                "weight": w,
                "expected_return": res["assets"][t]["expected_return"],
                "volatility": res["assets"][t]["volatility"],
            }
            for t, w in res["weights"].items()
        ]
    )
    buf = io.StringIO()
    df.to_csv(buf, index=False, float_format="%.8f", lineterminator="\n")
    return buf.getvalue()


def orders_csv(alloc: dict) -> str:
    """CSV text of the B3 orders (ticker, market, side C/V, shares, price, value, fees, slippage)."""
    df = pd.DataFrame(
        alloc["orders"],
        columns=["ticker", "market", "side", "shares", "price", "value", "fees", "slippage"],
    )
    buf = io.StringIO()
    df.to_csv(buf, index=False, float_format="%.2f", lineterminator="\n")
    return buf.getvalue()
