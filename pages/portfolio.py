"""Carteira (``/portfolio``): Markowitz frontier against ^BVSP and allocation in B3 lots.

Thin page: parse the controls, call :func:`core.portfolio.analyse` in a background
callback with progress, hand the plain result to :mod:`components.portfolio`.

Loading the page computes nothing: it shows the last stored analysis (``portfolio_runs``,
with the controls that produced it) or, when there is none, the form. "Calcular" computes
and stores; an error clears the previous result so that no stale figures stay under it.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from components.export import machine_switch
from components.inputs import data_span, dropdown, ticker_options
from components.portfolio import (
    CONTROL_KEYS,
    allocation_view,
    controls_from_parameters,
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
from components.seed import seed_props
from components.theme import graph_config
from core.errors import PregaoError
from core.portfolio import (
    OBJECTIVES,
    REBALANCE,
    RETURN_METHODS,
    RISK_MODELS,
    UNIVERSES,
    PortfolioRequest,
    latest_run,
    list_portfolios,
    load_portfolio,
    most_liquid,
    save_portfolio,
)
from core.requests import build_frontier_request, run_frontier_request
from core.requests.parsing import parse_number, parse_percent
from dashboard.auth import current_author, current_owner
from dashboard.background import job_callback
from dashboard.fanout import mapper as fanout_mapper
from dashboard.runtime import get_settings, get_store

dash.register_page(__name__, path="/portfolio", name="Carteira", title="Pregão · Carteira", order=3)


def _alert(message: str, color: str = "danger") -> dbc.Alert:
    return dbc.Alert(
        message,
        color=color,
        dismissable=True,
        className="py-2",
    )


def _saved_options(saved: list[dict]) -> list[dict]:
    return [{"label": r["name"], "value": r["name"]} for r in saved]


def layout(**_query):
    """Controls and the last stored result (read only), drawn by :func:`render` in the
    layout; nothing is computed on load."""
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
        saved = list_portfolios(store, owner=current_owner())
    except Exception:  # noqa: BLE001 - the list is an extra; never blank the page
        saved = []
    try:
        last = latest_run(store, "analysis", owner=current_author())
    except Exception:  # noqa: BLE001 - a missing table (old database) shows the form
        last = None
    result, values, banner = None, None, None
    if last is not None:
        result = last["result"]
        values = controls_from_parameters(last["parameters"])
        banner = dbc.Alert(
            f"Último resultado calculado em {last['created_at']:%d/%m/%Y %H:%M} (UTC), com os "
            "controles abaixo. Clique em Calcular para atualizar.",
            color="info",
            className="py-2 small",
            id="portfolio-stored-banner",
        )
    root = html.Div(
        [
            html.H4("Carteira: fronteira eficiente contra o IBOVESPA", className="mb-3"),
            portfolio_controls(
                options,
                default,
                OBJECTIVES,
                RETURN_METHODS,
                RISK_MODELS,
                REBALANCE,
                UNIVERSES,
                values=values,
                span=data_span(instruments, ("stock",)),
            ),
            # data left unset without a result: a Store given data=None reports a change when
            # it mounts (which fired render on every page load, issue 11)
            dcc.Store(id="portfolio-result", **({} if result is None else {"data": result})),
            html.Div(banner, id="portfolio-message"),
            html.Div(id="portfolio-summary", className="mb-2"),
            dbc.Row(
                [
                    dbc.Col(
                        dcc.Graph(
                            id="portfolio-frontier",
                            figure=empty_figure("Escolha as ações e clique em Calcular."),
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
            dbc.Row(
                [
                    dbc.Col(
                        dropdown(
                            id="portfolio-load-name",
                            options=_saved_options(saved),
                            placeholder="Escolha uma carteira salva",
                        ),
                        md=4,
                    ),
                    dbc.Col(
                        dbc.Button(
                            [
                                html.I(className="bi bi-box-arrow-in-up me-1"),
                                "Carregar nos controles",
                            ],
                            id="portfolio-load",
                            size="sm",
                            color="secondary",
                            outline=True,
                        ),
                        width="auto",
                    ),
                ],
                className="g-2 mb-2",
            ),
            html.Div(id="portfolio-load-message"),
            html.Div(saved_table(saved), id="portfolio-saved"),
        ]
    )
    seed_props(root, _RENDER_OUT, render(result, get_settings().theme))
    return root


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
    oos_universe,
    lookback_years,
    rebalance,
) -> PortfolioRequest:
    """The controls (percent fields in %) as a request, via the one builder of the job."""
    return build_frontier_request(
        tickers,
        start=start,
        end=end,
        objective=objective,
        target=parse_percent(target, "Alvo"),
        returns_method=returns,
        risk_model=risk_model,
        risk_free=parse_percent(risk_free, "Taxa livre de risco"),
        weight_min=parse_percent(wmin, "Peso mínimo"),
        weight_max=parse_percent(wmax, "Peso máximo"),
        asset_bounds=asset_bounds,
        gamma=gamma,
        risk_aversion=risk_aversion,
        points=points,
        views=views,
        holdings=holdings,
        capital=capital,
        out_of_sample=bool(oos) and (oos is True or "on" in oos),
        rebalance=rebalance,
        oos_universe=oos_universe,
        lookback=_lookback(lookback_years),
        default_risk_free=get_settings().risk_free_rate,
    )


def _lookback(years) -> int | None:
    """The page's estimation window in years as sessions (the request checks the range)."""
    y = parse_number(years, "Janela de estimação (anos)", lo=0.25, hi=20)
    return None if y is None else int(round(y * 252))


