"""Carteira (``/portfolio``): Markowitz frontier against ^BVSP and allocation in B3 lots.

Thin page: parse the controls, call :func:`core.portfolio.analyse` in a background
callback with progress, hand the plain result to :mod:`components.portfolio`.
"""

from __future__ import annotations

from dataclasses import replace

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from components.export import machine_switch
from components.inputs import data_span, ticker_options
from components.portfolio import (
    allocation_view,
    empty_figure,
    frontier_figure,
    oos_figure,
    oos_table,
    orders_csv,
    portfolio_controls,
    saved_table,
    summary_cards,
    weights_csv,
    weights_figure,
    weights_table,
)
from components.theme import graph_config
from core.errors import InputError, PregaoError
from core.portfolio import (
    OBJECTIVES,
    REBALANCE,
    RETURN_METHODS,
    RISK_MODELS,
    PortfolioRequest,
    PortfolioSpec,
    analyse,
    list_portfolios,
    most_liquid,
    parse_pairs,
    parse_percent_range,
    save_portfolio,
)
from dashboard.runtime import get_settings, get_store

dash.register_page(__name__, path="/portfolio", name="Carteira", title="Pregão · Carteira", order=3)


def _alert(message: str, color: str = "danger") -> dbc.Alert:
    return dbc.Alert(
        message,
        color=color,
        dismissable=True,
        className="py-2",
    )


def layout(**_query):
    """Controls with the 10 most liquid bundled stocks preselected; results fill on run."""
    store = get_store()
    instruments = store.instruments()
    stock_rows = instruments[instruments["kind"] == "stock"]
    stocks = stock_rows["ticker"].tolist()
    options = ticker_options(stock_rows)
    try:
        default = most_liquid(store, 10)
    except PregaoError:
        default = stocks[:10]
    try:
        saved = list_portfolios(store)
    except Exception:  # noqa: BLE001 - the list is an extra; never blank the page
        saved = []
    return html.Div(
        [
            html.H4("Carteira: fronteira eficiente contra o IBOVESPA", className="mb-3"),
            portfolio_controls(
                options,
                default,
                OBJECTIVES,
                RETURN_METHODS,
                RISK_MODELS,
                REBALANCE,
                data_span(instruments, ("stock",)),
            ),
            dcc.Store(id="portfolio-result"),
            html.Div(id="portfolio-message"),
            html.Div(id="portfolio-summary", className="mb-2"),
            dbc.Row(
                [
                    dbc.Col(
                        dcc.Graph(
                            id="portfolio-frontier",
                            figure=empty_figure("Calculando a fronteira…"),
                            config=graph_config(),
                        ),
                        lg=8,
                    ),
                    dbc.Col(
                        [
                            dcc.Graph(
                                id="portfolio-weights",
                                figure=empty_figure(""),
                                config=graph_config(),
                            ),
                            html.Div(id="portfolio-weights-table-div"),
                        ],
                        lg=4,
                    ),
                ]
            ),
            html.H5("Teste fora da amostra", className="mt-3"),
            html.Div(id="portfolio-oos-section"),
            html.H5("Alocação em lotes da B3", className="mt-3"),
            html.Div(id="portfolio-allocation"),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Button(
                            [html.I(className="bi bi-download me-1"), "Pesos (CSV)"],
                            id="portfolio-export-weights",
                            size="sm",
                            color="secondary",
                            outline=True,
                        ),
                        width="auto",
                    ),
                    dbc.Col(
                        dbc.Button(
                            [html.I(className="bi bi-download me-1"), "Ordens (CSV)"],
                            id="portfolio-export-orders",
                            size="sm",
                            color="secondary",
                            outline=True,
                        ),
                        width="auto",
                    ),
                    dbc.Col(
                        dbc.Input(
                            id="portfolio-save-name", placeholder="Nome da carteira", size="sm"
                        ),
                        md=3,
                    ),
                    dbc.Col(
                        dbc.Button(
                            [html.I(className="bi bi-save me-1"), "Salvar carteira"],
                            id="portfolio-save",
                            size="sm",
                            color="primary",
                            outline=True,
                        ),
                        width="auto",
                    ),
                ],
                className="g-2 mt-2 mb-2",
            ),
            dcc.Download(id="portfolio-download-weights"),
            dcc.Download(id="portfolio-download-orders"),
            machine_switch("portfolio-export-machine"),
            html.Div(id="portfolio-save-message"),
            html.H5("Carteiras salvas", className="mt-3"),
            html.Div(saved_table(saved), id="portfolio-saved"),
        ]
    )


