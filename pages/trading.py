"""Operações (``/trading``): paper-trading accounts, the order ticket with a pre-trade risk
preview, the book (orders, positions, fills, cash ledger, IR/DARF), the automation panel
(a strategy on a replay of stored bars) and seed 002's monitor.

Thin: the callbacks parse the form, call :mod:`core.trading` (accounts, ``PaperBroker``,
``PaperBroker.preview`` — the same validation, risk rules and cash check the broker runs again on submit — the
runner and the monitor) and hand the results to :mod:`components.trading`. The replay runs
unattended (:func:`dashboard.paper_runners.start_runner`: a thread in local mode, a Celery
task in team mode), independent of the browser; its state lives in the database, and
``trading-refresh`` (a ``dcc.Interval``, fast while a runner works) re-reads the account and
the runner so the page follows it without reloading. The page arrives with the chosen
account's state and monitor already filled in (no callback round trip before the first paint).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import (
    ALL,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    dcc,
    html,
    no_update,
)

from components import trading as ct
from components.backtest import tax_rows
from components.export import csv_text
from components.format import fmt_brl
from components.inputs import data_span, dropdown, ticker_options
from components.seed import seed_props
from components.theme import graph_config
from core.errors import InputError, PregaoError
from core.strategies import STRATEGIES
from dashboard.auth import current_author
from dashboard.runtime import get_settings, get_store

dash.register_page(
    __name__, path="/trading", name="Operações", order=3.5, title="Operações · Pregão"
)

#: Refresh period of the account views while a runner of this page works (ms), and the slow
#: period otherwise (a runner started from the CLI still shows up).
FAST_MS, SLOW_MS = 2000, 10_000
#: Default replay window: the last months of the stored data (a short, quick replay).
REPLAY_MONTHS = 6


def _owner() -> str | None:
    """The user whose accounts the page shows (None: local mode / admins, every account)."""
    from dashboard.auth import current_owner

    return current_owner()


def _guard(store, account: str, *, write: bool = False) -> None:
    """Refuse (as "not found") an account the user may not see, or not change when ``write``:
    the server checks what the account picker hides (issue 15, :mod:`core.ownership`)."""
    from core.trading.accounts import get_account

    get_account(store, account, owner=_owner(), write=write)


# --------------------------------------------------------------------------- core calls
def _accounts(store) -> list[str]:
    from core.trading.accounts import list_accounts

    return [a.name for a in list_accounts(store, owner=_owner())]


def _broker(store, account: str, *, write: bool = False):
    from core.trading.broker import PaperBroker

    if write:  # the broker itself refuses an account the user does not own
        return PaperBroker(store, account, owner=_owner())
    _guard(store, account)
    return PaperBroker(store, account)


def _risk_defaults() -> dict:
    from core.trading.risk import RiskRules

    return dataclasses.asdict(RiskRules())


def _last_bar(store, ticker: str):
    """Last stored daily bar of ``ticker`` (as traded): ``(close, session)`` or (None, None)."""
    try:
        last = store.last_date(ticker)
        bars = store.bars(ticker, start=last) if last is not None else None
    except PregaoError:
        return None, None
    if bars is None or not len(bars):
        return None, None
    return float(bars["close"].iloc[-1]), bars.index[-1]


# --------------------------------------------------------------------------- layout
def _iso_or(text: str | None, default: str | None) -> str | None:
    """``text`` as ``AAAA-MM-DD`` when it is a date, else ``default``."""
    try:
        return pd.Timestamp(text).strftime("%Y-%m-%d") if text else default
    except (ValueError, TypeError):
        return default


def _account_bar(accounts: list[str], current: str | None):
    return dbc.Card(
        dbc.CardBody(
            dbc.Row(
                [
                    dbc.Col(dbc.Label("Conta simulada", className="small mb-0"), width="auto"),
                    dbc.Col(
                        dropdown(
                            id="trading-account",
                            options=accounts,
                            value=current,
                            clearable=False,
                            placeholder="escolha uma conta",
                            persistence=True,
                            persistence_type="local",
                        ),
                        md=4,
                    ),
                    dbc.Col(
                        dbc.Button(
                            [html.I(className="bi bi-plus-lg me-1"), "Nova conta"],
                            id="trading-new-toggle",
                            size="sm",
                            color="secondary",
                            outline=True,
                        ),
                        width="auto",
                    ),
                    dbc.Col(
                        dcc.ConfirmDialogProvider(
                            dbc.Button(
                                [html.I(className="bi bi-exclamation-octagon me-1"), "Kill switch"],
                                id="trading-kill-button",
                                size="sm",
                                color="danger",
                                outline=True,
                            ),
                            id="trading-kill",
                            message=(
                                "Zerar todas as posições a mercado, cancelar as ordens abertas e "
                                "bloquear a conta para novas ordens?"
                            ),
                        ),
                        width="auto",
                    ),
                    dbc.Col(
                        dbc.Button(
                            [html.I(className="bi bi-unlock me-1"), "Desbloquear"],
                            id="trading-unblock",
                            size="sm",
                            color="secondary",
                            outline=True,
                            title="Libera uma conta bloqueada pelo kill switch.",
                        ),
                        width="auto",
                    ),
                ],
                className="align-items-center g-2",
            ),
            className="py-2",
        ),
        className="mb-2",
    )


def layout(
    account: str | None = None,
    replay_start: str | None = None,
    replay_end: str | None = None,
    **_query,
):
    """Page layout; ``?account=NAME`` opens that account, ``?replay_start=AAAA-MM-DD`` and
    ``?replay_end=...`` preset the replay window. Holds the account's state and monitor as
    :func:`_book` and :func:`_monitor` would answer them (their first call is skipped)."""
    store = get_store()
    try:
        accounts = _accounts(store)
    except Exception:  # noqa: BLE001 - a missing table (old database) shows the form
        accounts = []
    try:
        instruments = store.instruments()
    except PregaoError:
        instruments = pd.DataFrame(columns=["ticker", "name", "kind", "first_date", "last_date"])
    tradable = instruments[instruments["kind"].isin(("stock", "etf", "fii", "bdr", "future"))]
    opts = ticker_options(tradable)
    stocks = instruments.loc[instruments["kind"] == "stock", "ticker"].tolist()
    span = data_span(instruments, ("stock",))
    end = data_span(instruments, ("stock",), common=True)[1]
    start = (
        (pd.Timestamp(end) - pd.DateOffset(months=REPLAY_MONTHS)).strftime("%Y-%m-%d")
        if end
        else None
    )
    start, end = _iso_or(replay_start, start), _iso_or(replay_end, end)
    current = account if account in accounts else None
    default_ticker = "PETR4" if "PETR4" in stocks else (stocks[0] if stocks else None)
    from core.trading.monitor import RedFlagRules

    risk_defaults = _risk_defaults()
    flag_defaults = dataclasses.asdict(RedFlagRules())
    root = dbc.Container(
        [
            dcc.Store(id="trading-changed", data=0),
            dcc.Store(id="trading-fingerprint"),
            # rows of the lazily built tabs (positions, fills, ledger, taxes) by grid id
            dcc.Store(id="trading-book-rows"),
            dcc.Store(id="trading-tabs-built", data=[]),
            dcc.Interval(id="trading-refresh", interval=SLOW_MS),
            html.H3("Operações"),
            html.P(
                "Conta simulada (paper trading) com as regras de uma conta real na B3: preços "
                "negociados, lotes de 100 e fracionário, custos, liquidação em D+2 e IR. As "
                "ordens passam pelas regras de risco da conta antes de chegar à corretora "
                "simulada.",
                className="text-muted small",
            ),
            _account_bar(accounts, current),
            dbc.Collapse(
                ct.account_form(risk_defaults), id="trading-new-collapse", is_open=not accounts
            ),
            html.Div(id="trading-account-alert"),
            dcc.Loading(html.Div(id="trading-summary"), type="dot", delay_show=500),
            dbc.Row(
                [
                    dbc.Col(ct.order_ticket(opts, default_ticker), lg=4),
                    dbc.Col(ct.book_tabs(), lg=8),
                ]
            ),
            dbc.Row(
                [
                    dbc.Col(
                        ct.automation_panel(
                            [{"label": c.label, "value": n} for n, c in STRATEGIES.items()],
                            opts,
                            default_strategy="wave3" if "wave3" in STRATEGIES else "sma_cross",
                            default_tickers=[t for t in ("PETR4", "VALE3") if t in stocks],
                            span=span,
                            start=start,
                            end=end,
                        ),
                        lg=4,
                    ),
                    dbc.Col(
                        [
                            html.H5("Monitor do seed 002", className="mt-1"),
                            html.Div(id="trading-monitor"),
                            html.Div(id="trading-flags-box"),
                            html.Details(
                                [
                                    html.Summary(
                                        "Limites dos sinais de alerta (red flags)",
                                        className="small",
                                        id="trading-flags-summary",
                                    ),
                                    ct.red_flag_form(flag_defaults),
                                ],
                                className="mb-2",
                            ),
                            dcc.Graph(id="trading-equity", config=graph_config()),
                            dcc.Graph(id="trading-heatmap", config=graph_config()),
                            html.H6("Exportar (CSV)", className="mt-2"),
                            ct.exports_bar(),
                        ],
                        lg=8,
                    ),
                ],
                className="mt-2",
            ),
        ],
        fluid=True,
    )
    # the account's state and monitor come with the page (what _book and _monitor answer)
    seed_props(root, _BOOK_OUTPUTS, _book_view(current))
    seed_props(root, _MONITOR_OUTPUTS, _monitor_view(current, theme=get_settings().theme))
    for fn, outs, ins in (  # the ticket's and the automation panel's first answers, likewise
        (_ticket_fields, _FIELDS_OUT, _FIELDS_IN),
        (_preview, _PREVIEW_OUT, _PREVIEW_IN),
        (_params_form, _PARAMS_OUT, _PARAMS_IN),
    ):
        seed_props(root, outs, fn(*[getattr(root[c], p, None) for c, p in ins]))
    return root


# --------------------------------------------------------------------------- account
@callback(
    Output("trading-new-collapse", "is_open"),
    Input("trading-new-toggle", "n_clicks"),
    State("trading-new-collapse", "is_open"),
    prevent_initial_call=True,
)
def _toggle_new(_n, is_open):
    return not is_open


def _risk_rules(values, ids):
    """The :class:`core.trading.risk.RiskRules` of the form: percents -> fractions, an empty
    or zero field -> None (rule off). RiskRules validates and names the rule on error."""
    from core.trading.risk import RiskRules

    kinds = {k: kind for k, _l, kind, _h in ct.RISK_FIELDS}
    kw = {}
    for i, v in zip(ids or [], values or []):
        key = i["name"]
        kind = kinds.get(key)
        if kind == "bool":
            kw[key] = bool(v)
        elif kind == "text":
            kw[key] = (str(v).strip() or None) if v is not None else None
        elif v is None or v == "" or float(v) == 0:
            kw[key] = None
        elif kind == "pct":
            kw[key] = float(v) / 100.0
        else:
            kw[key] = int(v) if float(v) == int(float(v)) else float(v)
    return RiskRules(**kw)


@callback(
    Output("trading-create-alert", "children"),
    Output("trading-account", "options"),
    Output("trading-account", "value"),
    Output("trading-new-collapse", "is_open", allow_duplicate=True),
    Input("trading-create", "n_clicks"),
    State("trading-new-name", "value"),
    State("trading-new-cash", "value"),
    State("trading-new-costs", "value"),
    State({"type": "trading-risk", "name": ALL}, "value"),
    State({"type": "trading-risk", "name": ALL}, "id"),
    prevent_initial_call=True,
)
def _create(_n, name, cash, costs, risk_values, risk_ids):
    from core.trading.accounts import create_account

    store = get_store()
    try:
        if cash is None:
            raise InputError("Capital inicial: informe um valor em R$ maior que zero.")
        rules = _risk_rules(risk_values, risk_ids)
        acc = create_account(
            store,
            (name or "").strip(),
            float(cash),
            costs=costs or "b3",
            risk=rules,
            owner=current_author(),
        )
    except PregaoError as exc:
        return ct.error_box(str(exc), element_id="trading-create-error"), no_update, no_update, True
    msg = dbc.Alert(
        f"Conta “{acc.name}” criada com {fmt_brl(float(cash))}.",
        color="success",
        className="py-2 small",
        id="trading-create-ok",
    )
    return msg, _accounts(store), acc.name, False


@callback(
    Output("trading-account-alert", "children"),
    Output("trading-changed", "data", allow_duplicate=True),
    Input("trading-kill", "submit_n_clicks"),
    Input("trading-unblock", "n_clicks"),
    State("trading-account", "value"),
    State("trading-changed", "data"),
    prevent_initial_call=True,
)
def _account_action(_kill, _unblock, account, changed):
    """Manual kill switch (flatten at the last price, cancel orders, block) or unblock."""
    from core.trading.risk import kill_switch, unblock

    if not account:
        return ct.error_box("Escolha uma conta."), no_update
    try:
        _guard(get_store(), account, write=True)
        if ctx.triggered_id == "trading-unblock":
            unblock(get_store(), account)
            msg = f"Conta “{account}” desbloqueada: o pico do patrimônio recomeça no valor atual."
        else:
            kill_switch(get_store(), account, "Kill switch manual (página Operações).")
            msg = f"Kill switch acionado: posições de “{account}” zeradas e conta bloqueada."
    except PregaoError as exc:
        return ct.error_box(str(exc)), no_update
    alert = dbc.Alert(msg, color="warning", className="py-2 small", dismissable=True)
    return alert, (changed or 0) + 1


# --------------------------------------------------------------------------- book refresh
def _fingerprint(*parts) -> str:
    raw = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha1(raw.encode()).hexdigest()


#: What :func:`_book` fills in (the layout holds the same values on a page load).
_BOOK_OUTPUTS = [
    ("trading-summary", "children"),
    ("trading-orders", "rowData"),
    ("trading-book-rows", "data"),
    ("trading-runner-box", "children"),
    ("trading-run", "disabled"),
    ("trading-stop", "disabled"),
    ("trading-refresh", "interval"),
    ("trading-fingerprint", "data"),
]
#: What :func:`_monitor` fills in (likewise in the layout).
_MONITOR_OUTPUTS = [
    ("trading-monitor", "children"),
    ("trading-flags-box", "children"),
    ("trading-equity", "figure"),
    ("trading-heatmap", "figure"),
]


@callback(
    *[Output(cid, prop) for cid, prop in _BOOK_OUTPUTS],
    Input("trading-account", "value"),
    Input("trading-changed", "data"),
    Input("trading-refresh", "n_intervals"),
    State("trading-fingerprint", "data"),
    prevent_initial_call=True,  # the layout holds the first answer
)
def _book(account, _changed, _tick, previous):
    """The account's state: cards, grids, its runner (progress, start/stop buttons) and the
    refresh period (fast while the runner works). Unchanged state sends nothing."""
    return _book_view(account, previous, refresh=ctx.triggered_id == "trading-refresh")


def _book_view(account, previous=None, *, refresh: bool = False) -> tuple:
    """The values of :data:`_BOOK_OUTPUTS` for ``account`` (``no_update`` for each when a
    ``refresh`` finds the ``previous`` fingerprint unchanged)."""
    if not account:
        return (ct.account_cards(None), [], _book_rows(), ct.runner_view(None), False, True,
                SLOW_MS, None)  # fmt: skip
    store = get_store()
    try:
        broker = _broker(store, account)
        snap = broker.account()
        orders = ct.order_rows(broker.orders())
        positions = ct.position_rows(p for p in broker.positions() if p.qty != 0)
        fills = ct.fill_rows(sorted(broker.fills(), key=lambda f: -f.id))
        ledger = ct.ledger_rows(broker.ledger())
        taxes = tax_rows(broker.tax_report())
        runner = _runner_status(store, account)
    except PregaoError as exc:
        return (ct.error_box(str(exc)), [], _book_rows(), ct.runner_view(None), False, True,
                SLOW_MS, None)  # fmt: skip
    busy = runner is not None and runner.status in ct.RUNNER_BUSY
    fp = _fingerprint(
        dataclasses.asdict(snap),
        orders,
        positions,
        fills,
        len(ledger),
        taxes,
        dataclasses.asdict(runner) if runner is not None else None,
    )
    if fp == previous and refresh:
        return (no_update,) * len(_BOOK_OUTPUTS)
    return (
        ct.account_cards(snap),
        orders,
        _book_rows(positions, fills, ledger, taxes),
        ct.runner_view(runner),
        busy,
        not busy,
        FAST_MS if busy else SLOW_MS,
        fp,
    )


def _book_rows(positions=(), fills=(), ledger=(), taxes=()) -> dict:
    """Rows of the lazily built book tabs, keyed by grid id (``trading-book-rows``)."""
    grids = [ct.BOOK_TABS[t][1] for t in ct.LAZY_TABS]
    return dict(zip(grids, (list(positions), list(fills), list(ledger), list(taxes))))


@callback(
    *[Output(f"{t}-body", "children") for t in ct.LAZY_TABS],
    Output("trading-tabs-built", "data"),
    Input("trading-tabs", "active_tab"),
    State("trading-book-rows", "data"),
    State("trading-tabs-built", "data"),
    prevent_initial_call=True,
)
def _open_tab(tab, rows, built):
    """Build a book tab's grid the first time it is opened, with the rows already read by
    :func:`_book` (the page mounts only the "Ordens" grid: issue 12's page-load goal)."""
    built = list(built or [])
    if tab not in ct.LAZY_TABS or tab in built:
        return [no_update] * (len(ct.LAZY_TABS) + 1)
    out = [no_update] * len(ct.LAZY_TABS)
    out[ct.LAZY_TABS.index(tab)] = ct.book_tab_body(tab, (rows or {}).get(ct.BOOK_TABS[tab][1]))
    return *out, built + [tab]


# Once built, a tab's grid follows the account (no server round trip; a grid not built yet
# is absent and its callback does not run).
for _tab in ct.LAZY_TABS:
    _grid = ct.BOOK_TABS[_tab][1]
    clientside_callback(
        f"function(rows) {{ return (rows && rows['{_grid}']) || []; }}",
        Output(_grid, "rowData"),
        Input("trading-book-rows", "data"),
        prevent_initial_call=True,
    )


def _runner_status(store, account: str):
    from core.trading.runner import runner_status

    return runner_status(store, account)


def _flag_rules(values, ids):
    """The :class:`core.trading.monitor.RedFlagRules` of the thresholds form (empty = default)."""
    from core.trading.monitor import RedFlagRules

    kinds = {k: kind for k, _l, kind in ct.FLAG_FIELDS}
    kw = {}
    for i, v in zip(ids or [], values or []):
        key = i["name"]
        if v is None or v == "":
            continue
        kind = kinds.get(key)
        if kind == "frac":
            kw[key] = float(v) / 100.0
        elif kind == "int":
            kw[key] = int(v)
        else:
            kw[key] = float(v)
    return RedFlagRules(**kw)


@callback(
    *[Output(cid, prop) for cid, prop in _MONITOR_OUTPUTS],
    Input("trading-fingerprint", "data"),
    Input("trading-flags-apply", "n_clicks"),
    State("trading-account", "value"),
    State({"type": "trading-flag", "name": ALL}, "value"),
    State({"type": "trading-flag", "name": ALL}, "id"),
    State("theme-store", "data"),
    prevent_initial_call=True,  # the layout holds the first answer
)
def _monitor(_fp, _apply, account, flag_values, flag_ids, theme):
    """Seed 002's monitor of the account (card, red flags with the form's thresholds, equity
    against buy-and-hold and ^BVSP, monthly heatmap); recomputed when the book changed."""
    return _monitor_view(account, flag_values, flag_ids, theme)


def _monitor_view(account, flag_values=None, flag_ids=None, theme=None) -> tuple:
    """The values of :data:`_MONITOR_OUTPUTS` for ``account`` (thresholds from the form's
    ``flag_values``/``flag_ids``; defaults when None). Figures built in another theme than
    the browser's are restyled there (``assets/06-theme-sync.js``)."""
    from core.trading.monitor import monitor

    if not account:
        return (
            ct.monitor_card(None),
            None,
            ct.trading_equity_figure(None, theme=theme),
            ct.ticker_heatmap(None, theme=theme),
        )
    try:
        _guard(get_store(), account)
        res = monitor(get_store(), account, rules=_flag_rules(flag_values, flag_ids))
    except PregaoError as exc:
        return ct.error_box(str(exc)), None, no_update, no_update
    eq = res.equity
    equity = eq["equity"] if "equity" in eq else None
    bench = eq.drop(columns=["equity"]) if equity is not None else None
    return (
        ct.monitor_card(res.card),
        ct.red_flags_view(res.flags),
        ct.trading_equity_figure(equity, bench, theme=theme),
        ct.ticker_heatmap(res.heatmap, theme=theme),
    )


# --------------------------------------------------------------------------- ticket
_TICKET = [
    State("trading-account", "value"),
    State("trading-ticker", "value"),
    State("trading-side", "value"),
    State("trading-type", "value"),
    State("trading-qty", "value"),
    State("trading-qty-unit", "value"),
    State("trading-price", "value"),
    State("trading-stop-price", "value"),
    State("trading-stop-loss", "value"),
    State("trading-target", "value"),
    State("trading-tif", "value"),
    State("trading-tif-date", "date"),
]


def _shares(qty, unit) -> int | None:
    """Shares ordered: the quantity, times 100 when typed in lots."""
    if qty is None or qty == "":
        return None
    q = float(qty)
    return int(round(q * 100)) if unit == "lots" else int(round(q))


def _order_request(account, ticker, side, otype, qty, unit, price, stop_price, stop_loss,
                   target, tif, tif_date, client_id=None):  # fmt: skip
    """The :class:`core.trading.broker.OrderRequest` of the ticket (the broker validates it
    and names the field on error)."""
    from core.trading.broker import OrderRequest

    if not account:
        raise InputError("Escolha ou crie uma conta simulada.")
    if not ticker:
        raise InputError("Ativo: escolha um ativo.")
    shares = _shares(qty, unit)
    if shares is None:
        raise InputError("Quantidade: informe o número de ações (ou de lotes).")
    if tif == "date":
        if not tif_date:
            raise InputError("Validade: escolha a data até a qual a ordem vale.")
        tif_value = pd.Timestamp(tif_date).date()
    else:
        tif_value = tif or "day"
    return OrderRequest(
        account=account,
        ticker=ticker,
        side=side,
        qty=shares,
        type=otype or "market",
        price=price if otype in ("limit", "stop_limit") else None,
        stop_price=stop_price if otype in ("stop", "stop_limit") else None,
        stop_loss=stop_loss,
        target=target,
        tif=tif_value,
        client_id=client_id,
        source="manual",
    )


#: Outputs and inputs of :func:`_ticket_fields` (the layout seeds the first answer).
_FIELDS_OUT = [
    ("trading-price-box", "style"),
    ("trading-stop-price-box", "style"),
    ("trading-tif-date-box", "style"),
]
_FIELDS_IN = [("trading-type", "value"), ("trading-tif", "value")]


@callback(
    *[Output(c, p) for c, p in _FIELDS_OUT],
    *[Input(c, p) for c, p in _FIELDS_IN],
    prevent_initial_call=True,  # the layout holds the first answer
)
def _ticket_fields(otype, tif):
    """Show the limit price for limit orders, the trigger for stops, the date for "Até a data"."""
    hide = {"display": "none"}
    return (
        None if otype in ("limit", "stop_limit") else hide,
        None if otype in ("stop", "stop_limit") else hide,
        None if tif == "date" else hide,
    )


#: Outputs and inputs of :func:`_preview` (the layout seeds the first answer).
_PREVIEW_OUT = [
    ("trading-lot-split", "children"),
    ("trading-reference", "children"),
    ("trading-preview", "children"),
]
_PREVIEW_IN = [
    ("trading-account", "value"),
    ("trading-ticker", "value"),
    ("trading-side", "value"),
    ("trading-type", "value"),
    ("trading-qty", "value"),
    ("trading-qty-unit", "value"),
    ("trading-price", "value"),
    ("trading-stop-price", "value"),
    ("trading-stop-loss", "value"),
    ("trading-target", "value"),
    ("trading-tif", "value"),
    ("trading-tif-date", "date"),
    ("trading-changed", "data"),
]


@callback(
    *[Output(c, p) for c, p in _PREVIEW_OUT],
    *[Input(c, p) for c, p in _PREVIEW_IN],
    prevent_initial_call=True,  # the layout holds the first answer
)
def _preview(account, ticker, side, otype, qty, unit, price, stop_price, stop_loss, target,
             tif, tif_date, _changed):  # fmt: skip
    """Lot split, reference price and the pre-trade check (:meth:`PaperBroker.preview`: the
    validation, risk rules and cash check of ``submit``, nothing written; the broker checks
    again on submit)."""
    store = get_store()
    shares = _shares(qty, unit)
    split = ct.lot_split_text(shares, ticker)
    last, when = _last_bar(store, ticker) if ticker else (None, None)
    ref = ct.reference_text(ticker, last, when)
    if not account or not ticker or not shares:
        return split, ref, None
    try:
        req = _order_request(account, ticker, side, otype, qty, unit, price, stop_price,
                             stop_loss, target, tif, tif_date)  # fmt: skip
        pre = _broker(store, account).preview(req)
    except PregaoError as exc:
        return split, ref, ct.error_box(str(exc), getattr(exc, "rule", None))
    return (
        split,
        ref,
        ct.risk_preview(pre, value=pre.est_value, fees=pre.est_fees, session=pre.session),
    )


@callback(
    Output("trading-order-alert", "children"),
    Output("trading-changed", "data", allow_duplicate=True),
    Input("trading-submit", "n_clicks"),
    *_TICKET,
    State("trading-fill-now", "value"),
    State("trading-changed", "data"),
    prevent_initial_call=True,
)
def _submit(_n, *form):
    """Send the order; with "executar agora" and no live feed, execute it at once against
    the last stored close (the broker's offline fill, same fill rules and slippage)."""
    *ticket, fill_now, changed = form
    store = get_store()
    try:
        req = _order_request(*ticket)
        broker = _broker(store, req.account, write=True)
        order = broker.submit(req)
        if fill_now and order.is_open:
            broker.fill_at_last(order.id)
            order = broker.order(order.id)
    except PregaoError as exc:
        return (
            ct.error_box(str(exc), getattr(exc, "rule", None), "trading-order-error"),
            (changed or 0) + 1,
        )
    return ct.order_result(order), (changed or 0) + 1


def _selected_order(rows) -> int | None:
    return int(rows[0]["id"]) if rows else None


@callback(
    Output("trading-mod-alert", "children"),
    Output("trading-changed", "data", allow_duplicate=True),
    Input("trading-modify", "n_clicks"),
    Input("trading-cancel-order", "n_clicks"),
    State("trading-orders", "selectedRows"),
    State("trading-account", "value"),
    State("trading-mod-qty", "value"),
    State("trading-mod-price", "value"),
    State("trading-mod-stop", "value"),
    State("trading-changed", "data"),
    prevent_initial_call=True,
)
def _modify(_m, _c, rows, account, qty, price, stop, changed):
    """Modify (quantity, limit, trigger) or cancel the selected open order."""
    oid = _selected_order(rows)
    if not account or oid is None:
        return ct.error_box("Selecione uma ordem aberta na tabela."), no_update
    try:
        broker = _broker(get_store(), account, write=True)
    except PregaoError as exc:
        return ct.error_box(str(exc)), no_update
    try:
        if ctx.triggered_id == "trading-cancel-order":
            order = broker.cancel(oid)
        else:
            if qty is None and price is None and stop is None:
                raise InputError("Informe a nova quantidade, o novo preço ou o novo disparo.")
            order = broker.replace(
                oid,
                qty=int(qty) if qty is not None else None,
                price=price,
                stop_price=stop,
            )
    except PregaoError as exc:
        return ct.error_box(str(exc), getattr(exc, "rule", None)), (changed or 0) + 1
    return ct.order_result(order), (changed or 0) + 1


# --------------------------------------------------------------------------- automation
#: Outputs and inputs of :func:`_params_form` (the layout seeds the first answer).
_PARAMS_OUT = [("trading-params", "children"), ("trading-strategy-doc", "children")]
_PARAMS_IN = [("trading-strategy", "value")]


@callback(
    *[Output(c, p) for c, p in _PARAMS_OUT],
    *[Input(c, p) for c, p in _PARAMS_IN],
    prevent_initial_call=True,  # the layout holds the first answer
)
def _params_form(name):
    cls = STRATEGIES.get(name)
    if cls is None:
        return [], ""
    return ct.strategy_params_form([p.to_dict() for p in cls.params]), cls.description


@callback(
    Output("trading-replay-dates", "start_date"),
    Output("trading-replay-dates", "end_date"),
    Output("trading-interval", "value"),
    Input("trading-auto-tickers", "value"),
    State("trading-replay-dates", "start_date"),
    State("trading-replay-dates", "end_date"),
    State("trading-interval", "value"),
    prevent_initial_call=True,
)
def _replay_window(tickers, start, end, interval):
    """Move the replay window onto the chosen tickers' bars when they have none in it
    (WINFUT: 5-minute bars of 08/2021-05/2022, not the stocks' last months)."""
    from core.data.coverage import bar_coverage, replay_window

    win = replay_window(bar_coverage(get_store()), tickers or [], start, end, interval or "1d")
    if win is None or not win.changed:
        return no_update, no_update, no_update
    return win.start, win.end, win.interval


@callback(
    Output("trading-run-alert", "children"),
    Output("trading-changed", "data", allow_duplicate=True),
    Input("trading-run", "n_clicks"),
    Input("trading-stop", "n_clicks"),
    State("trading-account", "value"),
    State("trading-strategy", "value"),
    State({"type": "trading-param", "name": ALL}, "value"),
    State({"type": "trading-param", "name": ALL}, "id"),
    State("trading-auto-tickers", "value"),
    State("trading-replay-dates", "start_date"),
    State("trading-replay-dates", "end_date"),
    State("trading-speed", "value"),
    State("trading-changed", "data"),
    State("trading-interval", "value"),
    State("trading-day-trade", "value"),
    State("trading-contracts", "value"),
    prevent_initial_call=True,
)
def _automation(_start, _stop, account, strategy, pvals, pids, tickers, start, end, speed,
                changed, interval=None, day_trade=None, contracts=None):  # fmt: skip
    """Start (or resume) the account's runner on a replay of the stored bars, or ask it to
    stop after its current bar. The runner works unattended (thread / Celery task); the
    refresh callback shows its progress. A new start with the same setup resumes after the
    last processed bar."""
    from dashboard.paper_runners import start_runner, stop_runner

    store = get_store()
    bump = (changed or 0) + 1
    try:
        if not account:
            raise InputError("Escolha ou crie uma conta simulada antes de iniciar o robô.")
        _guard(store, account, write=True)
        if ctx.triggered_id == "trading-stop":
            if not stop_runner(store, account):
                raise InputError(f"O robô da conta “{account}” não está rodando.")
            return ct.info_box("Parada pedida: o robô termina o pregão em curso e para."), bump
        tickers = list(tickers or [])
        start_runner(
            store,
            account,
            strategy,
            tickers,
            {i["name"]: v for i, v in zip(pids or [], pvals or []) if v is not None},
            _replay_engine(store, account, tickers, day_trade, contracts),
            start=start,
            end=end,
            speed=float(speed) if speed and float(speed) > 0 else None,
            settings=get_settings(),
            interval=interval or "1d",
        )
    except PregaoError as exc:
        return ct.error_box(str(exc), getattr(exc, "rule", None), "trading-run-error"), bump
    return None, bump


def _replay_engine(store, account: str, tickers: list[str], day_trade, contracts):
    """The runner's engine settings: the account's, plus day-trade mode and, when a ticker
    is a future (WINFUT), a fixed number of contracts per entry (None: the account's own)."""
    import dataclasses

    from core.backtest.sizing import Sizing
    from core.data.futures import is_future_ticker
    from core.trading.accounts import get_account

    dt = "dt" in (day_trade or [])
    fut = any(is_future_ticker(t) for t in tickers)
    if not dt and not fut:
        return None
    acc = get_account(store, account, _owner())
    cfg = dataclasses.replace(acc.engine, cash=acc.initial_cash, day_trade=dt)
    if fut:
        try:
            n = int(contracts or 1)
        except (TypeError, ValueError):
            raise InputError(f"Contratos inválidos: {contracts!r} (use um inteiro ≥ 1).") from None
        cfg = dataclasses.replace(cfg, sizing=Sizing(method="contracts", value=max(n, 1)))
    if cfg.reinvest is None:
        cfg = dataclasses.replace(cfg, reinvest=False)
    return cfg


# --------------------------------------------------------------------------- exports
@callback(
    Output("trading-download-fills", "data"),
    Output("trading-download-ledger", "data"),
    Output("trading-download-ml", "data"),
    Output("trading-download-signals", "data"),
    Input("trading-export-fills", "n_clicks"),
    Input("trading-export-ledger", "n_clicks"),
    Input("trading-export-ml", "n_clicks"),
    Input("trading-export-signals", "n_clicks"),
    State("trading-account", "value"),
    State("trading-export-machine", "value"),
    prevent_initial_call=True,
)
def _export(_f, _l, _m, _s, account, machine):
    """CSV of the account's fills, cash ledger, ML training data or signal log."""
    out = [no_update] * 4
    if not account:
        return out
    store = get_store()
    try:
        _guard(store, account)
    except PregaoError:
        return out
    which = str(ctx.triggered_id).removeprefix("trading-export-")
    machine = bool(machine)
    if which == "fills":
        rows = ct.fill_rows(_broker(store, account).fills())
        df = pd.DataFrame(rows, columns=list(ct.FILL_HEADERS))
        text, i = csv_text(df, headers=ct.FILL_HEADERS, machine=machine), 0
    elif which == "ledger":
        rows = ct.ledger_rows(_broker(store, account).ledger())
        df = pd.DataFrame(rows, columns=list(ct.LEDGER_HEADERS))
        text, i = csv_text(df, headers=ct.LEDGER_HEADERS, machine=machine), 1
    elif which == "ml":
        from core.trading.monitor import collect_ml_data, ml_training_frame

        collect_ml_data(store, account)  # idempotent: the closed trades not stored yet
        text, i = csv_text(ml_training_frame(store, account), machine=machine, decimals=6), 2
    else:
        from core.trading.runner import signal_log

        log = signal_log(store, account)
        text, i = csv_text(log, headers=ct.SIGNAL_HEADERS, machine=machine, decimals=2), 3
    out[i] = dict(content=text, filename=f"{account}_{which}.csv")
    return out
