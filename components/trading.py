"""Builders of the Operações page (``/trading``): account form, order ticket, risk preview,
book grids (orders, positions, fills, cash ledger), account cards, the automation panel and
seed 002's monitor (status card, red flags, monthly heatmap per ticker).

Pure functions: plain data in (the :mod:`core.trading` dataclasses, pandas objects, dicts),
Dash components or ``go.Figure`` out; no I/O, no app. Conventions of :mod:`core.trading`:
quantities are whole shares (orders and fills positive, ``side`` says buy/sell; positions
signed), prices in R$ per share **as traded** (not adjusted), times naive
America/Sao_Paulo. Grids hold raw values (numbers, ISO dates) and format them in pt-BR
(:mod:`components.grid`); texts go through :mod:`components.format`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from components.backtest import MONTHS, equity_figure, param_form, tax_grid
from components.cards import kpi_card, sign_class
from components.format import (
    MISSING,
    fmt_brl,
    fmt_date,
    fmt_datetime,
    fmt_int,
    fmt_num,
    fmt_pct,
    fmt_pct_value,
)
from components.grid import brl_col, date_col, grid, int_col, num_col, pct_col, text_col
from components.inputs import DATE_FORMAT, MONTH_FORMAT, dropdown
from components.theme import apply_theme

__all__ = [
    "SIDE_LABELS",
    "TYPE_LABELS",
    "STATUS_LABELS",
    "TIF_LABELS",
    "OPEN_STATUSES",
    "RISK_FIELDS",
    "SPEED_OPTIONS",
    "REPLAY_INTERVALS",
    "side_label",
    "type_label",
    "status_label",
    "tif_label",
    "account_form",
    "risk_form_values",
    "order_ticket",
    "modify_form",
    "lot_split_text",
    "reference_text",
    "risk_preview",
    "order_result",
    "error_box",
    "info_box",
    "account_cards",
    "order_rows",
    "orders_grid",
    "position_rows",
    "positions_grid",
    "fill_rows",
    "FILL_HEADERS",
    "fills_grid",
    "ledger_rows",
    "LEDGER_HEADERS",
    "ledger_grid",
    "SIGNAL_HEADERS",
    "automation_panel",
    "runner_view",
    "RUNNER_BUSY",
    "strategy_params_form",
    "trading_equity_figure",
    "monitor_card",
    "FLAG_FIELDS",
    "red_flag_form",
    "red_flags_view",
    "ticker_heatmap",
    "exports_bar",
    "BOOK_TABS",
    "LAZY_TABS",
    "book_tabs",
    "book_tab_body",
]

SIDE_LABELS = {"buy": "Compra", "sell": "Venda"}
TYPE_LABELS = {
    "market": "A mercado",
    "limit": "Limitada",
    "stop": "Stop (dispara a mercado)",
    "stop_limit": "Stop limitada",
}
STATUS_LABELS = {
    "nova": "Nova",
    "aceita": "Aceita",
    "parcial": "Parcialmente executada",
    "executada": "Executada",
    "cancelada": "Cancelada",
    "rejeitada": "Rejeitada",
    "expirada": "Expirada",
}
#: Statuses of an order still working (it may be modified or cancelled).
OPEN_STATUSES = ("nova", "aceita", "parcial")
TIF_LABELS = {"day": "Do dia", "gtc": "Até cancelar", "date": "Até a data"}

#: The risk rules of an account, in the order the form shows them:
#: ``(key, pt-BR label, kind, help)``; kind ``pct`` holds a fraction (0.15) shown and typed
#: as a percent (15), ``int`` a count (0 = off), ``bool`` a switch, ``text`` a text.
RISK_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("max_position_pct", "Posição máxima por ativo (% do patrimônio)", "pct", ""),
    ("max_gross_exposure_pct", "Exposição bruta máxima (% do patrimônio)", "pct", ""),
    ("max_open_positions", "Máx. posições abertas", "int", ""),
    (
        "daily_loss_limit_pct",
        "Perda diária máxima (% do patrimônio)",
        "pct",
        "Atingida: nenhuma entrada nova no dia.",
    ),
    (
        "max_drawdown_pct",
        "Drawdown máximo (%)",
        "pct",
        "Kill switch: zera as posições e bloqueia a conta (seed 002: 15%).",
    ),
    ("max_orders_per_day", "Máx. ordens por dia", "int", ""),
    ("window", "Janela de negociação (HH:MM-HH:MM)", "text", "Vazio = pregão inteiro."),
    ("require_stop", "Exigir stop-loss nas entradas", "bool", ""),
)

#: Replay speeds: bars per second (0 = as fast as possible).
SPEED_OPTIONS = [
    {"label": "Máxima (sem pausa)", "value": 0},
    {"label": "10 barras/s", "value": 10},
    {"label": "2 barras/s", "value": 2},
    {"label": "1 barra/s", "value": 1},
]


def _label(table: dict, code) -> str:
    return table.get(str(code), str(code)) if code is not None else MISSING


def side_label(code) -> str:
    """``"buy" -> "Compra"``."""
    return _label(SIDE_LABELS, code)


def type_label(code) -> str:
    """``"stop_limit" -> "Stop limitada"``."""
    return _label(TYPE_LABELS, code)


def status_label(code) -> str:
    """``"parcial" -> "Parcialmente executada"``."""
    return _label(STATUS_LABELS, code)


def tif_label(tif) -> str:
    """Validity in words: ``"day" -> "Do dia"``, a date -> ``"Até 31/01/2025"``."""
    if isinstance(tif, (_dt.date, pd.Timestamp)):
        return f"Até {fmt_date(tif)}"
    s = str(tif or "")
    if s in TIF_LABELS:
        return TIF_LABELS[s]
    try:
        return f"Até {fmt_date(pd.Timestamp(s))}"
    except (ValueError, TypeError):
        return s or MISSING


def _field(label, control, help_text=None, className="mb-2"):
    return html.Div(
        [dbc.Label(label, className="small mb-0"), control]
        + ([html.Div(help_text, className="form-text")] if help_text else []),
        className=className,
    )


# --------------------------------------------------------------------------- account
def risk_form_values(defaults: dict) -> dict:
    """Form values of the risk rules ``defaults`` (fractions shown as percent numbers).

    Parameters
    ----------
    defaults : dict
        ``RiskRules`` fields as a dict (``dataclasses.asdict``); fractions such as
        ``max_drawdown_pct=0.15``.

    Returns
    -------
    dict
        key -> the value its input shows (``15.0`` for ``0.15``; None for "off").
    """
    out = {}
    for key, _lab, kind, _help in RISK_FIELDS:
        v = defaults.get(key)
        if kind == "pct":
            out[key] = None if v is None else round(float(v) * 100.0, 6)
        elif kind == "bool":
            out[key] = bool(v)
        elif kind == "int":
            out[key] = None if v is None else int(v)
        else:
            out[key] = "" if v is None else str(v)
    return out


def _risk_default_text(kind: str, v) -> str:
    if kind == "bool":
        return "sim" if v else "não"
    if v is None or v == "" or (kind == "int" and v == 0):
        return "desligada"
    if kind == "pct":
        return fmt_pct(float(v) / 100.0, 1)
    if kind == "int":
        return fmt_int(v)
    return str(v)


def account_form(risk_defaults: dict, default_cash: float = 100_000.0) -> dbc.Card:
    """The "Nova conta" form: name, initial cash, costs and the risk rules with their
    defaults filled in and written under each input.

    Ids: ``trading-new-name``, ``trading-new-cash``, ``trading-new-costs``,
    ``{"type": "trading-risk", "name": KEY}`` per rule, ``trading-create`` (button),
    ``trading-create-alert``.

    Parameters
    ----------
    risk_defaults : dict
        ``RiskRules()`` as a dict (fractions), e.g. ``{"max_drawdown_pct": 0.15, ...}``.
    default_cash : float
        Initial cash shown, R$.
    """
    values = risk_form_values(risk_defaults)
    rules = []
    for key, label, kind, help_ in RISK_FIELDS:
        rid = {"type": "trading-risk", "name": key}
        default = f"Padrão: {_risk_default_text(kind, values.get(key))}."
        text = f"{default} {help_}".strip()
        if kind == "bool":
            ctl = dbc.Switch(id=rid, value=bool(values.get(key)), label=label)
            rules.append(html.Div([ctl, html.Div(text, className="form-text")], className="mb-2"))
            continue
        if kind == "text":
            ctl = dbc.Input(id=rid, type="text", value=values.get(key), size="sm")
        else:
            ctl = dbc.Input(
                id=rid,
                type="number",
                value=values.get(key),
                min=0,
                step=1 if kind == "int" else 0.5,
                size="sm",
            )
        rules.append(_field(label, ctl, text))
    return dbc.Card(
        dbc.CardBody(
            [
                html.H6("Nova conta simulada", className="mb-2"),
                dbc.Row(
                    [
                        dbc.Col(
                            _field(
                                "Nome da conta",
                                dbc.Input(
                                    id="trading-new-name",
                                    type="text",
                                    placeholder="ex.: wave3-2024",
                                    size="sm",
                                ),
                            ),
                            md=6,
                        ),
                        dbc.Col(
                            _field(
                                "Capital inicial (R$)",
                                dbc.Input(
                                    id="trading-new-cash",
                                    type="number",
                                    value=default_cash,
                                    step=1000,
                                    size="sm",
                                ),
                            ),
                            md=6,
                        ),
                    ],
                    className="g-2",
                ),
                _field(
                    "Custos",
                    dbc.RadioItems(
                        id="trading-new-costs",
                        inline=True,
                        value="b3",
                        options=[
                            {"label": "B3 (emolumentos + liquidação + slippage)", "value": "b3"},
                            {"label": "Sem custos", "value": "none"},
                        ],
                    ),
                ),
                html.Div(
                    "Regras de risco (checadas antes de cada ordem; vazio ou 0 desliga a regra)",
                    className="fw-semibold small mt-2 mb-1",
                ),
                dbc.Row([dbc.Col(r, md=6) for r in rules], className="g-2"),
                dbc.Button(
                    [html.I(className="bi bi-plus-lg me-1"), "Criar conta"],
                    id="trading-create",
                    color="primary",
                    size="sm",
                    className="mt-1",
                ),
                html.Div(id="trading-create-alert", className="mt-2"),
            ]
        ),
        className="mb-3",
    )


def _drawdown_text(dd) -> str:
    """A drawdown fraction (≥ 0) shown as a loss: ``0.042 -> "-4,2%"``; below 0,05 % "0,0%"."""
    if dd is None or dd != dd:
        return MISSING
    return fmt_pct(0.0, 1) if abs(dd) < 0.0005 else fmt_pct(-abs(dd), 1)


def account_cards(snap) -> html.Div:
    """KPI cards of an account: equity, cash available vs projected (D+2), exposure, P&L,
    drawdown and the block state.

    Parameters
    ----------
    snap : core.trading.broker.AccountSnapshot or None
        R$ amounts; ``drawdown_pct`` a fraction (0.042 = 4,2 %).
    """
    if snap is None:
        return html.Div(
            "Escolha ou crie uma conta simulada para começar.",
            className="text-muted small",
            id="trading-no-account",
        )
    dd = getattr(snap, "drawdown_pct", None)
    cards = [
        kpi_card(
            "Patrimônio",
            fmt_brl(snap.equity),
            f"pico {fmt_brl(getattr(snap, 'peak_equity', None))}",
            card_id="trading-card-equity",
        ),
        kpi_card(
            "Caixa disponível",
            fmt_brl(snap.cash_available),
            f"projetado (D+2): {fmt_brl(snap.cash_projected)}",
            card_id="trading-card-cash",
            title="Disponível = já liquidado; projetado = inclui compras e vendas que "
            "liquidam em D+2.",
        ),
        kpi_card(
            "Exposição bruta",
            fmt_brl(snap.gross_exposure),
            (
                f"{fmt_pct(snap.gross_exposure / snap.equity, 1)} do patrimônio"
                if snap.equity
                else None
            ),
        ),
        kpi_card(
            "Resultado do dia",
            fmt_brl(snap.day_pnl, sign=True),
            value_class=sign_class(snap.day_pnl),
        ),
        kpi_card(
            "Resultado realizado",
            fmt_brl(snap.realized_pnl, sign=True),
            f"não realizado {fmt_brl(snap.unrealized_pnl, sign=True)}",
            value_class=sign_class(snap.realized_pnl),
        ),
        kpi_card(
            "Drawdown",
            _drawdown_text(dd),
            "desde o pico do patrimônio",
            value_class="neg" if dd and dd >= 0.0005 else "",
        ),
    ]
    out: list = []
    if getattr(snap, "blocked", False):
        out.append(
            dbc.Alert(
                [
                    html.I(className="bi bi-slash-circle me-2"),
                    html.Strong("Conta bloqueada: "),
                    str(getattr(snap, "block_reason", "") or "kill switch acionado."),
                    " Nenhuma ordem nova é aceita.",
                ],
                color="danger",
                className="py-2 mb-2",
                id="trading-blocked",
            )
        )
    out.append(
        dbc.Row(
            [dbc.Col(c, xs=6, md=4, xl=2, className="mb-2") for c in cards], className="g-2 mb-1"
        )
    )
    return html.Div(out)


# --------------------------------------------------------------------------- ticket
def order_ticket(ticker_opts: list, default_ticker: str | None = None) -> dbc.Card:
    """The order ticket: ticker, side, type, quantity in shares or lots (with the lot /
    fractional split), prices, bracket stop and target, validity, the risk preview and
    "Enviar ordem".

    Ids: ``trading-ticker``, ``trading-side``, ``trading-type``, ``trading-qty``,
    ``trading-qty-unit``, ``trading-lot-split``, ``trading-reference``, ``trading-price``,
    ``trading-stop-price``, ``trading-stop-loss``, ``trading-target``, ``trading-tif``,
    ``trading-tif-date``, ``trading-preview``, ``trading-submit``, ``trading-order-alert``.
    """
    price_row = dbc.Row(
        [
            dbc.Col(
                html.Div(
                    _field(
                        "Preço limite (R$/ação)",
                        dbc.Input(id="trading-price", type="number", min=0, step=0.01, size="sm"),
                    ),
                    id="trading-price-box",
                ),
                md=6,
            ),
            dbc.Col(
                html.Div(
                    _field(
                        "Preço de disparo (R$/ação)",
                        dbc.Input(
                            id="trading-stop-price", type="number", min=0, step=0.01, size="sm"
                        ),
                    ),
                    id="trading-stop-price-box",
                ),
                md=6,
            ),
        ],
        className="g-2",
    )
    bracket_row = dbc.Row(
        [
            dbc.Col(
                _field(
                    "Stop-loss (R$/ação)",
                    dbc.Input(id="trading-stop-loss", type="number", min=0, step=0.01, size="sm"),
                ),
                md=6,
            ),
            dbc.Col(
                _field(
                    "Alvo (R$/ação)",
                    dbc.Input(id="trading-target", type="number", min=0, step=0.01, size="sm"),
                ),
                md=6,
            ),
        ],
        className="g-2",
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.H6("Boleta", className="mb-2"),
                _field(
                    "Ativo",
                    dropdown(
                        id="trading-ticker",
                        options=ticker_opts,
                        value=default_ticker,
                        clearable=False,
                    ),
                ),
                html.Div(id="trading-reference", className="small text-muted mb-2"),
                dbc.Row(
                    [
                        dbc.Col(
                            _field(
                                "Lado",
                                dbc.RadioItems(
                                    id="trading-side",
                                    inline=True,
                                    value="buy",
                                    options=[
                                        {"label": v, "value": k} for k, v in SIDE_LABELS.items()
                                    ],
                                ),
                            ),
                            md=5,
                        ),
                        dbc.Col(
                            _field(
                                "Tipo",
                                dbc.Select(
                                    id="trading-type",
                                    value="market",
                                    size="sm",
                                    options=[
                                        {"label": v, "value": k} for k, v in TYPE_LABELS.items()
                                    ],
                                ),
                            ),
                            md=7,
                        ),
                    ],
                    className="g-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            _field(
                                "Quantidade",
                                dbc.Input(
                                    id="trading-qty",
                                    type="number",
                                    min=1,
                                    step=1,
                                    value=100,
                                    size="sm",
                                ),
                            ),
                            md=5,
                        ),
                        dbc.Col(
                            _field(
                                "em",
                                dbc.RadioItems(
                                    id="trading-qty-unit",
                                    inline=True,
                                    value="shares",
                                    options=[
                                        {"label": "ações", "value": "shares"},
                                        {"label": "lotes de 100", "value": "lots"},
                                    ],
                                ),
                            ),
                            md=7,
                        ),
                    ],
                    className="g-2",
                ),
                html.Div(id="trading-lot-split", className="small mb-2"),
                price_row,
                bracket_row,
                html.Div(
                    "Stop-loss e alvo viram ordens filhas (uma cancela a outra) após a entrada.",
                    className="form-text mt-0 mb-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            _field(
                                "Validade",
                                dbc.Select(
                                    id="trading-tif",
                                    value="day",
                                    size="sm",
                                    options=[
                                        {"label": v, "value": k} for k, v in TIF_LABELS.items()
                                    ],
                                ),
                            ),
                            md=6,
                        ),
                        dbc.Col(
                            html.Div(
                                _field(
                                    "Data (dd/mm/aaaa)",
                                    dcc.DatePickerSingle(
                                        id="trading-tif-date",
                                        display_format=DATE_FORMAT,
                                        month_format=MONTH_FORMAT,
                                        first_day_of_week=0,
                                        placeholder="dd/mm/aaaa",
                                    ),
                                ),
                                id="trading-tif-date-box",
                                style={"display": "none"},
                            ),
                            md=6,
                        ),
                    ],
                    className="g-2",
                ),
                dbc.Switch(
                    id="trading-fill-now",
                    value=True,
                    label="Executar já contra o último fechamento armazenado (sem feed ao vivo)",
                    className="small",
                ),
                html.Div(
                    "Desligado, a ordem espera a próxima barra do feed (replay ou ao vivo).",
                    className="form-text mt-0",
                ),
                html.Div(id="trading-preview", className="mt-2", **{"aria-live": "polite"}),
                dbc.Button(
                    [html.I(className="bi bi-send me-1"), "Enviar ordem"],
                    id="trading-submit",
                    color="primary",
                    className="mt-1",
                ),
                html.Div(id="trading-order-alert", className="mt-2"),
            ]
        ),
        className="mb-3",
    )


def lot_split_text(shares: int | None, ticker: str | None, lot_size: int = 100) -> str:
    """How B3 splits a quantity: round lots on the standard market, the rest on the
    fractional market (ticker + ``F``).

    Parameters
    ----------
    shares : int or None
        Shares ordered (≥ 0).
    ticker : str or None
    lot_size : int
        Standard lot (100 shares on B3).

    Examples
    --------
    ``lot_split_text(257, "PETR4")`` ->
    ``"257 ações = 2 lotes de 100 (200 ações, PETR4) + 57 no fracionário (PETR4F)"``
    """
    if shares is None or shares <= 0:
        return ""
    t = ticker or "ativo"
    whole, frac = (shares // lot_size) * lot_size, shares % lot_size
    parts = []
    if whole:
        n = whole // lot_size
        parts.append(
            f"{fmt_int(n)} {'lote' if n == 1 else 'lotes'} de {lot_size} "
            f"({fmt_int(whole)} ações, {t})"
        )
    if frac:
        parts.append(f"{fmt_int(frac)} no fracionário ({t}F)")
    return f"{fmt_int(shares)} {'ação' if shares == 1 else 'ações'} = " + " + ".join(parts)


def reference_text(ticker: str | None, last: float | None, when) -> str:
    """The reference price under the ticker: last traded close and its session."""
    if not ticker:
        return ""
    if last is None:
        return f"{ticker}: sem cotação armazenada."
    return (
        f"Último preço negociado de {ticker}: {fmt_brl(last)} por ação "
        f"(fechamento de {fmt_date(when)})."
    )


def risk_preview(decision, *, value: float | None = None, fees: float | None = None, session=None):
    """The pre-trade risk verdict of :func:`core.trading.risk.check` and the order's
    estimated value.

    Parameters
    ----------
    decision : RiskDecision or None
        ``ok``, ``rule`` (the rule's key) and ``message`` (pt-BR, with the numbers).
        None: nothing to check yet.
    value : float, optional
        Estimated traded value, R$ (quantity × reference price).
    fees : float, optional
        Estimated costs, R$.
    session : date-like, optional
        The session the order would work in.
    """
    if decision is None:
        return html.Div()
    est = []
    if value is not None:
        est.append(f"Valor estimado: {fmt_brl(value)}")
    if fees is not None:
        est.append(f"custos estimados: {fmt_brl(fees)}")
    if session is not None:
        est.append(f"pregão de {fmt_date(session)}")
    extra = html.Div(" · ".join(est), className="small") if est else None
    if decision.ok:
        return dbc.Alert(
            [
                html.I(className="bi bi-shield-check me-1"),
                "Pré-checagem de risco: dentro das regras da conta.",
                extra,
            ],
            color="success",
            className="py-1 px-2 small mb-1",
            id="trading-preview-ok",
        )
    return dbc.Alert(
        [
            html.I(className="bi bi-shield-exclamation me-1"),
            html.Strong("Pré-checagem de risco: "),
            str(decision.message),
            extra,
        ],
        color="warning",
        className="py-1 px-2 small mb-1",
        id="trading-preview-rejected",
    )


def order_result(order) -> dbc.Alert:
    """The answer to "Enviar ordem": the order's number, what it is and its status."""
    price = ""
    if getattr(order, "price", None):
        price = f" a {fmt_brl(order.price)}"
    if getattr(order, "stop_price", None):
        price += f", disparo {fmt_brl(order.stop_price)}"
    status = status_label(order.status)
    color = {"rejeitada": "danger", "executada": "success"}.get(order.status, "info")
    text = (
        f"Ordem nº {order.id}: {side_label(order.side).lower()} {fmt_int(order.qty)} "
        f"{order.ticker} ({type_label(order.type).lower()}{price}) — {status.lower()}"
    )
    if getattr(order, "filled_qty", 0) and getattr(order, "avg_fill_price", None):
        text += (
            f"; executadas {fmt_int(order.filled_qty)} a {fmt_brl(order.avg_fill_price)} "
            "(preço médio)"
        )
    if getattr(order, "reason", None):
        text += f". {order.reason}"
    return dbc.Alert(
        text + ".", color=color, className="py-2 small", dismissable=True, id="trading-order-ok"
    )


def error_box(message: str, rule: str | None = None, element_id: str | None = None) -> dbc.Alert:
    """A readable error from core (``InputError`` / ``RiskRejected``): the message as core
    wrote it (it names the field or the rule and the numbers) — never a traceback. ``rule``
    (a :data:`core.trading.risk.RULE_LABELS` key) is named by the message already."""
    kw = {"id": element_id} if element_id else {}
    return dbc.Alert(
        [html.I(className="bi bi-x-octagon me-1"), str(message)],
        color="danger",
        className="py-2 small",
        dismissable=True,
        **kw,
    )


def info_box(message: str, element_id: str | None = None) -> dbc.Alert:
    """A short confirmation (pt-BR)."""
    kw = {"id": element_id} if element_id else {}
    return dbc.Alert(message, color="info", className="py-2 small", dismissable=True, **kw)


def modify_form() -> html.Div:
    """Modify / cancel the selected open order.

    Ids: ``trading-mod-qty``, ``trading-mod-price``, ``trading-mod-stop``,
    ``trading-modify``, ``trading-cancel-order``, ``trading-mod-alert``.
    """
    return html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(
                        _field(
                            "Nova quantidade (ações)",
                            dbc.Input(
                                id="trading-mod-qty", type="number", min=1, step=1, size="sm"
                            ),
                        ),
                        md=3,
                    ),
                    dbc.Col(
                        _field(
                            "Novo preço limite (R$/ação)",
                            dbc.Input(
                                id="trading-mod-price", type="number", min=0, step=0.01, size="sm"
                            ),
                        ),
                        md=3,
                    ),
                    dbc.Col(
                        _field(
                            "Novo disparo (R$/ação)",
                            dbc.Input(
                                id="trading-mod-stop", type="number", min=0, step=0.01, size="sm"
                            ),
                        ),
                        md=3,
                    ),
                    dbc.Col(
                        html.Div(
                            [
                                dbc.Button(
                                    "Alterar",
                                    id="trading-modify",
                                    size="sm",
                                    color="primary",
                                    outline=True,
                                    className="me-2",
                                ),
                                dbc.Button(
                                    "Cancelar ordem",
                                    id="trading-cancel-order",
                                    size="sm",
                                    color="danger",
                                    outline=True,
                                ),
                            ],
                            className="d-flex align-items-end h-100 pb-2",
                        ),
                        md=3,
                    ),
                ],
                className="g-2",
            ),
            html.Div(
                "Selecione uma ordem aberta na tabela; campos vazios ficam como estão.",
                className="form-text mt-0",
            ),
            html.Div(id="trading-mod-alert", className="mt-1"),
        ]
    )


