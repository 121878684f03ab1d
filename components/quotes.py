"""Quotes page pieces: the controls and the KPI cards."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import dcc, html

from components.cards import kpi_card, kpi_row, sign_class
from components.export import machine_switch
from components.format import fmt_date, fmt_num, fmt_pct, fmt_price
from components.inputs import date_range, dropdown

__all__ = ["quote_controls", "quote_kpis"]


_PERIOD_LABELS = {
    "rsi": "IFR",
    "macd": "MACD",
    "stochastic": "Estoc.",
    "atr": "ATR",
    "adx": "ADX",
}


def _field(label: str, *controls, md="auto", html_for: str | None = None, **col) -> dbc.Col:
    """A labelled control column of the control bar."""
    return dbc.Col([dbc.Label(label, html_for=html_for), *controls], md=md, **col)


def _switch(element_id: str, label: str, on: bool) -> dbc.Checklist:
    """A single on/off switch whose value is ``["on"]`` or ``[]``."""
    return dbc.Checklist(
        id=element_id,
        options=[{"label": label, "value": "on"}],
        value=["on"] if on else [],
        switch=True,
    )


def _periods_input(element_id: str, value: str, placeholder: str) -> dbc.Input:
    return dbc.Input(id=element_id, value=value, placeholder=placeholder, debounce=True, size="sm")


def quote_controls(
    state: dict,
    ticker_options: list[dict],
    presets: list[str],
    panels: dict[str, str],
    span: tuple[str | None, str | None] = (None, None),
    intervals: dict[str, str] | None = None,
) -> dbc.Card:
    """The control bar. ``state`` holds the initial values (parsed from the URL).

    ``ticker_options`` as :func:`components.inputs.ticker_options` (search ignores accents);
    ``span`` is the data's first and last session, which bounds the date picker;
    ``intervals`` maps the interval buttons' labels to interval values
    (:data:`core.quotes.INTERVALS`).
    """
    interval = dbc.RadioItems(
        id="quotes-interval",
        options=[{"label": k, "value": v} for k, v in (intervals or {"D": "1d"}).items()],
        value=state.get("interval", "1d"),
        inline=True,
        className="btn-group",
        inputClassName="btn-check",
        labelClassName="btn btn-outline-secondary btn-sm",
        labelCheckedClassName="active",
    )
    ticker = dropdown(
        id="quotes-ticker",
        options=ticker_options,
        value=state["ticker"],
        clearable=False,
        searchable=True,
        placeholder="Buscar ticker ou nome…",
    )
    preset = dbc.RadioItems(
        id="quotes-preset",
        options=[{"label": p, "value": p} for p in presets],
        value=state["preset"],
        inline=True,
        className="btn-group",
        inputClassName="btn-check",
        labelClassName="btn btn-outline-primary btn-sm",
        labelCheckedClassName="active",
    )
    dates = date_range(
        "quotes-dates",
        state["start"],
        state["end"],
        span=span,
        clearable=True,
        minimum_nights=0,
    )
    prices = dbc.RadioItems(
        id="quotes-adjusted",
        options=[
            {"label": "Negociados", "value": "raw"},
            {"label": "Ajustados por proventos", "value": "adj"},
        ],
        value="adj" if state["adjusted"] else "raw",
        inline=True,
    )
    lower = dbc.Checklist(
        id="quotes-panels",
        options=[{"label": v, "value": k} for k, v in panels.items()],
        value=state["panels"],
        inline=True,
    )
    export = [
        dbc.Button(
            [html.I(className="bi bi-download me-1"), "Exportar CSV"],
            id="quotes-export",
            color="secondary",
            size="sm",
            outline=True,
        ),
        dcc.Download(id="quotes-download"),
        machine_switch("quotes-export-machine"),
    ]
    first = [
        _field("Ticker", ticker, md=3, html_for="quotes-ticker"),
        _field("Intervalo", html.Div(interval)),
        _field("Período", html.Div(preset)),
        _field("Intervalo personalizado", dates),
        _field("Preços", prices),
    ]
    second = [
        _field(
            "MMS (períodos)",
            _periods_input("quotes-sma", state["sma"], "ex.: 20, 50"),
            md=2,
            html_for="quotes-sma",
        ),
        _field(
            "MME (períodos)",
            _periods_input("quotes-ema", state["ema"], "ex.: 9, 21"),
            md=2,
            html_for="quotes-ema",
        ),
        _field(
            "Sobreposições",
            _switch("quotes-bollinger", "Bollinger (20, 2)", state["bollinger"]),
            _switch("quotes-log", "escala logarítmica", state.get("log")),
        ),
        _field("Painéis inferiores", lower),
        _field(
            "Períodos dos painéis",
            html.Div(
                [
                    dbc.InputGroup(
                        [
                            dbc.InputGroupText(label),
                            dbc.Input(
                                id=f"quotes-p-{key}",
                                value=(state.get("params") or {}).get(key, ""),
                                debounce=True,
                                size="sm",
                                style={"maxWidth": "7.5rem"},
                            ),
                        ],
                        size="sm",
                        className="me-1 mb-1 w-auto",
                    )
                    for key, label in _PERIOD_LABELS.items()
                ],
                className="d-flex flex-wrap",
            ),
        ),
        _field(
            "Comparar com (até 3)",
            dropdown(
                id="quotes-peers",
                options=ticker_options,
                value=list(state.get("peers") or []),
                multi=True,
                searchable=True,
                placeholder="Outros tickers…",
                style={"minWidth": "220px"},
            ),
            dbc.RadioItems(
                id="quotes-peer-mode",
                options=[
                    {"label": "Sobrepostos (base 100, %)", "value": "overlay"},
                    {"label": "Lado a lado", "value": "side"},
                ],
                value=state.get("peer_mode") or "overlay",
                inline=True,
                className="small",
            ),
            html_for="quotes-peers",
        ),
        _field(
            "Comparar / marcar",
            _switch("quotes-compare", "com ^BVSP (base 100)", state["compare"]),
            _switch("quotes-anomalies", "anomalias (IsolationForest)", state.get("anomalies")),
        ),
        dbc.Col(export, md="auto", className="ms-auto"),
    ]
    return dbc.Card(
        dbc.CardBody(
            [
                dbc.Row(first, className="g-3 align-items-end"),
                dbc.Row(second, className="g-3 mt-1 align-items-end"),
            ]
        ),
        className="mb-2",
    )


def anomaly_list(view) -> html.Div | None:
    """The anomalous sessions of the range, newest first, with severity and day return."""
    an = getattr(view, "anomalies", None)
    if an is None:
        return None
    if an.empty:
        return html.Div(
            "Nenhuma sessão anômala no período.",
            id="quotes-anomaly-list",
            className="text-muted small mb-2",
        )
    items = [
        html.Li(
            f"{fmt_date(d)} · severidade {r.severity} · retorno do dia "
            f"{fmt_pct(float(np.expm1(r.ret_1)), sign=True)}"
        )
        for d, r in an.iloc[::-1].iterrows()
    ]
    return html.Details(
        [
            html.Summary(
                f"{len(an)} {'sessão anômala' if len(an) == 1 else 'sessões anômalas'} no "
                "período (IsolationForest, 2% mais "
                "atípicas do histórico; descritivo, não é previsão)"
            ),
            html.Ul(items, className="small mb-0"),
        ],
        id="quotes-anomaly-list",
        className="mb-2",
    )


def quote_kpis(view, extra=None) -> html.Div:
    """KPI cards for a :class:`core.quotes.QuoteView` (every number with its unit)."""
    st = view.stats
    kind = view.kind

    def money(x):
        return fmt_price(x, kind)

    return html.Div([_kpis(view, st, money), extra])


def _basis(st) -> str:
    """Which series a change card uses (it follows the Ajustados/Negociados toggle)."""
    if getattr(st, "adjusted", True):
        return "preço ajustado (com proventos)"
    return "preço negociado (desdobramentos ajustados)"


def _kpis(view, st, money) -> dbc.Row:
    return kpi_row(
        [
            kpi_card(
                "Último", money(st.last), f"em {fmt_date(st.last_date)}", card_id="quotes-kpi-last"
            ),
            kpi_card(
                "Variação no dia",
                fmt_pct(st.change_1d, sign=True),
                _basis(st),
                value_class=sign_class(st.change_1d),
            ),
            kpi_card(
                "Variação no período",
                fmt_pct(st.change_range, sign=True),
                f"{fmt_date(view.start)} a {fmt_date(view.end)}, {_basis(st)}",
                value_class=sign_class(st.change_range),
                card_id="quotes-kpi-change",
            ),
            kpi_card(
                "Faixa de 52 semanas",
                f"{money(st.low_52w)} – {money(st.high_52w)}",
                None
                if st.range_start is None or st.range_start <= st.last_date - pd.Timedelta(days=360)
                else f"histórico curto: desde {fmt_date(st.range_start)}",
            ),
            kpi_card(
                "Volatilidade anualizada",
                fmt_pct(st.volatility),
                f"desvio-padrão dos retornos log diários ({st.n_volatility} pregões) × √252",
            ),
            kpi_card(
                "Beta vs ^BVSP", fmt_num(st.beta, 2), f"{st.n_beta} pregões, retornos diários"
            ),
        ]
    )