def _pct(x, what: str) -> float | None:
    if x is None or x == "":
        return None
    try:
        return float(x) / 100.0
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} inválido: {x!r}.") from exc


def build_request(
    tickers,
    start,
    end,
    objective,
    target,
    returns,
    risk_model,
    risk_free,
    wmin,
    wmax,
    gamma,
    risk_aversion,
    points,
    views,
    holdings,
    asset_bounds,
    capital,
    oos,
    train,
    rebalance,
) -> PortfolioRequest:
    """Parse the page controls (percent fields are in %) into a request."""
    spec = PortfolioSpec(
        objective=objective or "max_sharpe",
        target=_pct(target, "Alvo"),
        bounds=(
            _pct(wmin, "Peso mínimo") or 0.0,
            _pct(wmax, "Peso máximo") if wmax not in (None, "") else 1.0,
        ),
        per_asset_bounds=parse_pairs(asset_bounds, "Limites por ativo", parse_percent_range),
        gamma=float(gamma or 0.0),
        risk_aversion=float(risk_aversion) if risk_aversion not in (None, "") else 1.0,
        views=parse_pairs(views, "Visões", lambda v: float(v.rstrip("%").replace(",", ".")) / 100)
        or None,
    )
    return PortfolioRequest(
        tickers=list(tickers or []),
        start=start or None,
        end=end or None,
        returns_method=returns or "mean_historical",
        risk_model=risk_model or "ledoit_wolf",
        risk_free=_pct(risk_free, "Taxa livre de risco"),
        spec=spec,
        points=int(points or 50),
        capital=float(capital) if capital not in (None, "") else None,
        holdings=parse_pairs(holdings, "Posições", lambda v: int(float(v))) or None,
        out_of_sample=bool(oos) and (oos is True or "on" in oos),
        train_fraction=(float(train) / 100.0) if train else 0.7,
        rebalance=rebalance or "none",
    )


@callback(
    Output("portfolio-result", "data"),
    Output("portfolio-message", "children"),
    Input("portfolio-run", "n_clicks"),
    State("portfolio-tickers", "value"),
    State("portfolio-dates", "start_date"),
    State("portfolio-dates", "end_date"),
    State("portfolio-objective", "value"),
    State("portfolio-target", "value"),
    State("portfolio-returns", "value"),
    State("portfolio-risk-model", "value"),
    State("portfolio-risk-free", "value"),
    State("portfolio-wmin", "value"),
    State("portfolio-wmax", "value"),
    State("portfolio-gamma", "value"),
    State("portfolio-risk-aversion", "value"),
    State("portfolio-points", "value"),
    State("portfolio-views", "value"),
    State("portfolio-holdings", "value"),
    State("portfolio-asset-bounds", "value"),
    State("portfolio-capital", "value"),
    State("portfolio-oos", "value"),
    State("portfolio-train", "value"),
    State("portfolio-rebalance", "value"),
    background=True,
    progress=[Output("portfolio-progress", "value"), Output("portfolio-progress-text", "children")],
    running=[
        (Output("portfolio-run", "disabled"), True, False),
        (Output("portfolio-cancel", "disabled"), False, True),
        (Output("job-running", "data"), True, False),
    ],
    cancel=[Input("portfolio-cancel", "n_clicks")],
    prevent_initial_call=False,
)
def run(set_progress, _n, *controls):
    """Background job: analyse the portfolio; errors become an alert, results stay."""

    def progress(f: float, msg: str) -> None:
        set_progress((round(100 * f), msg))

    try:
        req = build_request(*controls)
        if req.risk_free is None and get_settings().risk_free_rate is not None:
            # PREGAO_RISK_FREE_RATE overrides the CDI default when the field is empty.
            req = replace(req, risk_free=get_settings().risk_free_rate)
        res = analyse(get_store(), req, progress=progress)
    except PregaoError as exc:
        set_progress((0, ""))
        return no_update, _alert(str(exc))
    return res, None