# --------------------------------------------------------------------------- grids
def _iso_time(t) -> str | None:
    if t is None or t != t:
        return None
    ts = pd.Timestamp(t)
    return ts.strftime("%Y-%m-%d %H:%M") if (ts.hour or ts.minute) else ts.strftime("%Y-%m-%d")


def _r2(x):
    return None if x is None or x != x else round(float(x), 2)


def order_rows(orders: Iterable) -> list[dict]:
    """Row dicts of the orders grid (raw numbers; the grid formats them)."""
    out = []
    for o in orders:
        out.append(
            {
                "id": int(o.id),
                "criada": _iso_time(getattr(o, "created_at", None)),
                "ticker": o.ticker,
                "lado": side_label(o.side),
                "tipo": type_label(o.type),
                "qtd": int(o.qty),
                "executada": int(getattr(o, "filled_qty", 0) or 0),
                "preco": _r2(getattr(o, "price", None)),
                "disparo": _r2(getattr(o, "stop_price", None)),
                "preco_medio": _r2(getattr(o, "avg_fill_price", None)),
                "validade": tif_label(getattr(o, "tif", None)),
                "status": status_label(o.status),
                "status_code": o.status,
                "origem": _source_label(getattr(o, "source", "manual")),
                "pai": getattr(o, "parent_id", None),
                "motivo": getattr(o, "reason", None) or "",
            }
        )
    return out


