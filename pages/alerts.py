"""Alertas (``/alerts``): rules (condition builder), history with filters, channels.

Thin: parses the inputs, calls ``core.alerts`` (rules, builder, engine, dispatch, history)
and hands the results to :mod:`components.alerts`. The bell in the top bar lives in
:mod:`dashboard.notifications`; "Avaliar agora" and "Marcar como lidos" kick it.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, html, no_update

from components.alerts import (
    channel_cards,
    history_filters,
    history_table,
    rule_form,
    rules_table,
)
from components.cards import error_alert
from components.inputs import date_range
from components.jobs import job_progress
from core.alerts.builder import COMPARISONS, OPERANDS, condition_text, join, operand_text
from core.alerts.rules import CHANNELS
from core.errors import PregaoError
from dashboard.background import job_callback
from dashboard.notifications import current_owner
from dashboard.runtime import get_settings, get_store

dash.register_page(__name__, path="/alerts", name="Alertas", title="Pregão · Alertas", order=8)

_TABS = {
    "regras": "alerts-tab-rules",
    "historico": "alerts-tab-history",
    "canais": "alerts-tab-channels",
}


def _rules():
    from core.alerts.rules import list_rules

    return list_rules(get_store(), current_owner())


def _history_view(rule=None, ticker=None, start=None, end=None, status=None):
    from core.alerts.history import history

    entries = history(
        get_store(), current_owner(), rule=rule, ticker=ticker, start=start, end=end, status=status
    )
    return history_table(
        [e.firing for e in entries],
        {e.firing.id: e.deliveries for e in entries},
        {e.firing.id for e in entries if e.unread},
    )


def _channels_view():
    from core.alerts.dispatch import channel_statuses

    return channel_cards(channel_statuses(get_store(), get_settings().channel_config()))


def _clicked() -> bool:
    """True when a real click triggered the callback (not the page's layout arriving: Dash
    fires button callbacks whose inputs appear with ``n_clicks`` None)."""
    return any(t.get("value") for t in ctx.triggered or [])


def _replay_default(store) -> tuple[str | None, str | None]:
    """The 30 calendar days up to the date most instruments have data to (the index may run
    ahead of the stocks in the bundled data)."""
    inst = store.instruments()
    last = inst["last_date"].dropna() if len(inst) else None
    if last is None or last.empty:
        return None, None
    end = last.mode().max()
    return (end - pd.Timedelta(days=30)).date().isoformat(), end.date().isoformat()


def layout(aba: str = "regras", **_query):
    """Rules, history and channels in three tabs (``?aba=historico`` opens the history)."""
    store = get_store()
    try:
        rules = _rules()
        tickers = store.tickers()
        history = _history_view()
        channels = _channels_view()
    except PregaoError as exc:
        return error_alert(str(exc), element_id="alerts-error")
    return html.Div(
        [
            html.Div(
                [
                    html.H4("Alertas", className="mb-0 me-3"),
                    dbc.Button(
                        "Avaliar agora",
                        id="alerts-eval",
                        color="primary",
                        size="sm",
                        className="me-2",
                        title="Avalia os alertas ativos nas barras mais recentes e envia os disparos",
                    ),
                    dbc.Button(
                        "Marcar todos como lidos",
                        id="alerts-mark-read",
                        color="secondary",
                        outline=True,
                        size="sm",
                    ),
                    dbc.Button(
                        "Cancelar",
                        id="alerts-eval-cancel",
                        color="link",
                        size="sm",
                        disabled=True,
                    ),
                    html.Span(id="alerts-eval-msg", className="small ms-3"),
                    html.Span(id="alerts-read-msg", className="small ms-3 text-muted"),
                ],
                className="d-flex align-items-center flex-wrap mb-2",
            ),
            html.Div(
                [
                    html.Span("Reprocessar período:", className="small me-2"),
                    date_range(
                        "alerts-replay-dates",
                        *_replay_default(store),
                        className="me-2",
                    ),
                    dbc.Checkbox(
                        id="alerts-replay-send",
                        label="enviar aos canais (sino, Telegram ...)",
                        value=False,
                        className="small me-2",
                    ),
                    dbc.Button(
                        "Reprocessar",
                        id="alerts-replay",
                        color="secondary",
                        size="sm",
                        title="Avalia os alertas ativos nas barras guardadas do período",
                    ),
                ],
                className="d-flex align-items-center flex-wrap mb-2",
            ),
            job_progress("alerts-eval", className="mb-3"),
            dbc.Tabs(
                [
                    dbc.Tab(
                        [
                            rule_form(tickers, OPERANDS, COMPARISONS, list(CHANNELS)),
                            html.Div(rules_table(rules), id="alerts-rules-table"),
                        ],
                        label="Regras",
                        tab_id="alerts-tab-rules",
                    ),
                    dbc.Tab(
                        [
                            history_filters(sorted({r.name for r in rules}), tickers),
                            html.Div(history, id="alerts-history"),
                        ],
                        label="Histórico",
                        tab_id="alerts-tab-history",
                    ),
                    dbc.Tab(
                        [
                            html.Div(
                                "Tokens e endereços vêm das variáveis PREGAO_TELEGRAM_*, "
                                "PREGAO_DISCORD_WEBHOOK_URL, PREGAO_SMTP_* e PREGAO_WEBHOOK_URL "
                                "(veja docs/ALERTS.md); aparecem aqui mascarados.",
                                className="small text-muted mb-2",
                            ),
                            html.Div(channels, id="alerts-channels-cards"),
                            html.Div(id="alerts-test-msg", className="mt-2"),
                        ],
                        label="Canais",
                        tab_id="alerts-tab-channels",
                    ),
                ],
                id="alerts-tabs",
                active_tab=_TABS.get(aba, "alerts-tab-rules"),
            ),
        ]
    )


@callback(
    Output("alerts-condition", "value"),
    Input("alerts-b-insert", "n_clicks"),
    State("alerts-b-left", "value"),
    State("alerts-b-left-params", "value"),
    State("alerts-b-cmp", "value"),
    State("alerts-b-right", "value"),
    State("alerts-b-right-params", "value"),
    State("alerts-b-join", "value"),
    State("alerts-condition", "value"),
    prevent_initial_call=True,
)
def insert_condition(_n, left, lp, cmp, right, rp, connector, current):
    """The builder writes expression-language text into the condition field."""
    if not _clicked():
        return no_update
    try:
        text = condition_text(operand_text(left, lp), cmp, operand_text(right, rp))
    except PregaoError as exc:
        dash.set_props(
            "alerts-condition-msg", {"children": str(exc), "className": "small mb-2 text-danger"}
        )
        return no_update
    return join(current or "", text, connector or "and")


@callback(
    Output("alerts-condition-msg", "children"),
    Output("alerts-condition-msg", "className"),
    Input("alerts-condition", "value"),
    prevent_initial_call=True,
)
def validate_condition(text):
    """Server-side validation by the one parser (:func:`core.alerts.expr.parse`)."""
    from core.alerts.expr import parse

    if not (text or "").strip():
        return "", "small mb-2"
    try:
        expr = parse(text)
    except PregaoError as exc:
        return str(exc), "small mb-2 text-danger"
    return f"Condição válida: {expr.canonical}", "small mb-2 text-success"


@callback(
    Output("alerts-rules-table", "children"),
    Output("alerts-save-msg", "children"),
    Output("alerts-name", "value"),
    Output("alerts-tickers", "value"),
    Output("alerts-condition", "value", allow_duplicate=True),
    Output("alerts-channels", "value"),
    Output("alerts-cooldown", "value"),
    Output("alerts-severity", "value"),
    Output("alerts-edit-id", "data"),
    Input("alerts-save", "n_clicks"),
    Input("alerts-new", "n_clicks"),
    Input({"type": "alerts-rule-action", "action": ALL, "id": ALL}, "n_clicks"),
    State("alerts-edit-id", "data"),
    State("alerts-name", "value"),
    State("alerts-tickers", "value"),
    State("alerts-condition", "value"),
    State("alerts-channels", "value"),
    State("alerts-cooldown", "value"),
    State("alerts-severity", "value"),
    prevent_initial_call=True,
)
def rules(_save, _new, _actions, edit_id, name, tickers, condition, channels, cooldown, severity):
    """Save (create / update), load into the form (Editar), pause/resume, delete."""
    from core.alerts.rules import Rule, add_rule, get_rule, remove_rule, set_enabled, update_rule

    store, owner = get_store(), current_owner()
    keep = (no_update,) * 7
    trig = ctx.triggered_id
    if trig == "alerts-new":
        return no_update, "", "", [], "", ["inapp"], 0, "warning", None
    try:
        if isinstance(trig, dict):
            if not any(t.get("value") for t in ctx.triggered):
                return (no_update,) * 9  # the table was redrawn, no click
            rid, action = int(trig["id"]), trig["action"]
            if action == "edit":
                r = get_rule(store, rid, owner)
                return (no_update, f"Editando “{r.name}”.", r.name, r.tickers, r.condition,
                        r.channels, r.cooldown, r.severity, r.id)  # fmt: skip
            if action == "toggle":
                r = get_rule(store, rid, owner)
                set_enabled(store, rid, not r.enabled, owner)
                msg = f"“{r.name}” {'pausado' if r.enabled else 'retomado'}."
            else:
                r = remove_rule(store, rid, owner)
                msg = f"“{r.name}” excluído."
            return (rules_table(_rules()), msg, *keep)
        try:
            cd = int(cooldown or 0)
        except (TypeError, ValueError):
            cd = -1
        rule = Rule(
            name=(name or "").strip(),
            kind="expr",
            tickers=list(tickers or []),
            condition=(condition or "").strip(),
            channels=list(channels or ["inapp"]),
            cooldown=cd,
            severity=severity or "",
            owner=owner,
        )
        if edit_id:
            old = get_rule(store, int(edit_id), owner)
            rule.id, rule.enabled, rule.owner = old.id, old.enabled, old.owner
            if old.kind != "expr":  # the form edits name, tickers, channels, cooldown only
                rule.kind, rule.params, rule.condition = old.kind, old.params, old.condition
            saved = update_rule(store, rule)
            msg = f"“{saved.name}” atualizado."
        else:
            saved = add_rule(store, rule)
            msg = f"“{saved.name}” criado."
    except PregaoError as exc:
        return no_update, html.Span(str(exc), className="text-danger"), *keep
    return (rules_table(_rules()), html.Span(msg, className="text-success"), "", [], "",
            ["inapp"], 0, "warning", None)  # fmt: skip


@job_callback(
    "alerts-eval",
    Output("alerts-eval-msg", "children"),
    Output("alerts-bell-kick", "data"),
    State("alerts-replay-dates", "start_date"),
    State("alerts-replay-dates", "end_date"),
    State("alerts-replay-send", "value"),
    State("alerts-bell-kick", "data"),
    run=["alerts-eval", "alerts-replay"],
    cancel="alerts-eval-cancel",
    clear=[("alerts-eval-msg", "children", "")],
    writes=True,
)
def evaluate(job, start, end, send, kick):
    """Background job: Avaliar agora (the active rules on the newest bars, firings sent) or
    Reprocessar (the stored bars of a period; sent to the channels only when asked); the
    bell is refreshed at the end."""
    from core.alerts.engine import evaluate_latest, evaluate_range
    from core.textfmt import integer

    store = get_store()
    try:
        if job.trigger == "alerts-replay":
            firings = evaluate_range(
                store, start, end, owner=current_owner(), send=bool(send), progress=job.progress
            )
        else:
            job.progress(0.0, "Avaliando as barras mais recentes")
            firings = evaluate_latest(store, send=True)
    except PregaoError as exc:
        job.fail(str(exc))
        return html.Span(str(exc), className="text-danger"), no_update
    new = [f for f in firings if f.new]
    msg = f"Avaliação concluída: {integer(len(new))} disparo(s) novo(s)."
    if len(firings) > len(new):
        msg += f" {integer(len(firings) - len(new))} já registrado(s) antes."
    job.done(msg)
    return msg, (kick or 0) + 1


@callback(
    Output("alerts-bell-kick", "data", allow_duplicate=True),
    Output("alerts-read-msg", "children"),
    Input("alerts-mark-read", "n_clicks"),
    State("alerts-bell-kick", "data"),
    prevent_initial_call=True,
)
def mark_all_read(_n, kick):
    """Mark every visible in-app notification read; the bell drops to zero at once."""
    from core.alerts.channels.inapp import mark_read
    from core.textfmt import integer

    if not _clicked():
        return no_update, no_update
    n = mark_read(get_store(), owner=current_owner())
    return (kick or 0) + 1, f"{integer(n)} alerta(s) marcado(s) como lido(s)."


@callback(
    Output("alerts-history", "children"),
    Input("alerts-h-rule", "value"),
    Input("alerts-h-ticker", "value"),
    Input("alerts-h-dates", "start_date"),
    Input("alerts-h-dates", "end_date"),
    Input("alerts-h-status", "value"),
    Input("alerts-bell-kick", "data"),
    prevent_initial_call=True,
)
def filter_history(rule, ticker, start, end, status, _kick):
    """The history with the filters applied (redrawn after an evaluation or mark-read)."""
    try:
        return _history_view(rule, ticker, start, end, status)
    except PregaoError as exc:
        return error_alert(str(exc))


@callback(
    Output("alerts-test-msg", "children"),
    Output("alerts-channels-cards", "children"),
    Input({"type": "alerts-test", "channel": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def test_channel(clicks):
    """ "Enviar teste": a sample message through one channel now (bounded by its timeout)."""
    from core.alerts.dispatch import send_test

    if not ctx.triggered_id or not any(c for c in clicks or []):
        return no_update, no_update
    channel = ctx.triggered_id["channel"]
    res = send_test(get_store(), get_settings().channel_config(), channel)
    if res.ok:
        msg = dbc.Alert(f"Teste enviado por {channel}.", color="success", className="py-2")
    else:
        msg = dbc.Alert(
            f"O teste por {channel} falhou: {res.error}", color="danger", className="py-2"
        )
    return msg, _channels_view()


@callback(
    Output("alerts-h-rule", "options"),
    Input("alerts-rules-table", "children"),
    prevent_initial_call=True,
)
def rule_options(_table):
    """The history's rule filter follows the rules created, renamed or deleted above."""
    return sorted({r.name for r in _rules()})