@job_callback(
    "portfolio",
    Output("portfolio-result", "data"),
    Output("portfolio-message", "children"),
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
    State("portfolio-oos-universe", "value"),
    State("portfolio-lookback", "value"),
    State("portfolio-rebalance", "value"),
    run="portfolio-run",
    cancel="portfolio-cancel",
    clear=[("portfolio-message", "children", None)],
    adopt=Output("portfolio-result", "data"),
    writes=True,
)
def run(job, *controls):
    """Background job: analyse and store the portfolio; an error clears the old result.

    Nothing is computed on page load (the page shows the last stored analysis); a page left
    mid-job picks the job up and, once it ended, gets its result.
    """
    try:
        req = build_request(*controls)  # an empty rate field: PREGAO_RISK_FREE_RATE, else CDI
        res = run_frontier_request(
            get_store(),
            req,
            progress=job.progress,
            record=True,
            owner=current_author(),
            mapper=fanout_mapper(),
        ).to_dict()
    except PregaoError as exc:
        job.fail(str(exc))
        # Clear the previous result: figures under an error would read as its answer.
        return None, _alert(str(exc))
    warnings = res.get("warnings") or []
    job.done("Pronto: carteira calculada e registrada.", result=res)
    return res, (_alert(" ".join(warnings), "warning") if warnings else None)


#: Outputs of :func:`render` (the layout seeds the first answer).
_RENDER_OUT = [
    ("portfolio-summary", "children"),
    ("portfolio-frontier", "figure"),
    ("portfolio-weights", "figure"),
    ("portfolio-weights-table-div", "children"),
    ("portfolio-oos-section", "children"),
    ("portfolio-allocation", "children"),
]


@callback(
    *[Output(c, p) for c, p in _RENDER_OUT],
    Input("portfolio-result", "data"),
    State("theme-store", "data"),
    prevent_initial_call=True,  # the layout holds the first answer (the stored result too)
)
def render(res, theme):
    """Draw the result of :func:`run` (or the stored one: the layout calls it on page load,
    in the default theme; the browser restyles a figure of the other theme); None = the
    form."""
    if not res:
        return (
            None,
            empty_figure("Escolha as ações e clique em Calcular.", theme),
            empty_figure("", theme),
            None,
            None,
            None,
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
    Output("portfolio-load-name", "options"),
    Input("portfolio-save", "n_clicks"),
    State("portfolio-save-name", "value"),
    State("portfolio-result", "data"),
    prevent_initial_call=True,
)
def save(_n, name, res):
    """Save the current portfolio under ``name``."""
    if not res:
        return (
            dbc.Alert("Calcule uma carteira antes de salvar.", color="warning", className="py-2"),
            no_update,
            no_update,
        )
    store = get_store()
    try:
        save_portfolio(store, name or "", res["weights"], res["parameters"], owner=current_author())
    except PregaoError as exc:
        alert = dbc.Alert(str(exc), color="danger", className="py-2", dismissable=True)
        return alert, no_update, no_update
    saved = list_portfolios(store, owner=current_owner())
    return (
        dbc.Alert(f"Carteira {name!r} salva.", color="success", className="py-2", dismissable=True),
        saved_table(saved),
        _saved_options(saved),
    )


_CONTROL_PROPS = {
    "tickers": ("portfolio-tickers", "value"),
    "start": ("portfolio-dates", "start_date"),
    "end": ("portfolio-dates", "end_date"),
    "objective": ("portfolio-objective", "value"),
    "target": ("portfolio-target", "value"),
    "returns": ("portfolio-returns", "value"),
    "risk_model": ("portfolio-risk-model", "value"),
    "risk_free": ("portfolio-risk-free", "value"),
    "wmin": ("portfolio-wmin", "value"),
    "wmax": ("portfolio-wmax", "value"),
    "gamma": ("portfolio-gamma", "value"),
    "risk_aversion": ("portfolio-risk-aversion", "value"),
    "points": ("portfolio-points", "value"),
    "views": ("portfolio-views", "value"),
    "asset_bounds": ("portfolio-asset-bounds", "value"),
    "holdings": ("portfolio-holdings", "value"),
    "capital": ("portfolio-capital", "value"),
    "oos": ("portfolio-oos", "value"),
    "oos_universe": ("portfolio-oos-universe", "value"),
    "lookback": ("portfolio-lookback", "value"),
    "rebalance": ("portfolio-rebalance", "value"),
}


@callback(
    *[
        Output(cid, prop, allow_duplicate=True)
        for cid, prop in (_CONTROL_PROPS[k] for k in CONTROL_KEYS)
    ],
    Output("portfolio-load-message", "children"),
    Input("portfolio-load", "n_clicks"),
    State("portfolio-load-name", "value"),
    prevent_initial_call=True,
)
def load_saved(_n, name):
    """Fill the controls with a saved portfolio's parameters (the user then clicks Calcular)."""
    keep = [no_update] * len(CONTROL_KEYS)
    if not name:
        return *keep, dbc.Alert("Escolha uma carteira salva.", color="warning", className="py-2")
    try:
        rec = load_portfolio(get_store(), name, owner=current_owner())
    except PregaoError as exc:
        return *keep, dbc.Alert(str(exc), color="danger", className="py-2", dismissable=True)
    values = controls_from_parameters(rec["parameters"])
    out = [values.get(k, no_update) for k in CONTROL_KEYS]
    missing = [k for k in ("objective", "tickers") if k not in values]
    msg = (
        f"Controles preenchidos com a carteira {name!r}. Clique em Calcular."
        if not missing
        else f"A carteira {name!r} foi salva sem alguns parâmetros; o resto ficou como estava."
    )
    return *out, dbc.Alert(msg, color="success", className="py-2", dismissable=True)
