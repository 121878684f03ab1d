"""Layout pieces of the "Alertas" page and of the bell in the top bar (pure builders).

They take plain data (rules, firings, delivery records, channel statuses) and return Dash
components; no I/O, no callbacks. Ids are prefixed ``alerts-``.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.format import MISSING, fmt_date, fmt_datetime, fmt_num
from components.inputs import date_range, dropdown

__all__ = [
    "bell",
    "bell_badge_style",
    "toast_children",
    "rule_form",
    "rules_table",
    "history_filters",
    "history_table",
    "channel_cards",
    "SEVERITY_LABELS",
    "STATUS_LABELS",
]

SEVERITY_LABELS = {"info": "Informação", "warning": "Atenção", "critical": "Crítico"}
_SEVERITY_COLOR = {"info": "info", "warning": "warning", "critical": "danger"}
STATUS_LABELS = {
    "pending": "na fila",
    "sending": "enviando",
    "retrying": "nova tentativa",
    "sent": "enviado",
    "failed": "falhou",
    "skipped": "não enviado",
}
_STATUS_COLOR = {
    "pending": "secondary",
    "sending": "secondary",
    "retrying": "warning",
    "sent": "success",
    "failed": "danger",
    "skipped": "light",
}
_CHANNEL_LABELS = {
    "inapp": "No app",
    "telegram": "Telegram",
    "discord": "Discord",
    "email": "E-mail",
    "webhook": "Webhook",
}
KIND_LABELS = {
    "expr": "Condição",
    "strategy": "Estratégia",
    "model": "Modelo",
    "anomaly": "Anomalia",
    "account": "Conta simulada",
    "daily_summary": "Resumo diário",
    "data_health": "Saúde dos dados",
}


# -- the bell (top bar, every page) -----------------------------------------------------------
def bell(interval_ms: int = 10_000) -> html.Div:
    """The bell with the unread count, its poll and the toast area (in the app's top bar)."""
    return html.Div(
        [
            html.A(
                [
                    html.I(className="bi bi-bell-fill"),
                    dbc.Badge(
                        "",
                        id="alerts-bell-count",
                        color="danger",
                        pill=True,
                        className="ms-1",
                        style={"display": "none"},
                    ),
                ],
                href="/alerts?aba=historico",
                id="alerts-bell",
                className="text-light me-3 text-decoration-none",
                title="Alertas não lidos",
            ),
            dcc.Interval(id="alerts-bell-interval", interval=interval_ms),
            dcc.Store(id="alerts-bell-seen", data=None),
            dcc.Store(id="alerts-bell-kick", data=0),
            html.Div(
                dbc.Toast(
                    "",
                    id="alerts-toast",
                    header="Alerta",
                    icon="warning",
                    is_open=False,
                    dismissable=True,
                    duration=10_000,
                ),
                style={"position": "fixed", "top": 70, "right": 16, "zIndex": 2000},
            ),
        ],
        className="d-flex align-items-center",
    )


def bell_badge_style(unread: int) -> dict:
    """Hidden at zero."""
    return {"display": "inline-block"} if unread > 0 else {"display": "none"}


def toast_children(item, more: int = 0) -> tuple[str, list, str]:
    """``(header, body, icon)`` of the toast for the newest unread in-app item."""
    header = f"{item.rule_name}" + (f" · {item.ticker}" if item.ticker else "")
    body: list = [html.Div(item.message, id="alerts-toast-message")]
    if item.bar_time is not None:
        body.append(html.Small(_when(item.bar_time), className="text-muted"))
    if more > 0:
        body.append(html.Div(f"e mais {more} não lido(s)", className="small text-muted"))
    body.append(html.Div(html.A("Ver alertas", href="/alerts?aba=historico"), className="small"))
    return header, body, _SEVERITY_COLOR.get(item.severity, "info")


def _local(ts_utc) -> str:
    """A naive UTC time of the delivery log in São Paulo time, pt-BR."""
    import pandas as pd

    ts = pd.Timestamp(ts_utc).tz_localize("UTC").tz_convert("America/Sao_Paulo")
    return fmt_datetime(ts.tz_localize(None))


def _when(ts) -> str:
    if ts is None:
        return MISSING
    return fmt_date(ts) if ts == ts.normalize() else fmt_datetime(ts)


# -- rules --------------------------------------------------------------------------------------
def _operand_picker(prefix: str, operands: dict, default: str, params: str) -> dbc.Row:
    return dbc.Row(
        [
            dbc.Col(
                dropdown(
                    id=f"alerts-b-{prefix}",
                    options=[{"label": o.label, "value": k} for k, o in operands.items()],
                    value=default,
                    clearable=False,
                ),
                md=8,
            ),
            dbc.Col(
                dbc.Input(
                    id=f"alerts-b-{prefix}-params",
                    value=params,
                    placeholder="parâmetros (ex.: 12, 26, 9)",
                ),
                md=4,
            ),
        ],
        className="g-1",
    )


def rule_form(tickers: list[str], operands: dict, comparisons: dict, channels: list[str]):
    """The rule form: name, tickers, condition builder, free-text condition, channels."""
    builder = dbc.Card(
        dbc.CardBody(
            [
                html.Div("Montar condição", className="fw-semibold small mb-1"),
                _operand_picker("left", operands, "close", ""),
                dropdown(
                    id="alerts-b-cmp",
                    options=[{"label": v, "value": k} for k, v in comparisons.items()],
                    value="crosses_above",
                    clearable=False,
                    className="my-1",
                ),
                _operand_picker("right", operands, "sma", "50"),
                html.Div(
                    [
                        dbc.RadioItems(
                            id="alerts-b-join",
                            options=[
                                {"label": "e (and)", "value": "and"},
                                {"label": "ou (or)", "value": "or"},
                            ],
                            value="and",
                            inline=True,
                            className="small me-2",
                        ),
                        dbc.Button(
                            "Inserir na condição",
                            id="alerts-b-insert",
                            size="sm",
                            color="secondary",
                            outline=True,
                        ),
                    ],
                    className="d-flex align-items-center mt-2",
                ),
            ]
        ),
        className="mb-2",
    )
    return dbc.Card(
        dbc.CardBody(
            [
                dcc.Store(id="alerts-edit-id", data=None),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label("Nome", html_for="alerts-name"),
                                dbc.Input(
                                    id="alerts-name",
                                    placeholder="PETR4 cruza acima da MMS 50",
                                    maxLength=120,
                                ),
                            ],
                            md=6,
                        ),
                        dbc.Col(
                            [
                                dbc.Label("Ativos", html_for="alerts-tickers"),
                                dropdown(
                                    id="alerts-tickers",
                                    options=tickers,
                                    multi=True,
                                    placeholder="PETR4, VALE3 ...",
                                ),
                            ],
                            md=6,
                        ),
                    ],
                    className="g-2 mb-2",
                ),
                builder,
                dbc.Label("Condição (linguagem de alertas)", html_for="alerts-condition"),
                dbc.Textarea(
                    id="alerts-condition",
                    placeholder="crosses_above(close, sma(50))",
                    rows=2,
                    className="font-monospace",
                ),
                html.Div(id="alerts-condition-msg", className="small mb-2"),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label("Canais"),
                                dbc.Checklist(
                                    id="alerts-channels",
                                    options=[
                                        {"label": _CHANNEL_LABELS[c], "value": c} for c in channels
                                    ],
                                    value=["inapp"],
                                    inline=True,
                                ),
                            ],
                            md=6,
                        ),
                        dbc.Col(
                            [
                                dbc.Label("Intervalo mínimo (barras)", html_for="alerts-cooldown"),
                                dbc.Input(
                                    id="alerts-cooldown", type="number", min=0, step=1, value=0
                                ),
                            ],
                            md=3,
                        ),
                        dbc.Col(
                            [
                                dbc.Label("Gravidade", html_for="alerts-severity"),
                                dropdown(
                                    id="alerts-severity",
                                    options=[
                                        {"label": v, "value": k} for k, v in SEVERITY_LABELS.items()
                                    ],
                                    value="warning",
                                    clearable=False,
                                ),
                            ],
                            md=3,
                        ),
                    ],
                    className="g-2 mb-2",
                ),
                html.Div(
                    [
                        dbc.Button(
                            "Salvar alerta", id="alerts-save", color="primary", className="me-2"
                        ),
                        dbc.Button("Novo", id="alerts-new", color="secondary", outline=True),
                    ]
                ),
                html.Div(id="alerts-save-msg", className="small mt-2"),
            ]
        ),
        className="mb-3",
    )