def _source_label(source) -> str:
    s = str(source or "manual")
    if s == "manual":
        return "manual"
    if s.startswith("strategy:"):
        return f"estratégia {s.split(':', 1)[1]}"
    return s


def _dt_col(field: str, header: str, **kw) -> dict:
    return {
        **text_col(field, header, width=155, **kw),
        "valueFormatter": {"function": "ptDateTime(params.value)"},
    }


def orders_grid(grid_id: str, rows: list[dict] | None = None) -> dag.AgGrid:
    """Orders with single-row selection (to modify or cancel the selected one)."""
    cols = [
        int_col("id", "Nº", width=80),
        _dt_col("criada", "Criada em"),
        text_col("ticker", "Ativo", width=95),
        text_col("lado", "Lado", width=90),
        text_col("tipo", "Tipo", width=130),
        int_col("qtd", "Qtd. (ações ou contratos)", width=120),
        int_col("executada", "Executada (ações ou contratos)", width=125),
        num_col("preco", "Preço limite (R$ ou pts)", width=120),
        num_col("disparo", "Disparo (R$ ou pts)", width=115),
        num_col("preco_medio", "Preço médio exec. (R$ ou pts)", width=130),
        text_col("validade", "Validade", width=120),
        text_col("status", "Situação", width=130),
        text_col("origem", "Origem", width=130),
        int_col("pai", "Ordem-mãe", width=100),
        text_col("motivo", "Motivo", flex=1, minWidth=160, tooltipField="motivo"),
    ]
    return grid(
        grid_id,
        rows,
        cols,
        no_rows="Nenhuma ordem",
        height="300px",
        row_id="id",
        selection={"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
    )


def position_rows(positions: Iterable) -> list[dict]:
    """Row dicts of the positions grid (signed quantity: + comprado, − vendido).

    Futures (WINFUT): ``qtd`` in contracts, prices in points, ``valor`` the notional in R$
    (points × point value × contracts), results in R$; ``unidade`` says which."""
    from core.data.futures import futures_spec, is_future_ticker

    out = []
    for p in positions:
        qty = int(p.qty)
        fut = is_future_ticker(p.ticker)
        pv = futures_spec(p.ticker).point_value if fut else 1.0
        cost = abs(qty) * float(p.avg_price) * pv if p.avg_price is not None else None
        ret = (
            100.0 * float(p.unrealized_pnl) / cost
            if cost and getattr(p, "unrealized_pnl", None) is not None
            else None
        )
        out.append(
            {
                "ticker": p.ticker,
                "lado": "comprado" if qty > 0 else ("vendido" if qty < 0 else "zerado"),
                "qtd": qty,
                "unidade": "contratos · pts" if fut else "ações · R$",
                "preco_medio": _r2(p.avg_price),
                "ultimo": _r2(getattr(p, "last", None)),
                "valor": _r2(getattr(p, "market_value", None)),
                "nao_realizado": _r2(getattr(p, "unrealized_pnl", None)),
                "retorno": None if ret is None else round(ret, 2),
                "realizado": _r2(getattr(p, "realized_pnl", None)),
            }
        )
    return out


def positions_grid(grid_id: str, rows: list[dict] | None = None) -> dag.AgGrid:
    """Open positions: quantity, average price (costs included), last traded price, P&L."""
    pnl = {"pos": "params.value > 0", "neg": "params.value < 0"}
    cols = [
        text_col("ticker", "Ativo", width=95),
        text_col("lado", "Lado", width=100),
        int_col("qtd", "Qtd. (ações ou contratos)", width=120),
        text_col("unidade", "Unidade", width=125),
        num_col("preco_medio", "Preço médio c/ custos (R$ ou pts)", width=145),
        num_col("ultimo", "Último negociado (R$ ou pts)", width=140),
        brl_col("valor", "Valor de mercado / nocional (R$)", width=150),
        brl_col("nao_realizado", "Resultado não realizado (R$)", width=150, cellClassRules=pnl),
        pct_col("retorno", "Retorno (%)", colored=True, width=110),
        brl_col("realizado", "Resultado realizado (R$)", width=140, cellClassRules=pnl),
    ]
    return grid(
        grid_id, rows, cols, no_rows="Nenhuma posição aberta", height="260px", row_id="ticker"
    )


#: Fills grid and pt-BR CSV headers.
FILL_HEADERS = {
    "id": "Nº",
    "hora": "Data/hora",
    "ordem": "Ordem",
    "ticker": "Ativo",
    "lado": "Lado",
    "qtd": "Qtd. (ações ou contratos)",
    "unidade": "Unidade",
    "preco": "Preço (R$ ou pts)",
    "valor": "Valor (R$)",
    "custos": "Custos (R$)",
    "livro": "Livro",
    "origem": "Preço de",
}


def fill_rows(fills: Iterable) -> list[dict]:
    """Row dicts of the fills grid: each execution at its traded price (futures: contracts
    at a price in points, ``valor`` the notional in R$ = points × point value × contracts)."""
    from core.data.futures import futures_spec, is_future_ticker

    out = []
    for f in fills:
        pv = futures_spec(f.ticker).point_value if is_future_ticker(f.ticker) else 1.0
        out.append(
            {
                "id": int(f.id),
                "hora": _iso_time(f.time),
                "ordem": int(f.order_id),
                "ticker": f.ticker,
                "lado": side_label(f.side),
                "qtd": int(f.qty),
                "unidade": "contratos · pts" if pv != 1.0 else "ações · R$",
                "preco": _r2(f.price),
                "valor": _r2(float(f.qty) * float(f.price) * pv),
                "custos": _r2(f.fees),
                "livro": getattr(f, "market_ticker", "") or f.ticker,
                "origem": getattr(f, "label", "") or "barra do feed",
            }
        )
    return out


def fills_grid(grid_id: str, rows: list[dict] | None = None) -> dag.AgGrid:
    """Executions, newest first by default order of ``rows``."""
    h = FILL_HEADERS
    cols = [
        int_col("id", h["id"], width=80),
        _dt_col("hora", h["hora"]),
        int_col("ordem", h["ordem"], width=90),
        text_col("ticker", h["ticker"], width=95),
        text_col("lado", h["lado"], width=90),
        int_col("qtd", h["qtd"], width=120),
        text_col("unidade", h["unidade"], width=125),
        num_col("preco", h["preco"], width=115),
        brl_col("valor", h["valor"], width=130),
        brl_col("custos", h["custos"], width=110),
        text_col("livro", h["livro"], width=100),
        text_col("origem", h["origem"], flex=1, minWidth=200, tooltipField="origem"),
    ]
    return grid(grid_id, rows, cols, no_rows="Nenhuma execução", height="300px", page_size=50)


#: Cash-ledger grid and pt-BR CSV headers.
LEDGER_HEADERS = {
    "data": "Data",
    "liquidacao": "Liquidação",
    "tipo": "Lançamento",
    "ticker": "Ativo",
    "descricao": "Descrição",
    "valor": "Valor (R$)",
    "saldo": "Saldo projetado (R$)",
}

_LEDGER_KINDS = {
    "deposit": "Depósito inicial",
    "deposito": "Depósito inicial",
    "fill": "Liquidação de operação",
    "trade": "Liquidação de operação",
    "buy": "Compra",
    "sell": "Venda",
    "fee": "Custos (taxas B3/corretagem)",
    "fees": "Custos (taxas B3/corretagem)",
    "dividend": "Dividendo",
    "jcp": "JCP (líquido de 15% IR)",
    "borrow": "Aluguel (venda a descoberto)",
    "tax": "Imposto",
    "darf": "DARF",
    "irrf": "IRRF (dedo-duro)",
    "interest": "Rendimento do caixa",
}


def _get(row, key, default=None):
    if isinstance(row, dict):
        return row.get(key, default)
    return getattr(row, key, default)


def ledger_rows(entries) -> list[dict]:
    """Row dicts of the cash ledger: one debit or credit per row, its settlement date and
    the running balance.

    Parameters
    ----------
    entries : pandas.DataFrame or iterable of objects/dicts
        Fields ``time`` (or ``date``), ``settle_date`` (optional), ``kind``, ``ticker``,
        ``description`` (or ``note``), ``amount`` (R$, + credit, − debit) and optionally
        ``balance`` (otherwise the running sum).
    """
    if isinstance(entries, pd.DataFrame):
        entries = entries.to_dict("records")
    out, running = [], 0.0
    for e in entries:
        amount = float(_get(e, "amount", 0.0) or 0.0)
        running += amount
        bal = _get(e, "balance")
        kind = str(_get(e, "kind", "") or "")
        when = _get(e, "time", None) or _get(e, "date", None)
        settle = _get(e, "settle_date", None) or _get(e, "settles_on", None)
        out.append(
            {
                "data": _iso_time(when),
                "liquidacao": _iso_time(settle) if settle is not None else _iso_time(when),
                "tipo": _LEDGER_KINDS.get(kind, kind),
                "ticker": _get(e, "ticker") or "",
                "descricao": _get(e, "description") or _get(e, "note") or "",
                "valor": round(amount, 2),
                "saldo": round(float(bal) if bal is not None and bal == bal else running, 2),
            }
        )
    return out


def ledger_grid(grid_id: str, rows: list[dict] | None = None) -> dag.AgGrid:
    """The cash ledger (extrato): every debit and credit with its D+2 settlement date."""
    h = LEDGER_HEADERS
    money = {"pos": "params.value > 0", "neg": "params.value < 0"}
    cols = [
        _dt_col("data", h["data"]),
        date_col("liquidacao", h["liquidacao"]),
        text_col("tipo", h["tipo"], width=190),
        text_col("ticker", h["ticker"], width=90),
        text_col("descricao", h["descricao"], flex=1, minWidth=200, tooltipField="descricao"),
        brl_col("valor", h["valor"], width=130, cellClassRules=money),
        brl_col("saldo", h["saldo"], width=150),
    ]
    return grid(
        grid_id,
        rows,
        cols,
        no_rows="Nenhum lançamento",
        height="320px",
        page_size=50,
        options={"suppressColumnVirtualisation": True},
    )


# --------------------------------------------------------------------------- automation
def strategy_params_form(params: list[dict], values: dict | None = None) -> list:
    """Inputs of a strategy's declared parameters, ids ``{"type": "trading-param", "name": N}``."""
    return param_form(params, values, id_type="trading-param")


def automation_panel(
    strategy_opts: list[dict],
    ticker_opts: list,
    *,
    default_strategy: str = "wave3",
    default_tickers: Sequence[str] = (),
    span: tuple[str | None, str | None] = (None, None),
    start: str | None = None,
    end: str | None = None,
) -> dbc.Card:
    """The automation panel: strategy and its parameters, tickers, replay window and speed,
    start/stop and the progress bar (bars done / total).

    Ids: ``trading-strategy``, ``trading-strategy-doc``, ``trading-params``,
    ``trading-auto-tickers``, ``trading-replay-dates`` (start/end), ``trading-speed``,
    ``trading-interval`` (bars: ``1d`` or intraday, :data:`REPLAY_INTERVALS`),
    ``trading-day-trade`` (checklist: ``["dt"]`` closes everything before the session's
    end), ``trading-contracts`` (futures: contracts per entry), ``trading-run`` (start),
    ``trading-stop`` (stop), ``trading-run-alert`` and ``trading-runner-box`` (the runner's
    state and progress, :func:`runner_view`).
    """
    from components.inputs import date_range

    return dbc.Card(
        dbc.CardBody(
            [
                html.H6("Automação: estratégia em replay", className="mb-2"),
                html.Div(
                    "Reproduz os pregões armazenados barra a barra, como se fossem ao vivo: a "
                    "estratégia gera sinais com o histórico até cada barra e as ordens passam "
                    "pelas regras de risco da conta.",
                    className="small text-muted mb-2",
                ),
                _field(
                    "Estratégia",
                    dropdown(
                        id="trading-strategy",
                        options=strategy_opts,
                        value=default_strategy,
                        clearable=False,
                    ),
                ),
                html.Div(id="trading-strategy-doc", className="small text-muted mb-2"),
                html.Div(id="trading-params"),
                _field(
                    "Ativos",
                    dropdown(
                        id="trading-auto-tickers",
                        options=ticker_opts,
                        value=list(default_tickers),
                        multi=True,
                    ),
                ),
                _field(
                    "Período do replay (início – fim)",
                    date_range("trading-replay-dates", start, end, span=span),
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            _field(
                                "Barras",
                                dbc.Select(
                                    id="trading-interval",
                                    value="1d",
                                    size="sm",
                                    options=[
                                        {"label": lb, "value": v} for v, lb in REPLAY_INTERVALS
                                    ],
                                ),
                            ),
                            width=4,
                        ),
                        dbc.Col(
                            _field(
                                "Contratos (futuros)",
                                dbc.Input(
                                    id="trading-contracts",
                                    type="number",
                                    min=1,
                                    step=1,
                                    value=1,
                                    size="sm",
                                ),
                            ),
                            width=4,
                        ),
                        dbc.Col(
                            dbc.Checklist(
                                id="trading-day-trade",
                                options=[
                                    {"label": "Day trade (zera no fim do pregão)", "value": "dt"}
                                ],
                                value=[],
                                className="small mt-4",
                            ),
                            width=4,
                        ),
                    ],
                    className="g-2",
                ),
                _field(
                    "Velocidade",
                    dbc.Select(
                        id="trading-speed",
                        value="0",
                        size="sm",
                        options=[
                            {"label": o["label"], "value": str(o["value"])} for o in SPEED_OPTIONS
                        ],
                    ),
                ),
                html.Div(
                    [
                        dbc.Button(
                            [html.I(className="bi bi-play-fill me-1"), "Iniciar"],
                            id="trading-run",
                            color="success",
                            className="me-2",
                        ),
                        dbc.Button(
                            [html.I(className="bi bi-stop-fill me-1"), "Parar"],
                            id="trading-stop",
                            color="secondary",
                            outline=True,
                            disabled=True,
                        ),
                    ],
                    className="mt-2",
                ),
                html.Div(id="trading-run-alert", className="mt-2"),
                html.Div(runner_view(None), id="trading-runner-box", className="mt-2"),
            ]
        ),
        className="mb-3",
    )


