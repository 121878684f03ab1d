"""Backtest page (``/backtest``): pick a strategy, run it on B3 data, compare, optimise.

Thin: the callbacks parse the form, call :func:`core.backtest.runner.run_backtest`,
:func:`core.backtest.runs.save_run` / :func:`load_run` and
:func:`core.backtest.optimize.walk_forward`, and hand the results to
:mod:`components.backtest` (results) and :mod:`components.backtest_form` (the form, the tabs,
the page frame, the result title, the report, the stored-runs rows, the walk-forward output).
The two long jobs (backtest, walk-forward) are background
callbacks with progress and cancel; a finished backtest is stored and the page renders it
from its run id, so every result can be reopened later.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, callback, html, no_update

from components import backtest as cb
from components import backtest_form as bf
from components.charts import empty_figure
from components.export import csv_text
from components.inputs import data_span
from components.seed import seed_props
from core.backtest.metrics import METRIC_INFO
from core.backtest.runner import adjust_bars, run_backtest
from core.backtest.runs import list_runs, load_run, save_run
from core.data.resample import bars_at
from core.errors import PregaoError
from core.requests import (
    build_backtest_request,
    build_walk_forward_request,
    run_walk_forward_request,
)
from core.strategies import STRATEGIES
from dashboard.auth import current_author, current_owner
from dashboard.background import job_callback
from dashboard.fanout import mapper as fanout_mapper
from dashboard.runtime import get_store

dash.register_page(__name__, path="/backtest", name="Backtest", order=2, title="Backtest · Pregão")


def _run_name(res) -> str:
    """A stored run's name in Portuguese: strategy label and tickers (codes stay in the CLI)."""
    return f"{bf.strategy_label(res.strategy)} · {', '.join(res.tickers)}"


def _strategy_doc(name: str) -> str:
    return STRATEGIES[name].description


def layout(run: str | None = None, **_kwargs):
    """Page layout; ``?run=ID`` reopens a stored run."""
    try:
        store = get_store()
        instruments = store.instruments()
        tickers = instruments.loc[instruments["kind"] != "index", "ticker"].tolist()
        span = data_span(instruments, ("stock",))
        end = data_span(instruments, ("stock",), common=True)[1]
    except PregaoError:
        tickers, span, end = [], (None, None), None
    run_id = int(run) if run and str(run).isdigit() else None
    root = bf.backtest_page(tickers, span, end, run_id)
    # the callbacks' first answers come with the page (issue 11: no round trip before the
    # first paint; _candles used to wait for _render's)
    seed_props(root, _PARAMS_OUT, _params_form(root["backtest-strategy"].value))
    shown = _render_view(run_id)
    seed_props(root, _RENDER_OUT, shown)
    ticker = shown[_RENDER_OUT.index(("backtest-candle-ticker", "value"))]
    seed_props(root, _CANDLES_OUT, [_candles_view(ticker, run_id)])
    return root


# --------------------------------------------------------------------------- callbacks
#: Outputs of :func:`_params_form` (the layout seeds the first answer).
_PARAMS_OUT = [("backtest-params", "children"), ("backtest-strategy-doc", "children")]


@callback(
    *[Output(c, p) for c, p in _PARAMS_OUT],
    Input("backtest-strategy", "value"),
    prevent_initial_call=True,  # the layout holds the first answer
)
def _params_form(name):
    if name not in STRATEGIES:
        return [], ""
    cls = STRATEGIES[name]
    return cb.param_form([p.to_dict() for p in cls.params]), _strategy_doc(name)


