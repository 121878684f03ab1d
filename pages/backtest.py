"""Backtest page (``/backtest``): pick a strategy, run it on B3 data, compare, optimise.

Thin: the callbacks parse the form, call :func:`core.backtest.runner.run_backtest`,
:func:`core.backtest.runs.save_run` / :func:`load_run` and
:func:`core.backtest.optimize.walk_forward`, and hand the results to
:mod:`components.backtest`. The two long jobs (backtest, walk-forward) are background
callbacks with progress and cancel; a finished backtest is stored and the page renders it
from its run id, so every result can be reopened later.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from components import backtest as cb
from components.charts import empty_figure
from components.export import csv_text, machine_switch
from components.format import fmt_brl, fmt_date, fmt_pct
from components.inputs import data_span, date_range, dropdown
from components.jobs import job_progress
from components.labels import bt_objective_label
from components.theme import graph_config
from core.backtest.metrics import METRIC_INFO
from core.backtest.optimize import OBJECTIVES
from core.backtest.runner import adjust_bars, run_backtest
from core.backtest.runs import list_runs, load_run, save_run
from core.data.resample import bars_at
from core.errors import PregaoError
from core.requests import (
    DEFAULT_CASH,
    DEFAULT_TRIALS,
    SIZING_DEFAULTS,
    build_backtest_request,
    build_walk_forward_request,
    run_walk_forward_request,
)
from core.requests.backtest import DEFAULT_FLATTEN_MINUTES as DEFAULT_FLATTEN_MIN
from core.strategies import STRATEGIES, params_text
from core.textfmt import by_unit
from dashboard.auth import current_author, current_owner
from dashboard.background import job_callback
from dashboard.fanout import mapper as fanout_mapper
from dashboard.runtime import get_store

dash.register_page(__name__, path="/backtest", name="Backtest", order=2, title="Backtest · Pregão")

SIZING_LABELS = {
    "all_in": "Todo o caixa (dividido pelas vagas)",
    "fixed": "Valor fixo (R$)",
    "percent": "% do patrimônio",
    "risk": "Risco até o stop (% do patrimônio)",
    "kelly": "Kelly fracionário (½, teto 25%)",
    "contracts": "Quantidade fixa (contratos/ações)",
}
#: The interval picker (issue 14): daily or intraday bars (resampled inside sessions).
INTERVAL_OPTIONS = {
    "1d": "Diário",
    "5min": "5 minutos",
    "15min": "15 minutos",
    "30min": "30 minutos",
    "60min": "60 minutos",
    "1min": "1 minuto",
}
LOT_OPTIONS = {
    "100f": "Lote de 100 + fracionário",
    "100": "Só lotes de 100",
    "1": "Lote de 1 ação",
}
COMPARE_KEYS = [
    "total_return_pct",
    "annual_return_pct",
    "volatility_pct",
    "sharpe",
    "sortino",
    "max_drawdown_pct",
    "calmar",
    "n_trades",
    "win_rate_pct",
    "win_rate_ci_low_pct",
    "win_rate_ci_high_pct",
    "profit_factor",
    "payoff",
    "expectancy_brl",
    "costs_brl",
    "taxes_brl",
    "buy_hold_return_pct",
    "bvsp_return_pct",
]


def _strategy_label(code: str) -> str:
    cls = STRATEGIES.get(code)
    return cls.label if cls else code


def _run_name(res) -> str:
    """A stored run's name in Portuguese: strategy label and tickers (codes stay in the CLI)."""
    return f"{_strategy_label(res.strategy)} · {', '.join(res.tickers)}"


def _strategy_doc(name: str) -> str:
    return STRATEGIES[name].description


def _field(label, control, help_text=None):
    return html.Div(
        [dbc.Label(label, className="small mb-0"), control]
        + ([html.Div(help_text, className="form-text")] if help_text else []),
        className="mb-2",
    )


