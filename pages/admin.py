"""Administração (``/admin``): users and the audit log, for admins (team mode).

Thin page: reads :mod:`dashboard.users`; the one action (unlock an account or an IP) is
an admin-only callback (:data:`dashboard.authz.POLICY`). Users are created and changed with
``python -m dashboard users ...`` (passwords never travel through the browser).
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html

from core.errors import PregaoError
from dashboard.authz import client_ip, current_role, current_username
from dashboard.runtime import get_settings, get_store
from dashboard.users import audit_entries, list_users, unlock

dash.register_page(__name__, path="/admin", name="Administração", title="Pregão · Administração")

_ROLE = {"admin": "administrador", "trader": "operador", "viewer": "leitor"}
_ACTION = {
    "login": "entrou",
    "logout": "saiu",
    "login_failed": "falha de login",
    "login_refused": "login recusado",
    "action": "ação",
    "user_add": "usuário criado",
    "user_role": "papel alterado",
    "user_passwd": "senha alterada",
    "user_disable": "usuário desativado",
    "user_enable": "usuário reativado",
    "user_unlock": "conta desbloqueada",
    "ip_unlock": "endereço desbloqueado",
}


def _dt(ts) -> str:
    return ts.strftime("%d/%m/%Y %H:%M:%S") if ts else "–"


def _users_table():
    rows = [
        html.Tr(
            [
                html.Td(u.username),
                html.Td(_ROLE.get(u.role, u.role)),
                html.Td("bloqueado" if u.locked else ("ativo" if u.active else "desativado")),
                html.Td(str(u.failed_logins)),
                html.Td(_dt(u.last_login_at)),
            ]
        )
        for u in list_users(get_store())
    ]
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("Usuário", "Papel", "Situação", "Falhas", "Último login")])
    )
    return dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, id="admin-users")


def _audit_table():
    rows = [
        html.Tr(
            [
                html.Td(_dt(e.ts)),
                html.Td(e.username or "–"),
                html.Td(_ACTION.get(e.action, e.action)),
                html.Td(e.detail),
                html.Td(e.ip),
                html.Td("ok" if e.ok else "falhou"),
            ]
        )
        for e in audit_entries(get_store(), 200)
    ]
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("Quando (UTC)", "Quem", "O quê", "Detalhe", "De onde", "")])
    )
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, id="admin-audit")


def layout(**_kwargs):
    """Users and audit log (admins only)."""
    if not get_settings().is_team:
        return dbc.Alert(
            "Modo local: um usuário, sem login. Usuários e auditoria existem no modo equipe "
            "(PREGAO_MODE=team).",
            color="info",
            className="mt-3",
        )
    if current_role() != "admin":
        return dbc.Alert("Acesso restrito a administradores.", color="warning", className="mt-3")
    return dbc.Container(
        [
            html.H3("Administração", className="mb-3"),
            html.P(
                "Crie e altere usuários com python -m dashboard users (add, passwd, role, "
                "disable, unlock).",
                className="text-muted small",
            ),
            html.H5("Usuários"),
            _users_table(),
            dbc.InputGroup(
                [
                    dbc.Input(id="admin-unlock-name", placeholder="usuário ou endereço IP"),
                    dbc.Button("Desbloquear", id="admin-unlock-btn", color="secondary"),
                ],
                className="mb-2",
                style={"maxWidth": "30rem"},
            ),
            html.Div(id="admin-unlock-msg", className="mb-3"),
            html.H5("Registro de auditoria (últimas 200 entradas)"),
            _audit_table(),
        ],
        fluid=True,
    )


@callback(
    Output("admin-unlock-msg", "children"),
    Input("admin-unlock-btn", "n_clicks"),
    State("admin-unlock-name", "value"),
    prevent_initial_call=True,
)
def unlock_account(_n, target):
    """Lift an account lock (a user name) or an IP delay (an address)."""
    target = (target or "").strip()
    if not target:
        return dbc.Alert("Informe o usuário ou o endereço.", color="warning")
    import ipaddress

    try:
        ipaddress.ip_address(target)
        is_ip = True
    except ValueError:
        is_ip = False
    try:
        if is_ip:
            unlock(get_store(), ip_address=target, actor=current_username(), ip=client_ip())
        else:
            unlock(get_store(), target, actor=current_username(), ip=client_ip())
    except PregaoError as exc:
        return dbc.Alert(str(exc), color="danger")
    return dbc.Alert(f"{target} desbloqueado.", color="success")