#: Bar intervals a replay runs on (value, pt-BR label): daily sessions or intraday bars
#: (WINFUT is stored at 5 minutes; coarser intraday bars are resampled inside sessions).
REPLAY_INTERVALS: tuple[tuple[str, str], ...] = (
    ("1d", "Diário"),
    ("5min", "5 min"),
    ("15min", "15 min"),
    ("30min", "30 min"),
    ("60min", "60 min"),
)

#: Runner states that mean "working" (the page refreshes fast, "Iniciar" is disabled).
RUNNER_BUSY = ("rodando", "parando")
_RUNNER_COLORS = {
    "rodando": "primary",
    "parando": "warning",
    "concluído": "success",
    "parado": "secondary",
    "erro": "danger",
}


def runner_view(st) -> html.Div:
    """The runner attached to an account: strategy, tickers, window, state and a progress
    bar of the sessions done / total.

    Ids: ``trading-run-progress`` (the bar), ``trading-run-progress-label`` (the state
    line: ``"rodando · 37 / 125 pregões · último 03/07/2024"``).

    Parameters
    ----------
    st : core.trading.runner.RunnerStatus or None
    """
    if st is None:
        return html.Div(
            [
                dbc.Progress(id="trading-run-progress", value=0, style={"height": "1.2rem"}),
                html.Div(
                    "Nenhum robô ligado a esta conta.",
                    id="trading-run-progress-label",
                    className="small text-muted mt-1",
                ),
            ]
        )
    done, total = int(st.bars_done or 0), int(st.bars_total or 0)
    pct = 100.0 * done / total if total else 0.0
    state = [st.status]
    if total:
        daily = getattr(st, "interval", "1d") == "1d"
        unit = "pregões" if daily else f"barras de {st.interval}"
        state.append(f"{fmt_int(done)} / {fmt_int(total)} {unit}")
    if st.last_bar is not None:
        intraday = getattr(st, "interval", "1d") != "1d"
        state.append(f"último {(fmt_datetime if intraday else fmt_date)(st.last_bar)}")
    window = (
        f"{fmt_date(st.start) if st.start is not None else 'início'} a "
        f"{fmt_date(st.end) if st.end is not None else 'fim'}"
    )
    busy = st.status in RUNNER_BUSY
    color = _RUNNER_COLORS.get(st.status, "secondary")
    return html.Div(
        [
            dbc.Progress(
                id="trading-run-progress",
                value=pct,
                label=f"{fmt_int(done)} / {fmt_int(total)}" if total else "",
                color=color,
                striped=busy,
                animated=busy,
                style={"height": "1.2rem"},
            ),
            html.Div(
                " · ".join(state),
                id="trading-run-progress-label",
                className="small mt-1",
                **{"aria-live": "polite"},
            ),
            html.Div(
                [
                    html.Strong(f"Robô: {st.strategy}"),
                    f" em {', '.join(st.tickers)} · {st.feed} de {window}",
                ],
                className="small text-muted",
            ),
            html.Div(st.message, className="small text-muted") if st.message else None,
        ],
        id="trading-runner",
    )