@callback(
    Output("portfolio-summary", "children"),
    Output("portfolio-frontier", "figure"),
    Output("portfolio-weights", "figure"),
    Output("portfolio-weights-table-div", "children"),
    Output("portfolio-oos-section", "children"),
    Output("portfolio-allocation", "children"),
    Output("portfolio-progress", "value", allow_duplicate=True),
    Output("portfolio-progress-text", "children", allow_duplicate=True),
    Input("portfolio-result", "data"),
    State("theme-store", "data"),
    prevent_initial_call=True,
)
def render(res, theme):
    """Draw the result of :func:`run`."""
    if not res:
        return (
            None,
            empty_figure("Escolha as ações e clique em Calcular.", theme),
            empty_figure("", theme),
            None,
            None,
            None,
            0,
            "",
        )
    oos = res.get("out_of_sample")
    oos_div = (
        html.Div(
            [
                dcc.Graph(
                    figure=oos_figure(oos, theme),
                    id="portfolio-oos-graph",
                    config=graph_config(),
                ),
                oos_table(oos),
            ]
        )
        if oos
        else html.P("Ative o teste fora da amostra para vê-lo.", className="small text-muted")
    )
    return (
        summary_cards(res),
        frontier_figure(res, theme),
        weights_figure(res["weights"], theme),
        weights_table(res),
        oos_div,
        allocation_view(res.get("allocation"), res.get("prices")),
        100,
        "Concluído.",
    )


@callback(
    Output("portfolio-download-weights", "data"),
    Input("portfolio-export-weights", "n_clicks"),
    State("portfolio-result", "data"),
    State("portfolio-export-machine", "value"),
    prevent_initial_call=True,
)
def export_weights(_n, res, machine):
    """Weights as CSV (pt-BR for Excel, or the machine format)."""
    if not res:
        return no_update
    return dcc.send_string(weights_csv(res, bool(machine)), "pesos_carteira.csv")


@callback(
    Output("portfolio-download-orders", "data"),
    Output("portfolio-save-message", "children", allow_duplicate=True),
    Input("portfolio-export-orders", "n_clicks"),
    State("portfolio-result", "data"),
    State("portfolio-export-machine", "value"),
    prevent_initial_call=True,
)
def export_orders(_n, res, machine):
    """B3 orders as CSV (needs a capital)."""
    if not res or not res.get("allocation"):
        return no_update, dbc.Alert(
            "Informe o capital e calcule para gerar ordens.",
            color="warning",
            className="py-2",
            dismissable=True,
        )
    return dcc.send_string(orders_csv(res["allocation"], bool(machine)), "ordens_b3.csv"), None


@callback(
    Output("portfolio-save-message", "children"),
    Output("portfolio-saved", "children"),
    Input("portfolio-save", "n_clicks"),
    State("portfolio-save-name", "value"),
    State("portfolio-result", "data"),
    prevent_initial_call=True,
)
def save(_n, name, res):
    """Save the current portfolio under ``name``."""
    if not res:
        return dbc.Alert(
            "Calcule uma carteira antes de salvar.", color="warning", className="py-2"
        ), no_update
    store = get_store()
    try:
        save_portfolio(store, name or "", res["weights"], res["parameters"])
    except PregaoError as exc:
        return dbc.Alert(str(exc), color="danger", className="py-2", dismissable=True), no_update
    return (
        dbc.Alert(f"Carteira {name!r} salva.", color="success", className="py-2", dismissable=True),
        saved_table(list_portfolios(store)),
    )