def _intraday_fields():
    """Interval, day-trade and futures contract options (issue 14)."""

    def num(id_, label, placeholder, value=None, step=1):
        return dbc.Col(
            _field(
                label,
                dbc.Input(
                    id=id_,
                    type="number",
                    value=value,
                    step=step,
                    size="sm",
                    placeholder=placeholder,
                ),
            ),
            width=4,
        )

    return html.Div(
        [
            _field(
                "Intervalo das barras",
                dbc.Select(
                    id="backtest-interval",
                    value="1d",
                    options=[{"label": v, "value": k} for k, v in INTERVAL_OPTIONS.items()],
                ),
            ),
            dbc.Switch(
                id="backtest-day-trade",
                label="Day trade (zera tudo antes do fim do pregão)",
                value=False,
            ),
            dbc.Row(
                [
                    num("backtest-flatten-minutes", "Zerar (min antes)", "10", DEFAULT_FLATTEN_MIN),
                    num("backtest-margin", "Margem/contrato (R$)", "padrão", step=10),
                    num("backtest-fee-contract", "Taxa/contrato (R$)", "padrão", step=0.01),
                ],
                className="g-2",
            ),
            html.Div(
                "Futuros (WINFUT): quantidade em contratos em “Dimensionamento”; margem e taxa "
                "vazias = padrões documentados do contrato (estimativas).",
                className="form-text mb-2",
            ),
        ]
    )


def _form(tickers: list[str], span: tuple[str | None, str | None], end: str | None):
    return dbc.Card(
        dbc.CardBody(
            [
                _field(
                    "Estratégia",
                    dropdown(
                        id="backtest-strategy",
                        options=[{"label": c.label, "value": n} for n, c in STRATEGIES.items()],
                        value="sma_cross",
                        clearable=False,
                    ),
                ),
                html.Div(id="backtest-strategy-doc", className="small text-muted mb-2"),
                html.Div(id="backtest-params"),
                html.Hr(className="my-2"),
                _field(
                    "Ativos",
                    dropdown(id="backtest-tickers", options=tickers, value=["PETR4"], multi=True),
                ),
                _field(
                    "Período",
                    date_range("backtest-dates", "2015-01-02", end, span=span),
                ),
                _intraday_fields(),
                _field(
                    "Custos",
                    dbc.RadioItems(
                        id="backtest-costs",
                        inline=True,
                        value="b3",
                        options=[
                            {"label": "B3 (taxas + slippage)", "value": "b3"},
                            {"label": "Sem custos", "value": "none"},
                        ],
                    ),
                ),
                _field(
                    "Dimensionamento",
                    dropdown(
                        id="backtest-sizing",
                        clearable=False,
                        value="all_in",
                        options=[{"label": v, "value": k} for k, v in SIZING_LABELS.items()],
                    ),
                ),
                _field(
                    "Valor do dimensionamento",
                    dbc.Input(
                        id="backtest-size-value",
                        type="number",
                        size="sm",
                        placeholder="padrão do método",
                    ),
                    f"Vazio = padrão: {fmt_brl(SIZING_DEFAULTS['fixed'], 0)} (fixo), "
                    f"{fmt_pct(SIZING_DEFAULTS['percent'] / 100, 0)} do patrimônio, "
                    f"{fmt_pct(SIZING_DEFAULTS['risk'] / 100, 0)} de risco até o stop, "
                    f"{fmt_pct(SIZING_DEFAULTS['kelly'] / 100, 0)} (Kelly antes de 10 operações)",
                ),
                _field(
                    "Lotes",
                    dbc.Select(
                        id="backtest-lot",
                        value="100f",
                        options=[{"label": v, "value": k} for k, v in LOT_OPTIONS.items()],
                    ),
                ),
                _field(
                    "Capital inicial (R$)",
                    dbc.Input(
                        id="backtest-cash",
                        type="number",
                        value=DEFAULT_CASH,
                        # no min: a value out of range must reach the request builder, which
                        # explains it, instead of arriving as None (= the default cash)
                        step=1000,
                        size="sm",
                    ),
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            _field(
                                "Stop-loss %",
                                dbc.Input(
                                    id="backtest-stop-loss",
                                    type="number",
                                    min=0,
                                    # no max: out-of-range reaches core, which explains the valid range
                                    step=0.5,
                                    size="sm",
                                ),
                            ),
                            width=6,
                        ),
                        dbc.Col(
                            _field(
                                "Alvo %",
                                dbc.Input(
                                    id="backtest-take-profit",
                                    type="number",
                                    min=0,
                                    # no max: core explains the valid range
                                    step=0.5,
                                    size="sm",
                                ),
                            ),
                            width=6,
                        ),
                        dbc.Col(
                            _field(
                                "Stop móvel %",
                                dbc.Input(
                                    id="backtest-trailing",
                                    type="number",
                                    min=0,
                                    # no max: core explains the valid range
                                    step=0.5,
                                    size="sm",
                                ),
                            ),
                            width=6,
                        ),
                        dbc.Col(
                            _field(
                                "Stop de tempo (barras)",
                                dbc.Input(
                                    id="backtest-max-bars", type="number", min=0, step=1, size="sm"
                                ),
                            ),
                            width=6,
                        ),
                    ],
                    className="g-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            dbc.Switch(
                                id="backtest-short",
                                label="Permitir venda a descoberto",
                                value=False,
                            ),
                            width=12,
                        ),
                        dbc.Col(
                            _field(
                                "Máx. posições abertas",
                                dbc.Input(
                                    id="backtest-max-positions",
                                    type="number",
                                    min=1,
                                    step=1,
                                    size="sm",
                                ),
                            ),
                            width=12,
                        ),
                    ]
                ),
                dbc.Select(
                    id="backtest-reinvest",
                    options=[
                        {"label": "Proventos: padrão da estratégia", "value": ""},
                        {"label": "Proventos: reinvestir", "value": "sim"},
                        {"label": "Proventos: manter em caixa", "value": "nao"},
                    ],
                    value="",
                    size="sm",
                    className="mb-2",
                ),
                dbc.Switch(
                    id="backtest-adjusted",
                    label="Preços ajustados por proventos (aproximação)",
                    value=False,
                ),
                html.Div(
                    [
                        dbc.Button(
                            [html.I(className="bi bi-play-fill me-1"), "Rodar backtest"],
                            id="backtest-run",
                            color="primary",
                            className="me-2",
                        ),
                        dbc.Button(
                            "Cancelar",
                            id="backtest-cancel",
                            color="secondary",
                            outline=True,
                            disabled=True,
                        ),
                    ],
                    className="mt-2",
                ),
                job_progress("backtest"),
            ]
        ),
        className="mb-3",
    )