# --------------------------------------------------------------------------- monitor
def trading_equity_figure(
    equity: pd.Series | None,
    benchmarks: pd.DataFrame | None = None,
    theme: str | None = None,
) -> go.Figure:
    """The account's equity (R$) against buy-and-hold and ^BVSP from the same cash, when
    the monitor provides them (columns ``buy_hold``, ``bvsp``)."""
    from components.charts import empty_figure

    if equity is None or len(equity) == 0:
        return empty_figure("Sem patrimônio registrado ainda: envie uma ordem ou inicie um replay.")
    fig = equity_figure(equity, benchmarks, "Patrimônio da conta (R$)", theme)
    fig.data[0].name = "Conta simulada"
    return fig


def monitor_card(card) -> html.Div:
    """Seed 002's status card: trades against the 25 / 50 milestones, win rate with its
    Wilson 95 % CI, average return per trade, Sharpe, max drawdown, capital, last update.

    Parameters
    ----------
    card : core.trading.monitor.StatusCard or None
        ``win_rate`` and ``win_rate_ci`` fractions; ``avg_return_pct``,
        ``max_drawdown_pct`` (≤ 0) and ``return_pct`` in percent; ``equity`` and
        ``initial_cash`` in R$.
    """
    if card is None:
        return html.Div("Sem dados do monitor.", className="text-muted small")
    n = int(card.n_trades or 0)
    goal = max(50, int(card.next_milestone or 50))
    wr, ci = card.win_rate, card.win_rate_ci
    has_wr = n > 0 and wr == wr
    win = (
        f"{fmt_pct(wr, 1)} ({fmt_int(card.wins)} G / {fmt_int(card.losses)} P)"
        if has_wr
        else MISSING
    )
    ci_txt = (
        f"{fmt_int(n)} operações, IC 95% (Wilson) {fmt_pct(ci[0], 0)}–{fmt_pct(ci[1], 0)}"
        if has_wr and ci and ci[0] == ci[0]
        else f"{fmt_int(n)} operações"
    )
    avg = card.avg_return_pct
    dd = card.max_drawdown_pct
    milestone = f"Próximo marco: {card.next_milestone} operações (faltam {card.to_milestone})"
    cards = [
        kpi_card(
            "Operações", f"{fmt_int(n)} / {goal}", milestone, card_id="trading-monitor-trades"
        ),
        kpi_card("Taxa de acerto", win, ci_txt),
        kpi_card(
            "Retorno médio por operação",
            fmt_pct_value(avg, 2, sign=True) if avg == avg else MISSING,
            value_class=sign_class(avg),
        ),
        kpi_card("Sharpe (vs CDI)", fmt_num(card.sharpe, 2)),
        kpi_card(
            "Drawdown máximo",
            _drawdown_text(abs(dd) / 100.0 if dd == dd else None),
            "desde o pico do patrimônio",
        ),
        kpi_card(
            "Capital",
            fmt_brl(card.equity),
            f"{fmt_pct_value(card.return_pct, 1, sign=True)} sobre {fmt_brl(card.initial_cash, 0)}",
            value_class=sign_class(card.return_pct),
        ),
    ]
    first = min(n, 25) / goal * 100
    progress = html.Div(
        dbc.Progress(
            [
                dbc.Progress(value=first, color="info", bar=True),
                dbc.Progress(
                    value=max(0, min(n, goal) - 25) / goal * 100, color="success", bar=True
                ),
            ],
            style={"height": "0.6rem"},
            className="mb-1",
        ),
        title=f"{n} de {goal} operações (marcos de 25 e 50)",
    )
    last = card.last_update
    return html.Div(
        [
            dbc.Row(
                [dbc.Col(c, xs=6, md=4, xl=2, className="mb-2") for c in cards], className="g-2"
            ),
            progress,
            html.Div(
                f"Última atualização: {fmt_date(last) if last is not None else MISSING} "
                "(fechamento do último pregão processado)",
                className="small text-muted",
            ),
        ],
        id="trading-monitor-card",
    )


