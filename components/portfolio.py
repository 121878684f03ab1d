"""Builders of the portfolio page: controls, frontier, weights, benchmark, out-of-sample, orders.

Pure functions: plain data in (the dict returned by :func:`core.portfolio.analyse`),
Dash components or ``go.Figure`` out. No I/O, no app.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import html
from plotly.subplots import make_subplots

from components.export import csv_text
from components.format import PLOTLY_DATE, fmt_brl, fmt_int, fmt_num, fmt_pct
from components.inputs import date_range, dropdown
from components.theme import apply_theme
from core.portfolio.optimize import OBJECTIVES

__all__ = [
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


def empty_figure(message: str, theme: str | None = None) -> go.Figure:
    """A blank figure carrying ``message`` in its centre."""
    fig = go.Figure()
    fig.update_layout(
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[{"text": message, "showarrow": False, "font": {"size": 14}}],
        height=320,
    )
    return apply_theme(fig, theme)


def _labelled(label: str, control, width: int = 12, md: int | None = None) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className="small mb-1"), control], xs=width, md=md or width)


def portfolio_controls(
    ticker_options: list[dict],
    default_tickers: list[str],
    objectives: dict,
    returns_methods: dict,
    risk_models: dict,
    rebalance: dict,
    span: tuple[str | None, str | None] = (None, None),
) -> dbc.Card:
    """The control panel (ids prefixed ``portfolio-``); ``span`` bounds the date picker."""

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
                            dropdown(
                                id="portfolio-tickers",
                                options=ticker_options,
                                value=default_tickers,
                                multi=True,
                                placeholder="Escolha 2 ou mais ações",
                            ),
                            md=6,
                        ),
                        _labelled(
                            "Janela (vazio = toda a história comum)",
                            date_range("portfolio-dates", span=span, clearable=True),
                            md=3,
                        ),
                        _labelled(
                            "Capital (R$)", num("portfolio-capital", 50000, min=0, step=100), md=3
                        ),
                    ],
                    className="g-2",
                ),
                dbc.Row(
                    [
                        _labelled(
                            "Objetivo",
                            dropdown(
                                id="portfolio-objective",
                                options=opts(objectives),
                                value="max_sharpe",
                                clearable=False,
                            ),
                            md=3,
                        ),
                        _labelled(
                            "Alvo (% a.a.: retorno ou volatilidade)",
                            num("portfolio-target", None, step=0.5),
                            md=2,
                        ),
                        _labelled(
                            "Retorno esperado",
                            dropdown(
                                id="portfolio-returns",
                                options=opts(returns_methods),
                                value="mean_historical",
                                clearable=False,
                            ),
                            md=2,
                        ),
                        _labelled(
                            "Modelo de risco",
                            dropdown(
                                id="portfolio-risk-model",
                                options=opts(risk_models),
                                value="ledoit_wolf",
                                clearable=False,
                            ),
                            md=3,
                        ),
                        _labelled(
                            "Livre de risco (% a.a.; vazio = CDI)",
                            num("portfolio-risk-free", None, step=0.25),
                            md=2,
                        ),
                    ],
                    className="g-2 mt-1",
                ),
                dbc.Row(
                    [
                        _labelled("Peso mín. (%)", num("portfolio-wmin", 0, step=1), md=1),
                        _labelled("Peso máx. (%)", num("portfolio-wmax", 100, step=1), md=1),
                        _labelled("L2 (gamma)", num("portfolio-gamma", 0, min=0, step=0.05), md=1),
                        _labelled(
                            "Aversão a risco",
                            num("portfolio-risk-aversion", 1, min=0, step=0.5),
                            md=1,
                        ),
                        _labelled(
                            "Pontos", num("portfolio-points", 50, min=2, max=500, step=1), md=1
                        ),
                        _labelled(
                            "Visões Black-Litterman (TICKER=% a.a.)",
                            dbc.Input(
                                id="portfolio-views",
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
                                options=[{"label": "treino → teste", "value": "on"}],
                                value=["on"],
                                switch=True,
                            ),
                            md=2,
                        ),
                        _labelled(
                            "Treino (% da janela)",
                            num("portfolio-train", 70, min=20, max=95, step=5),
                            md=2,
                        ),
                        _labelled(
                            "Rebalanceamento",
                            dropdown(
                                id="portfolio-rebalance",
                                options=opts(rebalance),
                                value="quarterly",
                                clearable=False,
                            ),
                            md=2,
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
                            [
                                dbc.Progress(
                                    id="portfolio-progress",
                                    value=0,
                                    striped=True,
                                    animated=True,
                                    style={"height": "1.2rem"},
                                ),
                                html.Div(
                                    id="portfolio-progress-text", className="small text-muted"
                                ),
                            ],
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
            customdata=[[_weights_hover(p["weights"]), p["sharpe"]] for p in pts],
            hovertemplate=(
                "Vol. %{x:.2%} · Ret. %{y:.2%}<br>Sharpe %{customdata[1]:.2f}"
                "<br>%{customdata[0]}<extra></extra>"
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
            hovertemplate="%{text}<br>Vol. %{x:.2%} · Ret. %{y:.2%}<extra></extra>",
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
            hovertemplate="^BVSP<br>Vol. %{x:.2%} · Ret. %{y:.2%}<extra></extra>",
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
                customdata=[[_weights_hover(p["weights"]), p["sharpe"]]],
                hovertemplate=(
                    f"{label}<br>Vol. %{{x:.2%}} · Ret. %{{y:.2%}}<br>Sharpe "
                    "%{customdata[1]:.2f}<br>%{customdata[0]}<extra></extra>"
                ),
            )
        )
    rf = res["window"]["risk_free"]
    fig.add_hline(
        y=rf,
        line={"width": 1, "dash": "dot", "color": "#888"},
        annotation_text=f"CDI {fmt_pct(rf)}"
        if res["window"]["risk_free_source"] == "CDI"
        else f"Livre de risco {fmt_pct(rf)}",
        annotation_position="bottom right",
    )
    fig.update_layout(
        height=520,
        margin={"l": 60, "r": 20, "t": 40, "b": 50},
        title={"text": "Fronteira eficiente (anual)", "x": 0.01},
        xaxis={"title": "Volatilidade [% a.a.]", "tickformat": ".0%", "rangemode": "tozero"},
        yaxis={"title": "Retorno esperado [% a.a.]", "tickformat": ".0%"},
        legend={"orientation": "h", "y": -0.15},
        hovermode="closest",
    )
    return apply_theme(fig, theme)


def weights_figure(weights: dict, theme: str | None = None) -> go.Figure:
    """Horizontal bars of the non-zero weights, largest on top."""
    items = sorted(((t, w) for t, w in weights.items() if abs(w) > 1e-4), key=lambda kv: kv[1])
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
        height=max(220, 34 * len(items) + 80),
        margin={"l": 70, "r": 20, "t": 30, "b": 40},
        xaxis={"tickformat": ".0%", "title": "Peso [%]"},
        title={"text": "Pesos", "x": 0.01},
    )
    return apply_theme(fig, theme)


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
            [t, fmt_pct(w), fmt_pct(a.get("expected_return")), fmt_pct(a.get("volatility"))]
        )
    return _table(
        ["Ação", "Peso", "Retorno esperado [% a.a.]", "Volatilidade [% a.a.]"],
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
        f"({'CDI do período' if w['risk_free_source'] == 'CDI' else 'informada'})."
    )
    objective = html.P(
        f"Objetivo: {res.get('objective_label') or res['objective']}.",
        className="small mb-2 fw-semibold",
        id="portfolio-objective-used",
    )
    cards = [
        _card("Retorno esperado", fmt_pct(p["expected_return"]), "a.a."),
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
        "^BVSP": _COLORS["bench"],
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
        height=460,
        margin={"l": 70, "r": 20, "t": 40, "b": 30},
        hovermode="x unified",
        title={"text": "Fora da amostra: patrimônio e queda a partir do pico", "x": 0.01},
        legend={"orientation": "h", "y": 1.08},
    )
    fig.update_yaxes(title_text="Patrimônio [R$]", tickprefix="R$ ", row=1, col=1)
    fig.update_yaxes(title_text="Queda [%]", tickformat=".0%", row=2, col=1)
    fig.update_xaxes(hoverformat=PLOTLY_DATE)
    return apply_theme(fig, theme)


def oos_table(oos: dict) -> html.Div:
    """Test-window statistics per series and the active return with its 95 % CI."""
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

    return html.Div(
        [
            html.P(
                f"Pesos estimados de {d(tr['start'])} a {d(tr['end'])} ({fmt_int(tr['sessions'])} "
                f"pregões) e mantidos de {d(te['start'])} a {d(te['end'])} "
                f"({fmt_int(te['sessions'])} pregões), com custos da B3.",
                className="small mb-1",
            ),
            _table(
                [
                    "Série",
                    "Retorno total",
                    "Retorno a.a.",
                    "Volatilidade",
                    "Sharpe (CDI)",
                    "Máx. queda",
                    "Custos",
                ],
                rows,
                id_="portfolio-oos-table",
            ),
            html.P(
                f"Carteira − ^BVSP: {ci(oos['active']['vs_benchmark'])}", className="small mb-0"
            ),
            html.P(
                f"Carteira − pesos iguais: {ci(oos['active']['vs_equal_weight'])}",
                className="small",
            ),
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
                OBJECTIVES.get(
                    r["parameters"].get("objective", ""), r["parameters"].get("objective", "")
                ),
                top,
            ]
        )
    return _table(
        ["Nome", "Criada em (UTC)", "Objetivo", "Pesos"], rows, id_="portfolio-saved-table"
    )


#: pt-BR headers of the exports.
WEIGHT_HEADERS = {
    "ticker": "Ação",
    "weight": "Peso (%)",
    "expected_return": "Retorno esperado (% a.a.)",
    "volatility": "Volatilidade (% a.a.)",
}
ORDER_HEADERS = {
    "ticker": "Código",
    "market": "Mercado",
    "side": "Lado (C/V)",
    "shares": "Quantidade",
    "price": "Preço (R$)",
    "value": "Valor (R$)",
    "fees": "Custos (R$)",
    "slippage": "Derrapagem (R$)",
}


def weights_csv(res: dict, machine: bool = False) -> str:
    """CSV of ticker, weight, expected return and volatility (annual).

    pt-BR by default (``;``, decimal comma, percent values, Portuguese headers: opens in
    Excel); ``machine=True``: ``,``, fractions with 8 decimals, code-name headers.
    """
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
    if machine:
        return csv_text(df, machine=True, decimals=8)
    cols = ["weight", "expected_return", "volatility"]
    df[cols] = df[cols] * 100
    return csv_text(df, headers=WEIGHT_HEADERS, decimals=2)


def orders_csv(alloc: dict, machine: bool = False) -> str:
    """CSV of the B3 orders (ticker, market, side C/V, shares, price, value, fees, slippage).

    pt-BR by default, the machine format with ``machine=True`` (see :func:`weights_csv`).
    """
    df = pd.DataFrame(alloc["orders"], columns=list(ORDER_HEADERS))
    return csv_text(df, headers=ORDER_HEADERS, machine=machine, decimals=2)