_FORM_STATES = [
    State("backtest-strategy", "value"),
    State({"type": "backtest-param", "name": ALL}, "value"),
    State({"type": "backtest-param", "name": ALL}, "id"),
    State("backtest-tickers", "value"),
    State("backtest-dates", "start_date"),
    State("backtest-dates", "end_date"),
    State("backtest-costs", "value"),
    State("backtest-sizing", "value"),
    State("backtest-size-value", "value"),
    State("backtest-lot", "value"),
    State("backtest-cash", "value"),
    State("backtest-stop-loss", "value"),
    State("backtest-take-profit", "value"),
    State("backtest-trailing", "value"),
    State("backtest-max-bars", "value"),
    State("backtest-short", "value"),
    State("backtest-max-positions", "value"),
    State("backtest-reinvest", "value"),
    State("backtest-adjusted", "value"),
    State("backtest-interval", "value"),
    State("backtest-day-trade", "value"),
    State("backtest-flatten-minutes", "value"),
    State("backtest-margin", "value"),
    State("backtest-fee-contract", "value"),
]


def _form_fields(strategy, pvals, pids, tickers, start, end, *rest) -> dict:
    """The form's values (in :data:`_FORM_STATES` order) as request-builder keywords."""
    (costs, sizing, size_value, lot, cash, stop_loss, take_profit, trailing, max_bars, short,
     max_positions, reinvest, adjusted, interval, day_trade, flatten, margin, fee) = rest  # fmt: skip
    return dict(
        strategy=strategy,
        tickers=tickers,
        params={i["name"]: v for i, v in zip(pids or [], pvals or [])},
        start=start,
        end=end,
        cash=cash,
        costs=costs,
        sizing=sizing,
        size_value=size_value,
        lot=lot,
        stop_loss=stop_loss,
        take_profit=take_profit,
        trailing_stop=trailing,
        max_bars=max_bars,
        allow_short=short,
        max_positions=max_positions,
        reinvest=reinvest,
        adjusted=adjusted,
        interval=interval,
        day_trade=day_trade,
        flatten_minutes=flatten,
        margin_per_contract=margin,
        fee_per_contract=fee,
    )


def _parse_form(*form):
    """The :class:`core.requests.BacktestRequest` of the form (raises InputError).

    An empty or out-of-range number field reaches the server as None: the builder says so
    instead of silently running with the default.
    """
    req = build_backtest_request(**_form_fields(*form))
    return (
        req.strategy,
        req.params,
        list(req.tickers),
        req.start,
        req.end,
        req.engine_config(),
        req.adjusted,
        req.interval,
    )


@job_callback(
    "backtest",
    Output("backtest-run-id", "data"),
    Output("backtest-alert", "children"),
    Output("backtest-alert", "is_open"),
    *_FORM_STATES,
    run="backtest-run",
    cancel="backtest-cancel",
    clear=[("backtest-alert", "is_open", False)],
    adopt=Output("backtest-run-id", "data"),
    writes=True,
)
def _run(job, *form):
    try:
        strategy, params, tickers, start, end, config, adjusted, interval = _parse_form(*form)
        store = get_store()
        res = run_backtest(
            store,
            strategy,
            tickers,
            start,
            end,
            params=params,
            config=config,
            adjusted=adjusted,
            progress=job.progress,
            interval=interval,
        )
        rid = save_run(store, res, name=_run_name(res), owner=current_author())
        job.done(f"Pronto: backtest nº {rid} salvo.", result=rid)
        return rid, "", False
    except PregaoError as exc:
        job.fail(str(exc))
        return no_update, str(exc), True


def _empty_fig(msg: str):
    return empty_figure(msg)


#: Outputs of :func:`_render` (the layout seeds the first answer).
_RENDER_OUT = [
    ("backtest-title", "children"),
    ("backtest-cards", "children"),
    ("backtest-equity", "figure"),
    ("backtest-drawdown", "figure"),
    ("backtest-trades", "rowData"),
    ("backtest-monthly", "figure"),
    ("backtest-taxes", "rowData"),
    ("backtest-candle-ticker", "options"),
    ("backtest-candle-ticker", "value"),
]