#: Red-flag thresholds in the form: ``(key, pt-BR label, kind)``; kind ``frac`` holds a
#: fraction typed as a percent (0.6 -> 60), ``pct`` a percent as is, ``num`` a number,
#: ``int`` a count.
FLAG_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("min_win_rate", "Taxa de acerto mínima no mês (%)", "frac"),
    ("win_rate_months", "Meses seguidos abaixo dela", "int"),
    ("max_drawdown_pct", "Drawdown máximo (%)", "pct"),
    ("min_sharpe", "Sharpe mínimo", "num"),
    ("min_sessions", "Pregões antes de julgar o Sharpe", "int"),
    ("min_trades_month", "Mín. operações por mês", "int"),
    ("max_trades_month", "Máx. operações por mês", "int"),
    ("max_slippage_pct", "Slippage máximo vs backtest (%)", "pct"),
)


def red_flag_form(defaults: dict) -> html.Div:
    """The red-flag thresholds (seed 002's defaults filled in), ids
    ``{"type": "trading-flag", "name": KEY}`` and the button ``trading-flags-apply``.

    Parameters
    ----------
    defaults : dict
        ``RedFlagRules()`` as a dict (``min_win_rate`` a fraction, ``*_pct`` in percent).
    """
    cols = []
    for key, label, kind in FLAG_FIELDS:
        v = defaults.get(key)
        if kind == "frac" and v is not None:
            v = round(float(v) * 100.0, 6)
        cols.append(
            dbc.Col(
                _field(
                    label,
                    dbc.Input(
                        id={"type": "trading-flag", "name": key},
                        type="number",
                        value=v,
                        step=1 if kind == "int" else "any",
                        size="sm",
                        persistence=True,
                        persistence_type="local",
                    ),
                ),
                xs=6,
                md=3,
            )
        )
    return html.Div(
        [
            dbc.Row(cols, className="g-2"),
            dbc.Button(
                "Aplicar limites",
                id="trading-flags-apply",
                size="sm",
                color="secondary",
                outline=True,
            ),
            html.Span(" Padrões do seed 002.", className="small text-muted"),
        ],
        className="mb-2",
    )