def _results():
    return html.Div(
        [
            html.Div(id="backtest-title", className="mb-2"),
            dcc.Loading(html.Div(id="backtest-cards"), type="dot"),
            dcc.Graph(id="backtest-equity", config=graph_config()),
            dcc.Graph(id="backtest-drawdown", config=graph_config()),
            dbc.Row(
                [
                    dbc.Col(dbc.Label("Ativo no gráfico", className="small"), width="auto"),
                    dbc.Col(dropdown(id="backtest-candle-ticker", clearable=False), width=3),
                ],
                className="align-items-center g-2",
            ),
            dcc.Graph(id="backtest-candles", config=graph_config()),
            html.H5("Operações", className="mt-3"),
            html.Div(
                [
                    dbc.Button(
                        [html.I(className="bi bi-filetype-csv me-1"), "Exportar CSV"],
                        id="backtest-export-csv",
                        size="sm",
                        outline=True,
                        color="secondary",
                        className="me-2",
                    ),
                    dbc.Button(
                        [html.I(className="bi bi-file-earmark-richtext me-1"), "Relatório HTML"],
                        id="backtest-export-html",
                        size="sm",
                        outline=True,
                        color="secondary",
                    ),
                    dcc.Download(id="backtest-download-csv"),
                    dcc.Download(id="backtest-download-html"),
                    machine_switch("backtest-export-machine"),
                ],
                className="mb-2",
            ),
            cb.trades_grid("backtest-trades"),
            dcc.Graph(id="backtest-monthly", config=graph_config()),
            html.H5("Relatório mensal de IR", className="mt-3"),
            html.Div(
                "15% sobre o lucro líquido mensal de swing trade (isento se as vendas do mês "
                "somam até R$ 20.000), 20% sobre day trade, IRRF de 0,005% / 1%, prejuízos "
                "compensados por tipo; DARF abaixo de R$ 10 fica para o mês seguinte.",
                className="small text-muted mb-1",
            ),
            cb.tax_grid("backtest-taxes"),
        ],
        id="backtest-results",
    )