@callback(
    *[Output(c, p) for c, p in _RENDER_OUT],
    Input("backtest-run-id", "data"),
    prevent_initial_call=True,  # the layout holds the first answer (``?run=ID`` too)
)
def _render(run_id):
    return _render_view(run_id)


def _render_view(run_id) -> tuple:
    """The values of :data:`_RENDER_OUT` for the stored run ``run_id`` (``no_update`` for
    each without a run: the layout shows the empty result, drawn once)."""
    if not run_id:
        return (no_update,) * len(_RENDER_OUT)
    try:
        res = load_run(get_store(), int(run_id), owner=current_owner())
    except PregaoError as exc:
        return (
            dbc.Alert(str(exc), color="danger"),
            html.Div(),
            _empty_fig(""),
            _empty_fig(""),
            [],
            _empty_fig(""),
            [],
            [],
            None,
        )
    title = bf.result_title(res)
    return (
        title,
        cb.metric_cards(res.metrics),
        cb.equity_figure(res.equity, res.benchmarks),
        cb.drawdown_figure(res.drawdown),
        cb.trades_rows(res.trades),
        cb.monthly_heatmap(res.monthly),
        cb.tax_rows(res.taxes),
        res.tickers,
        res.tickers[0],
    )


#: Output of :func:`_candles` (the layout seeds the first answer).
_CANDLES_OUT = [("backtest-candles", "figure")]


@callback(
    *[Output(c, p) for c, p in _CANDLES_OUT],
    Input("backtest-candle-ticker", "value"),
    Input("backtest-run-id", "data"),
    prevent_initial_call=True,  # the layout holds the first answer
)
def _candles(ticker, run_id):
    return _candles_view(ticker, run_id)


def _candles_view(ticker, run_id):
    """The candle chart of ``ticker`` with the run's trades (``no_update`` without a run)."""
    if not run_id:
        return no_update  # the layout's empty figure
    if not ticker:
        return _empty_fig("")
    try:
        store = get_store()
        res = load_run(store, int(run_id), owner=current_owner())
        if res.interval == "1d":
            bars = store.bars(ticker, res.start, res.end)
        else:  # intraday: the run's bars, the last 20 sessions (one SVG path per candle)
            bars = bars_at(store, ticker, res.interval, res.start, res.end)
            days = bars.index.normalize().unique()
            bars = bars[bars.index >= days[-20]] if len(days) > 20 else bars
    except PregaoError as exc:
        return _empty_fig(str(exc))
    if res.adjusted:
        bars = adjust_bars(bars)
    trades = res.trades
    if res.interval != "1d" and len(trades) and len(bars):
        trades = trades[trades["entry_date"] >= bars.index[0]]
    return cb.candles_figure(bars, trades, ticker)


@callback(
    Output("backtest-download-csv", "data"),
    Input("backtest-export-csv", "n_clicks"),
    State("backtest-run-id", "data"),
    State("backtest-export-machine", "value"),
    prevent_initial_call=True,
)
def _export_csv(_n, run_id, machine):
    """The trades: pt-BR for Excel by default (the grid's columns), raw fields on request."""
    if not run_id:
        return no_update
    res = load_run(get_store(), int(run_id), owner=current_owner())
    if machine:
        text = csv_text(res.trades, machine=True, decimals=6)
    else:
        rows = pd.DataFrame(cb.trades_rows(res.trades), columns=list(cb.TRADE_HEADERS))
        text = csv_text(rows, headers=cb.TRADE_HEADERS, decimals=2)
    return dict(content=text, filename=f"backtest_{run_id}_operacoes.csv")


@callback(
    Output("backtest-download-html", "data"),
    Input("backtest-export-html", "n_clicks"),
    State("backtest-run-id", "data"),
    prevent_initial_call=True,
)
def _export_html(_n, run_id):
    if not run_id:
        return no_update
    res = load_run(get_store(), int(run_id), owner=current_owner())
    return dict(content=bf.report_document(res), filename=f"backtest_{run_id}_relatorio.html")