def red_flags_view(flags: Iterable) -> html.Div:
    """Seed 002's red flags: each one active with its value and threshold, or a green
    "nenhum sinal de alerta".

    Parameters
    ----------
    flags : iterable of objects or dicts
        Fields ``code`` / ``key``, ``message`` (pt-BR, with the numbers), optionally
        ``active`` (default True), ``severity``.
    """
    flags = [f for f in (flags or []) if _get(f, "active", True)]
    if not flags:
        return dbc.Alert(
            [html.I(className="bi bi-check-circle me-1"), "Nenhum sinal de alerta (red flag)."],
            color="success",
            className="py-1 small mb-2",
            id="trading-flags-none",
        )
    items = [
        html.Li(
            [
                html.Strong(_flag_title(f) + ": ", className="me-1"),
                str(_get(f, "message", "") or ""),
            ],
            className="red-flag",
        )
        for f in flags
    ]
    return dbc.Alert(
        [
            html.Div(
                [
                    html.I(className="bi bi-flag-fill me-1"),
                    f"{len(flags)} sinal(is) de alerta — o seed 002 manda parar e analisar:",
                ],
                className="fw-semibold mb-1",
            ),
            html.Ul(items, className="mb-0"),
        ],
        color="danger",
        className="py-2 small mb-2",
        id="trading-flags",
    )