def _btn(label: str, action: str, rule_id: int, color: str = "secondary"):
    return dbc.Button(
        label,
        id={"type": "alerts-rule-action", "action": action, "id": rule_id},
        size="sm",
        color=color,
        outline=True,
        className="me-1",
    )


def rules_table(rules: list) -> html.Div:
    """Stored rules with Editar / Pausar-Retomar / Excluir buttons."""
    if not rules:
        return html.Div("Nenhum alerta ainda. Crie o primeiro acima.", className="text-muted")
    head = html.Thead(
        html.Tr(
            [html.Th(h) for h in ("Nome", "Tipo", "Ativos", "Condição", "Canais", "Estado", "")]
        )
    )
    body = []
    for r in rules:
        body.append(
            html.Tr(
                [
                    html.Td(r.name),
                    html.Td(KIND_LABELS.get(r.kind, r.kind)),
                    html.Td(", ".join(r.tickers) or MISSING),
                    html.Td(html.Code(r.describe())),
                    html.Td(", ".join(_CHANNEL_LABELS.get(c, c) for c in r.channels)),
                    html.Td(
                        dbc.Badge("ativo", color="success")
                        if r.enabled
                        else dbc.Badge("pausado", color="secondary")
                    ),
                    html.Td(
                        [
                            _btn("Editar", "edit", r.id),
                            _btn("Retomar" if not r.enabled else "Pausar", "toggle", r.id),
                            _btn("Excluir", "delete", r.id, "danger"),
                        ],
                        className="text-nowrap",
                    ),
                ],
                id=f"alerts-rule-row-{r.id}",
            )
        )
    return dbc.Table([head, html.Tbody(body)], size="sm", hover=True, responsive=True)


