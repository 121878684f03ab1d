"""Layout of the Backtest page (``/backtest``): the run form, the result / compare /
walk-forward tabs and the page frame, plus the pieces built from a stored run (result title
and notes, the HTML report, the stored-runs rows, the walk-forward output).

Pure builders: the page reads the store and runs core, then hands plain data or result
objects in (tickers, date span, a :class:`core.backtest.runner.BacktestResult`, the
:func:`core.backtest.runs.list_runs` table); no I/O here.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from components import backtest as cb
from components.charts import empty_figure
from components.export import machine_switch
from components.figcache import cached_figure
from components.format import fmt_brl, fmt_date, fmt_pct
from components.inputs import date_range, dropdown
from components.jobs import job_progress
from components.labels import bt_objective_label
from components.theme import graph_config
from core.backtest.metrics import METRIC_INFO
from core.backtest.optimize import OBJECTIVES
from core.requests import DEFAULT_CASH, DEFAULT_TRIALS, SIZING_DEFAULTS
from core.requests.backtest import DEFAULT_FLATTEN_MINUTES as DEFAULT_FLATTEN_MIN
from core.strategies import STRATEGIES, params_text
from core.textfmt import by_unit

__all__ = [
    "SIZING_LABELS",
    "INTERVAL_OPTIONS",
    "LOT_OPTIONS",
    "COMPARE_KEYS",
    "strategy_label",
    "form",
    "results_tab",
    "compare_tab",
    "wf_tab",
    "backtest_page",
    "result_title",
    "result_notes",
    "report_document",
    "runs_rows",
    "wf_output",
]

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


def strategy_label(code: str) -> str:
    """The Portuguese label of strategy ``code`` (the code itself when it is unknown)."""
    cls = STRATEGIES.get(code)
    return cls.label if cls else code


def _field(label, control, help_text=None):
    return html.Div(
        [dbc.Label(label, className="small mb-0"), control]
        + ([html.Div(help_text, className="form-text")] if help_text else []),
        className="mb-2",
    )


def _intraday_fields() -> html.Div:
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
                    num("backtest-margin", "Margem por contrato (R$)", "padrão", step=10),
                    num("backtest-fee-contract", "Taxa por contrato (R$)", "padrão", step=0.01),
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


def form(tickers: list[str], span: tuple[str | None, str | None], end: str | None) -> dbc.Card:
    """The run form: strategy and its parameters, instruments, period, interval/day trade,
    costs, sizing, lots, cash, exits, shorting, proventos, adjusted prices, run/cancel, progress.

    Parameters
    ----------
    tickers : list of str
        Instruments offered in the picker (indices excluded by the caller).
    span : (str or None, str or None)
        First and last date of the data (ISO ``YYYY-MM-DD``), the date picker's bounds.
    end : str or None
        Default end of the period (ISO), the last date every stock has.

    Returns
    -------
    dbc.Card
        Controls with the ``backtest-*`` ids the page's callbacks read.
    """
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


#: What the empty equity chart says before the first run.
EMPTY_RESULT = "Escolha uma estratégia e clique em “Rodar backtest”."


def results_tab() -> html.Div:
    """The "Resultado" tab: title, metric cards, equity/drawdown/candle charts, trades grid
    with CSV/HTML export, monthly heatmap and the monthly income-tax grid (all empty; the
    page's ``_render`` and ``_candles`` callbacks fill them once there is a run).

    The charts start with their empty figure (:data:`EMPTY_RESULT`), so a page without a
    run draws each once instead of drawing a blank plot and then the empty figure; built
    once per process (:func:`components.figcache.cached_figure`: four plotly figures were
    ~60 % of the page's 0,12 s of CPU, issue 15 load)."""
    return html.Div(
        [
            html.Div(id="backtest-title", className="mb-2"),
            dcc.Loading(html.Div(id="backtest-cards"), type="dot"),
            dcc.Graph(
                id="backtest-equity",
                figure=cached_figure(empty_figure, EMPTY_RESULT),
                config=graph_config(),
            ),
            dcc.Graph(
                id="backtest-drawdown",
                figure=cached_figure(empty_figure, ""),
                config=graph_config(),
            ),
            dbc.Row(
                [
                    dbc.Col(dbc.Label("Ativo no gráfico", className="small"), width="auto"),
                    dbc.Col(dropdown(id="backtest-candle-ticker", clearable=False), width=3),
                ],
                className="align-items-center g-2",
            ),
            dcc.Graph(
                id="backtest-candles", figure=cached_figure(empty_figure, ""), config=graph_config()
            ),
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
            dcc.Graph(
                id="backtest-monthly", figure=cached_figure(empty_figure, ""), config=graph_config()
            ),
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


def compare_tab() -> html.Div:
    """The "Comparar / reabrir" tab: refresh/open/compare buttons, the places of the
    stored-runs grid (``backtest-runs``, built when the tab opens), the comparison chart (:func:`compare_graph`) and table (filled by the
    page's callbacks)."""
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
            # the grid is built when the tab opens, with the rows (the page's _runs): mounting
            # it hidden cost every page load an AG Grid (issue 11)
            html.Div(id="backtest-runs-box"),
            html.Div(id="backtest-compare-alert"),
            # the chart is created by the comparison (compare_graph): an empty plot in the
            # hidden tab cost every page load a plotly draw (issue 11)
            html.Div(id="backtest-compare-fig-box"),
            html.Div(id="backtest-compare-out"),
        ]
    )


def compare_graph(figure) -> dcc.Graph:
    """The comparison chart ``backtest-compare-fig`` (placed in ``backtest-compare-fig-box``
    when runs are compared)."""
    return dcc.Graph(id="backtest-compare-fig", figure=figure, config=graph_config())


def wf_tab() -> html.Div:
    """The "Walk-forward" tab: objective, window mode, number of windows, trials per window
    (default :data:`core.requests.DEFAULT_TRIALS`), run/cancel, progress and output."""
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


def backtest_page(
    tickers: list[str],
    span: tuple[str | None, str | None],
    end: str | None,
    run_id: int | None,
) -> dbc.Container:
    """The whole page: the run-id store, the intro, the form and the three tabs.

    Parameters
    ----------
    tickers, span, end
        As in :func:`form`.
    run_id : int or None
        Stored run to show on load (``?run=ID``); None shows the empty result.

    Returns
    -------
    dbc.Container
    """
    return dbc.Container(
        [
            # data left unset without a run: a Store given data=None reports a change when it
            # mounts, which fired the result's callbacks on every page load (issue 11)
            dcc.Store(id="backtest-run-id", **({} if run_id is None else {"data": run_id})),
            html.H3("Backtest"),
            html.P(
                "Sinais no fechamento do pregão t, ordens na abertura de t+1; stops dentro do "
                "candle (o stop vence quando stop e alvo são tocados no mesmo dia; gap "
                "executa na abertura); lotes de 100 com fracionário; custos da B3 e IR.",
                className="text-muted small",
            ),
            dbc.Row(
                [
                    dbc.Col(form(tickers, span, end), lg=3),
                    dbc.Col(
                        [
                            dbc.Alert(
                                id="backtest-alert", is_open=False, color="danger", dismissable=True
                            ),
                            dbc.Tabs(
                                [
                                    dbc.Tab(
                                        results_tab(),
                                        label="Resultado",
                                        tab_id="backtest-tab-result",
                                    ),
                                    dbc.Tab(
                                        compare_tab(),
                                        label="Comparar / reabrir",
                                        tab_id="backtest-tab-compare",
                                    ),
                                    dbc.Tab(
                                        wf_tab(), label="Walk-forward", tab_id="backtest-tab-wf"
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


def result_title(res) -> html.Div:
    """The title block of a stored run: number and strategy, then one line with tickers,
    period, parameters, cash, costs, price mode, sizing, interval, day trade and code
    version, then the :func:`result_notes`.

    Parameters
    ----------
    res : core.backtest.runner.BacktestResult
        A stored run (``run_id`` set), as :func:`core.backtest.runs.load_run` returns it.

    Returns
    -------
    html.Div
    """
    params = params_text(res.strategy, res.params)
    return html.Div(
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
        + result_notes(res)
    )


def result_notes(res) -> list:
    """Warnings that qualify a result (optimistic ML filter, walk-forward origin, why no
    trade happened).

    Parameters
    ----------
    res : core.backtest.runner.BacktestResult

    Returns
    -------
    list of dbc.Alert
        Possibly empty.
    """
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


def report_document(res) -> str:
    """The stand-alone HTML report of a stored run (summary, metrics, equity, drawdown,
    monthly heatmap, trades) through :func:`components.backtest.report_html`.

    Parameters
    ----------
    res : core.backtest.runner.BacktestResult

    Returns
    -------
    str
        A complete HTML document (pt-BR).
    """
    summary = {
        "Estratégia": strategy_label(res.strategy),
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


def runs_rows(df: pd.DataFrame) -> list[dict]:
    """Rows of the stored-runs grid (:func:`components.backtest.runs_grid`).

    Parameters
    ----------
    df : pandas.DataFrame
        :func:`core.backtest.runs.list_runs`'s table, one row per stored run (``id``,
        ``created_at``, ``name``, ``strategy``, ``kind``, ``start``, ``end``, metrics,
        ``code_version``).

    Returns
    -------
    list of dict
        One dict per run, in ``df``'s order; returns in %, dates dd/mm/aaaa.
    """
    rows = []
    for r in df.itertuples(index=False):
        rows.append(
            {
                "id": int(r.id),
                "criado": r.created_at.strftime("%Y-%m-%d %H:%M"),
                "name": r.name,
                "strategy": strategy_label(r.strategy),
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


def wf_output(rid: int, res, strategy: str) -> list:
    """The walk-forward tab's output: the saved-run notice with its link, the in- vs
    out-of-sample table per window, the chained out-of-sample equity, its metric cards and,
    when there is one, the parameter heatmap.

    Parameters
    ----------
    rid : int
        Run id the out-of-sample result was saved as.
    res : core.backtest.optimize.WalkForwardResult
    strategy : str
        Strategy code of the request (labels the windows' parameters).

    Returns
    -------
    list of Dash components
    """
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
        cb.wf_windows_table(res.windows, res.objective, strategy),
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
    return children