def _compare_tab():
    return html.Div(
        [
            html.Div(
                [
                    dbc.Button(
                        "Atualizar lista",
                        id="backtest-runs-refresh",
                        size="sm",
                        color="secondary",
                        outline=True,
                        className="me-2",
                    ),
                    dbc.Button(
                        "Abrir selecionado",
                        id="backtest-open",
                        size="sm",
                        color="primary",
                        className="me-2",
                    ),
                    dbc.Button(
                        "Comparar selecionados", id="backtest-compare", size="sm", color="primary"
                    ),
                ],
                className="my-2",
            ),
            cb.runs_grid("backtest-runs"),
            html.Div(id="backtest-compare-alert"),
            dcc.Graph(id="backtest-compare-fig", config=graph_config()),
            html.Div(id="backtest-compare-out"),
        ]
    )


def _wf_tab():
    return html.Div(
        [
            html.P(
                "Otimiza os parâmetros da estratégia escolhida (Optuna TPE) em janelas de "
                "treino e avalia cada escolha na janela seguinte, fora da amostra. Usa os "
                "ativos, o período, custos e dimensionamento do formulário.",
                className="small text-muted mt-2",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        _field(
                            "Objetivo",
                            dropdown(
                                id="backtest-wf-objective",
                                value="sharpe",
                                clearable=False,
                                options=[
                                    {"label": bt_objective_label(k), "value": k} for k in OBJECTIVES
                                ],
                            ),
                        ),
                        md=3,
                    ),
                    dbc.Col(
                        _field(
                            "Janelas",
                            dbc.Select(
                                id="backtest-wf-mode",
                                value="rolling",
                                options=[
                                    {"label": "Rolantes", "value": "rolling"},
                                    {"label": "Ancoradas", "value": "anchored"},
                                ],
                            ),
                        ),
                        md=3,
                    ),
                    dbc.Col(
                        _field(
                            "Nº de janelas",
                            dbc.Input(
                                id="backtest-wf-windows", type="number", value=4, min=1, max=12
                            ),
                        ),
                        md=2,
                    ),
                    dbc.Col(
                        _field(
                            "Tentativas por janela",
                            dbc.Input(
                                id="backtest-wf-trials",
                                type="number",
                                value=DEFAULT_TRIALS,
                                min=1,
                                max=500,
                            ),
                        ),
                        md=2,
                    ),
                ],
                className="g-2",
            ),
            dbc.Button(
                "Rodar walk-forward", id="backtest-wf-run", color="primary", className="me-2"
            ),
            dbc.Button(
                "Cancelar", id="backtest-wf-cancel", color="secondary", outline=True, disabled=True
            ),
            job_progress("backtest-wf"),
            html.Div(id="backtest-wf-alert", className="mt-2"),
            html.Div(id="backtest-wf-out"),
        ]
    )


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
    return dbc.Container(
        [
            dcc.Store(id="backtest-run-id", data=run_id),
            html.H3("Backtest"),
            html.P(
                "Sinais no fechamento do pregão t, ordens na abertura de t+1; stops dentro do "
                "candle (o stop vence quando stop e alvo são tocados no mesmo dia; gap "
                "executa na abertura); lotes de 100 com fracionário; custos da B3 e IR.",
                className="text-muted small",
            ),
            dbc.Row(
                [
                    dbc.Col(_form(tickers, span, end), lg=3),
                    dbc.Col(
                        [
                            dbc.Alert(
                                id="backtest-alert", is_open=False, color="danger", dismissable=True
                            ),
                            dbc.Tabs(
                                [
                                    dbc.Tab(
                                        _results(), label="Resultado", tab_id="backtest-tab-result"
                                    ),
                                    dbc.Tab(
                                        _compare_tab(),
                                        label="Comparar / reabrir",
                                        tab_id="backtest-tab-compare",
                                    ),
                                    dbc.Tab(
                                        _wf_tab(), label="Walk-forward", tab_id="backtest-tab-wf"
                                    ),
                                ],
                                id="backtest-tabs",
                                active_tab="backtest-tab-result",
                            ),
                        ],
                        lg=9,
                    ),
                ]
            ),
        ],
        fluid=True,
    )