@callback(
    Output("backtest-runs-box", "children"),
    Input("backtest-runs-refresh", "n_clicks"),
    Input("backtest-run-id", "data"),
    Input("backtest-tabs", "active_tab"),
    prevent_initial_call=True,  # the page opens on "Resultado": nothing to read
)
def _runs(_n, _rid, tab):
    """The stored-runs grid with its rows, built when its tab is open (the page loads on
    "Resultado": no hidden grid is mounted on load, issue 11) and rebuilt on "Atualizar
    lista"; a caller without tabs gets it always."""
    if tab and tab != "backtest-tab-compare":
        return no_update
    try:
        rows = bf.runs_rows(list_runs(get_store(), owner=current_owner()))
    except PregaoError:
        rows = []
    return cb.runs_grid("backtest-runs", rows)


@callback(
    Output("backtest-run-id", "data", allow_duplicate=True),
    Output("backtest-tabs", "active_tab"),
    Output("backtest-compare-alert", "children"),
    Input("backtest-open", "n_clicks"),
    State("backtest-runs", "selectedRows"),
    prevent_initial_call=True,
)
def _open(_n, rows):
    if not rows:
        return (
            no_update,
            no_update,
            dbc.Alert("Selecione um backtest na tabela.", color="info", className="py-1"),
        )
    return int(rows[0]["id"]), "backtest-tab-result", None


@callback(
    Output("backtest-compare-fig-box", "children"),
    Output("backtest-compare-out", "children"),
    Output("backtest-compare-alert", "children", allow_duplicate=True),
    Input("backtest-compare", "n_clicks"),
    State("backtest-runs", "selectedRows"),
    prevent_initial_call=True,
)
def _compare(_n, rows):
    if not rows or len(rows) < 2:
        return (
            no_update,
            no_update,
            dbc.Alert(
                "Selecione dois ou mais backtests para comparar.", color="info", className="py-1"
            ),
        )
    store = get_store()
    curves, items = {}, []
    for r in rows[:8]:
        try:
            res = load_run(store, int(r["id"]), owner=current_owner())
        except PregaoError:
            continue
        name = f"nº {res.run_id} {bf.strategy_label(res.strategy)} ({', '.join(res.tickers)})"
        curves[name] = res.equity
        items.append((name, res.metrics))
    return (
        bf.compare_graph(cb.compare_figure(curves)),
        cb.compare_table(items, bf.COMPARE_KEYS, METRIC_INFO),
        None,
    )


@job_callback(
    "backtest-wf",
    Output("backtest-wf-out", "children"),
    Output("backtest-wf-alert", "children"),
    State("backtest-wf-objective", "value"),
    State("backtest-wf-mode", "value"),
    State("backtest-wf-windows", "value"),
    State("backtest-wf-trials", "value"),
    *_FORM_STATES,
    run="backtest-wf-run",
    cancel="backtest-wf-cancel",
    clear=[("backtest-wf-alert", "children", None)],
    writes=True,
)
def _walk_forward(job, objective, mode, windows, trials, *form):
    try:
        store = get_store()
        fields = _form_fields(*form)
        fields.pop("params")  # the search covers every optimisable parameter
        req = build_walk_forward_request(
            **fields, objective=objective, mode=mode, windows=windows, trials=trials
        )
        res = run_walk_forward_request(store, req, progress=job.progress, mapper=fanout_mapper())
        bt = res.to_backtest_result()
        rid = save_run(
            store,
            bt,
            kind="walk_forward",
            name=_run_name(bt) + " · walk-forward (fora da amostra)",
            owner=current_author(),
        )
        job.done(f"Pronto: fora da amostra salvo como backtest nº {rid}.", result=rid)
    except PregaoError as exc:
        job.fail(str(exc))
        return no_update, dbc.Alert(str(exc), color="danger")
    return bf.wf_output(rid, res, req.backtest.strategy), None