# -- history ------------------------------------------------------------------------------------
def history_filters(rule_names: list[str], tickers: list[str]) -> dbc.Row:
    """Filters: rule, ticker, date range, delivery status."""
    return dbc.Row(
        [
            dbc.Col(dropdown(id="alerts-h-rule", options=rule_names, placeholder="Regra"), md=3),
            dbc.Col(dropdown(id="alerts-h-ticker", options=tickers, placeholder="Ativo"), md=2),
            dbc.Col(
                date_range(
                    "alerts-h-dates",
                    start_date_placeholder_text="de",
                    end_date_placeholder_text="até",
                    clearable=True,
                ),
                md=4,
            ),
            dbc.Col(
                dropdown(
                    id="alerts-h-status",
                    options=[{"label": v, "value": k} for k, v in STATUS_LABELS.items()],
                    placeholder="Entrega",
                ),
                md=2,
            ),
        ],
        className="g-2 mb-2",
    )


def _fmt_values(values: dict) -> str:
    parts = []
    for k, v in (values or {}).items():
        parts.append(f"{k}: {fmt_num(v) if isinstance(v, int | float) else v}")
    return " · ".join(parts)


def history_table(firings: list, deliveries: dict, unread_firing_ids: set) -> html.Div:
    """Firings newest first, with each channel's delivery status; unread ones in bold."""
    if not firings:
        return html.Div("Nenhum disparo com estes filtros.", className="text-muted")
    head = html.Thead(
        html.Tr(
            [html.Th(h) for h in ("Barra", "Regra", "Ativo", "Mensagem", "Valores", "Entregas")]
        )
    )
    rows = []
    for f in firings:
        badges = [dbc.Badge("no app", color="success", className="me-1")]
        for d in deliveries.get(f.id, []):
            label = _CHANNEL_LABELS.get(d.channel, d.channel) + (f" {d.target}" if d.target else "")
            title = d.last_error or STATUS_LABELS.get(d.status, d.status)
            if d.attempts > 1:
                title += f" ({d.attempts} tentativas)"
            badges.append(
                dbc.Badge(
                    f"{label}: {STATUS_LABELS.get(d.status, d.status)}",
                    color=_STATUS_COLOR.get(d.status, "secondary"),
                    className="me-1",
                    title=title,
                    text_color="dark" if d.status == "skipped" else None,
                )
            )
        rows.append(
            html.Tr(
                [
                    html.Td(_when(f.bar_time)),
                    html.Td(f.rule_name),
                    html.Td(f.ticker or MISSING),
                    html.Td(f.message),
                    html.Td(_fmt_values(f.values), className="small"),
                    html.Td(badges),
                ],
                className="fw-semibold" if f.id in unread_firing_ids else "",
            )
        )
    return dbc.Table(
        [head, html.Tbody(rows)], size="sm", hover=True, responsive=True, id="alerts-history-table"
    )


# -- channels ---------------------------------------------------------------------------------
def channel_cards(statuses: list) -> dbc.Row:
    """One card per channel: configured or not, where (redacted), last delivery, "Enviar teste"."""
    cards = []
    for s in statuses:
        state = (
            dbc.Badge("configurado", color="success")
            if s.configured
            else dbc.Badge("não configurado", color="secondary")
        )
        if s.paused:
            state = dbc.Badge("pausado", color="warning", text_color="dark")
        lines = [html.Div(s.where, className="small text-muted text-break")]
        if s.last_sent_at is not None:
            lines.append(html.Div(f"Último envio: {_local(s.last_sent_at)}", className="small"))
        if s.waiting:
            lines.append(html.Div(f"Na fila: {s.waiting}", className="small"))
        if s.failed:
            lines.append(
                html.Div(
                    f"Falhas: {s.failed}" + (f" — {s.last_error}" if s.last_error else ""),
                    className="small text-danger text-break",
                )
            )
        cards.append(
            dbc.Col(
                dbc.Card(
                    dbc.CardBody(
                        [
                            html.Div(
                                [html.Span(s.label, className="fw-semibold me-2"), state],
                                className="mb-1",
                            ),
                            *lines,
                            dbc.Button(
                                "Enviar teste",
                                id={"type": "alerts-test", "channel": s.channel},
                                size="sm",
                                color="primary",
                                outline=True,
                                className="mt-2",
                                disabled=not s.configured,
                            ),
                        ]
                    ),
                    className="h-100",
                    id=f"alerts-channel-{s.channel}",
                ),
                md=4,
                lg=True,
                className="mb-2",
            )
        )
    return dbc.Row(cards, className="g-2")