_FLAG_TITLES = {
    "win_rate": "Taxa de acerto abaixo do mínimo",
    "low_win_rate": "Taxa de acerto baixa",
    "drawdown": "Drawdown",
    "max_drawdown": "Drawdown",
    "sharpe": "Sharpe baixo",
    "low_sharpe": "Sharpe baixo",
    "too_many_trades": "Operações demais",
    "too_few_trades": "Operações de menos",
    "trades_per_month": "Operações por mês fora da faixa",
    "slippage": "Slippage acima do backtest",
}


def _flag_title(f) -> str:
    code = str(_get(f, "code", None) or _get(f, "key", None) or _get(f, "kind", "") or "")
    return (
        _get(f, "title", None) or _get(f, "label", None) or _FLAG_TITLES.get(code, code or "Alerta")
    )


def ticker_heatmap(monthly: pd.DataFrame | None, theme: str | None = None) -> go.Figure:
    """Monthly return (%) per ticker: tickers × months, red to green around zero; a month
    without a closed trade shows "?" as in seed 002's dashboard.

    Parameters
    ----------
    monthly : pandas.DataFrame or None
        Index: tickers; columns: months (``"AAAA-MM"`` or timestamps); values: the month's
        return in percent (3.0 = 3 %), NaN without trades
        (:func:`core.trading.monitor.monthly_heatmap`).
    """
    from components.charts import empty_figure

    if (
        monthly is None
        or monthly.size == 0
        or not np.isfinite(monthly.to_numpy(dtype="float64")).any()
    ):
        return empty_figure("Sem operações fechadas ainda: o mapa mensal por ativo aparece aqui.")
    z = monthly.to_numpy(dtype="float64")
    months = []
    for c in monthly.columns:
        try:
            ts = pd.Timestamp(c)
            months.append(f"{MONTHS[ts.month - 1]}/{ts.year}")
        except (ValueError, TypeError):
            months.append(str(c))
    text = [["?" if np.isnan(v) else fmt_num(v, 1, sign=True) for v in row] for row in z]
    lim = float(np.nanmax(np.abs(z))) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=months,
            y=[str(t) for t in monthly.index],
            text=text,
            texttemplate="%{text}",
            colorscale="RdYlGn",
            zmid=0,
            zmin=-lim,
            zmax=lim,
            colorbar=dict(title="%"),
            hovertemplate="%{y} %{x}: %{text}%<extra></extra>",
        )
    )
    fig.update_layout(
        title="Retorno mensal por ativo (% somado das operações fechadas no mês)",
        height=max(220, 30 * len(monthly) + 110),
        margin=dict(l=60, r=20, t=45, b=40),
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(autorange="reversed", type="category")
    return apply_theme(fig, theme)


#: pt-BR headers of the signal log export (:func:`core.trading.runner.signal_log`).
SIGNAL_HEADERS = {
    "time": "Data/hora",
    "strategy": "Estratégia",
    "ticker": "Ativo",
    "kind": "Sinal",
    "side": "Lado",
    "entry": "Entrada (R$)",
    "stop": "Stop (R$)",
    "target": "Alvo (R$)",
    "score": "Nota",
    "reasoning": "Justificativa (JSON)",
}


# --------------------------------------------------------------------------- exports
def exports_bar() -> html.Div:
    """Export buttons (fills, ledger, ML training data, signal log) and the machine switch.

    Ids: ``trading-export-{fills,ledger,ml,signals}`` with downloads
    ``trading-download-{...}`` and ``trading-export-machine``.
    """
    from components.export import machine_switch

    buttons, downloads = [], []
    for key, label in (
        ("fills", "Execuções"),
        ("ledger", "Extrato de caixa"),
        ("ml", "Dados de treino de ML"),
        ("signals", "Log de sinais"),
    ):
        buttons.append(
            dbc.Button(
                [html.I(className="bi bi-filetype-csv me-1"), label],
                id=f"trading-export-{key}",
                size="sm",
                outline=True,
                color="secondary",
                className="me-2 mb-1",
            )
        )
        downloads.append(dcc.Download(id=f"trading-download-{key}"))
    return html.Div(
        [html.Div(buttons + downloads), machine_switch("trading-export-machine")],
        className="mb-2",
    )


# --------------------------------------------------------------------------- book tabs
#: The book's tabs, in order: tab id -> (label, grid id). The grid ids are the page's
#: contract (tests, exports); the tab body that holds each grid is ``f"{tab_id}-body"``.
BOOK_TABS = {
    "trading-tab-orders": ("Ordens", "trading-orders"),
    "trading-tab-positions": ("Posições", "trading-positions"),
    "trading-tab-fills": ("Execuções", "trading-fills"),
    "trading-tab-ledger": ("Extrato de caixa", "trading-ledger"),
    "trading-tab-taxes": ("IR / DARF", "trading-taxes"),
}
#: Tabs whose content is built the first time they are opened, not with the page: the
#: browser mounting five AG Grids at once cost the page its 1 s load goal (issue 12).
LAZY_TABS = tuple(list(BOOK_TABS)[1:])


def book_tab_body(tab_id: str, rows: list[dict] | None = None) -> list:
    """The content of one book tab: its grid (holding ``rows``) and the tab's notes.

    Parameters
    ----------
    tab_id : str
        A key of :data:`BOOK_TABS`.
    rows : list of dict, optional
        Row dicts of that grid (:func:`order_rows`, :func:`position_rows`, :func:`fill_rows`,
        :func:`ledger_rows`, :func:`components.backtest.tax_rows`).

    Returns
    -------
    list
        Dash components.

    Raises
    ------
    ValueError
        Unknown ``tab_id``.
    """
    if tab_id not in BOOK_TABS:
        raise ValueError(f"unknown book tab: {tab_id!r}")
    grid_id = BOOK_TABS[tab_id][1]
    if tab_id == "trading-tab-orders":
        return [orders_grid(grid_id, rows), modify_form()]
    if tab_id == "trading-tab-positions":
        return [positions_grid(grid_id, rows)]
    if tab_id == "trading-tab-fills":
        return [fills_grid(grid_id, rows)]
    if tab_id == "trading-tab-ledger":
        return [
            html.Div(
                "Cada débito e crédito é uma linha: compras e vendas liquidam em D+2 "
                "(o caixa disponível só as conta na liquidação; o projetado, já).",
                className="small text-muted my-1",
            ),
            ledger_grid(grid_id, rows),
        ]
    return [
        html.Div(
            "15% sobre o lucro líquido mensal de swing trade (isento se as vendas do "
            "mês somam até R$ 20.000), 20% sobre day trade, IRRF de 0,005% / 1%, "
            "prejuízos compensados por tipo; DARF abaixo de R$ 10 fica para o mês "
            "seguinte.",
            className="small text-muted my-1",
        ),
        tax_grid(grid_id, rows),
    ]


def book_tabs(tabs_id: str = "trading-tabs") -> dbc.Tabs:
    """The book (orders, positions, fills, cash ledger, IR/DARF) as tabs, "Ordens" open.

    Only the open tab's content is built here; each of :data:`LAZY_TABS` is an empty
    ``f"{tab_id}-body"`` that the page fills with :func:`book_tab_body` when it is first
    opened.
    """
    items = []
    for tab_id, (label, _grid) in BOOK_TABS.items():
        body = [] if tab_id in LAZY_TABS else book_tab_body(tab_id)
        items.append(dbc.Tab(html.Div(body, id=f"{tab_id}-body"), label=label, tab_id=tab_id))
    return dbc.Tabs(items, id=tabs_id, active_tab="trading-tab-orders")