# --------------------------------------------------------------------------- callbacks
@callback(
    Output("backtest-params", "children"),
    Output("backtest-strategy-doc", "children"),
    Input("backtest-strategy", "value"),
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


@callback(
    Output("backtest-title", "children"),
    Output("backtest-cards", "children"),
    Output("backtest-equity", "figure"),
    Output("backtest-drawdown", "figure"),
    Output("backtest-trades", "rowData"),
    Output("backtest-monthly", "figure"),
    Output("backtest-taxes", "rowData"),
    Output("backtest-candle-ticker", "options"),
    Output("backtest-candle-ticker", "value"),
    Input("backtest-run-id", "data"),
)
def _render(run_id):
    if not run_id:
        empty = _empty_fig("Escolha uma estratégia e clique em “Rodar backtest”.")
        return (html.Div(), html.Div(), empty, _empty_fig(""), [], _empty_fig(""), [], [], None)
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
    params = params_text(res.strategy, res.params)
    title = html.Div(
        [
            html.H5(
                f"Backtest nº {res.run_id}: {STRATEGIES[res.strategy].label}"
                if res.strategy in STRATEGIES
                else f"Backtest nº {res.run_id}",
                className="mb-0",
                id="backtest-result-title",
            ),
            html.Div(
                f"{', '.join(res.tickers)} · {fmt_date(res.start)} a {fmt_date(res.end)} · "
                f"{params} · capital {fmt_brl(res.config.cash)} · "
                f"custos {'B3' if res.config.costs.swing_fee_rate > 0 else 'nenhum'} · "
                f"{res.price_mode_label} · "
                f"{SIZING_LABELS[res.config.sizing.method]} · "
                f"{INTERVAL_OPTIONS.get(res.interval, res.interval)}"
                f"{' · day trade' if res.config.day_trade else ''} · versão "
                f"{res.extra.get('code_version', '')}",
                className="small text-muted",
            ),
        ]
        + _notes(res)
    )
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


def _notes(res) -> list:
    """Warnings that qualify a result (optimistic ML filter, walk-forward origin, why no
    trade happened)."""
    notes = [
        dbc.Alert(n, color="warning", className="py-1 my-1 small")
        for n in (res.extra or {}).get("notes", [])
    ]
    if res.params.get("in_sample"):
        notes.append(
            dbc.Alert(
                "Resultado otimista: inclui datas usadas no treino do modelo de ML "
                "(o filtro já conhecia esse período).",
                color="warning",
                className="py-1 my-1 small",
            )
        )
    wf = res.extra.get("walk_forward")
    if wf:
        notes.append(
            dbc.Alert(
                f"Walk-forward ({'ancorado' if wf.get('mode') == 'anchored' else 'rolante'}, "
                f"objetivo {wf.get('objective')}): janelas de teste encadeadas, fora da "
                f"amostra; parâmetros mostrados = os da última janela.",
                color="info",
                className="py-1 my-1 small",
            )
        )
    return notes


@callback(
    Output("backtest-candles", "figure"),
    Input("backtest-candle-ticker", "value"),
    Input("backtest-run-id", "data"),
)
def _candles(ticker, run_id):
    if not run_id or not ticker:
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


def _report(res) -> str:
    summary = {
        "Estratégia": _strategy_label(res.strategy),
        "Parâmetros": params_text(res.strategy, res.params),
        "Ativos": ", ".join(res.tickers),
        "Período": f"{fmt_date(res.start)} a {fmt_date(res.end)}",
        "Capital inicial": fmt_brl(res.config.cash),
        "Custos": "B3 (taxas + slippage)" if res.config.costs.swing_fee_rate > 0 else "sem custos",
        "Dimensionamento": SIZING_LABELS.get(res.config.sizing.method, res.config.sizing.method),
        "Versão do código": str(res.extra.get("code_version", "")),
    }
    metrics = []
    for k, v in res.metrics.items():
        label, unit = METRIC_INFO.get(k, (k, ""))
        metrics.append((label, by_unit(v, unit), unit))
    trades = cb.trades_display(res.trades)
    figs = [
        cb.equity_figure(res.equity, res.benchmarks),
        cb.drawdown_figure(res.drawdown),
        cb.monthly_heatmap(res.monthly),
    ]
    return cb.report_html(f"Pregão – backtest nº {res.run_id}", summary, metrics, figs, trades)


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
    return dict(content=_report(res), filename=f"backtest_{run_id}_relatorio.html")


def _runs_rows() -> list[dict]:
    df = list_runs(get_store(), owner=current_owner())
    rows = []
    for r in df.itertuples(index=False):
        rows.append(
            {
                "id": int(r.id),
                "criado": r.created_at.strftime("%Y-%m-%d %H:%M"),
                "name": r.name,
                "strategy": _strategy_label(r.strategy),
                "tipo": "walk-forward (OOS)" if r.kind == "walk_forward" else "backtest",
                "periodo": f"{fmt_date(r.start)} a {fmt_date(r.end)}",
                "total_return_pct": r.total_return_pct,
                "sharpe": r.sharpe,
                "max_drawdown_pct": r.max_drawdown_pct,
                "n_trades": r.n_trades,
                "code_version": r.code_version,
            }
        )
    return rows


@callback(
    Output("backtest-runs", "rowData"),
    Input("backtest-runs-refresh", "n_clicks"),
    Input("backtest-run-id", "data"),
    Input("backtest-tabs", "active_tab"),
)
def _runs(_n, _rid, tab):
    if ctx.triggered_id == "backtest-tabs" and tab != "backtest-tab-compare":
        return no_update
    try:
        return _runs_rows()
    except PregaoError:
        return []


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
    Output("backtest-compare-fig", "figure"),
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
        name = f"nº {res.run_id} {_strategy_label(res.strategy)} ({', '.join(res.tickers)})"
        curves[name] = res.equity
        items.append((name, res.metrics))
    return (cb.compare_figure(curves), cb.compare_table(items, COMPARE_KEYS, METRIC_INFO), None)


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
    children = [
        dbc.Alert(
            [
                f"Resultado fora da amostra salvo como backtest nº {rid} ",
                dcc.Link("(abrir)", href=f"/backtest?run={rid}"),
                "; compare-o com outros em “Comparar / reabrir”.",
            ],
            color="success",
            className="py-2 mt-2",
            id="backtest-wf-saved",
        ),
        html.H5("Dentro vs fora da amostra por janela", className="mt-3"),
        cb.wf_windows_table(res.windows, res.objective, req.backtest.strategy),
        dcc.Graph(
            figure=cb.equity_figure(
                res.oos_equity,
                res.oos_benchmarks,
                "Patrimônio fora da amostra (janelas encadeadas, R$)",
            ),
            id="backtest-wf-equity",
        ),
        cb.metric_cards(res.oos_metrics),
    ]
    if res.heatmap is not None:
        children.append(
            dcc.Graph(
                figure=cb.heatmap_figure(res.heatmap, res.objective), id="backtest-wf-heatmap"
            )
        )
    return children, None
