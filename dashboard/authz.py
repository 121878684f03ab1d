"""Roles inside the callbacks: one decorator, :func:`requires`, applied to every callback.

The login guard (:mod:`dashboard.auth`) keeps anonymous requests away from every route; this
module decides what a logged-in user may *do*. :func:`protect_callbacks` wraps every server
callback of the app with :func:`requires` at the role named in :data:`POLICY` (keyed by the
callback function's ``module.qualname``), so a forged ``/_dash-update-component`` request
for an acting callback from a viewer gets HTTP 403 before the callback runs. Acting
callbacks (role ``trader`` or more) are written to the audit log.

A callback missing from :data:`POLICY` needs :data:`DEFAULT_ROLE` (``trader``: a new
callback can act until someone classifies it); ``tests/unit/test_team_authz.py`` fails
when any callback of the app is not classified, so new callbacks get an explicit decision.

In local mode (one user, no login) the current role is always ``admin``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from dashboard.users import ROLES, has_role

__all__ = [
    "POLICY",
    "DEFAULT_ROLE",
    "current_role",
    "current_username",
    "client_ip",
    "requires",
    "policy_key",
    "protect_callbacks",
]

log = logging.getLogger(__name__)

#: Role of callbacks that :data:`POLICY` does not name.
DEFAULT_ROLE = "trader"

#: Minimum role per callback (``module.qualname`` of the page function).
#: viewer = reads and draws; trader = computes, writes own data, uploads, imports uploads;
#: admin = imports from server paths (checked again in :mod:`dashboard.uploads`), promotion.
POLICY: dict[str, str] = {
    # Long jobs (dashboard.background.job_callback): the progress poll reads; cancel stops
    # a run of the caller's own browser session only (the job itself is classified under
    # its page function below).
    "dashboard.background.job_callback.<locals>._poll": "viewer",
    "dashboard.background.job_callback.<locals>._cancel": "viewer",
    # Mercado / Cotações: reading
    "pages.market.fill": "viewer",
    "pages.market.open_quotes": "viewer",
    "pages.market.refresh": "viewer",  # watchlist edits are checked inside (trader)
    "pages.market.treemap_theme": "viewer",
    # named watchlists: the user's own data (a viewer reads the lists, changes none)
    "pages.market.manage_lists": "trader",
    "pages.market.treemap": "viewer",
    "pages.quotes.update": "viewer",
    "pages.quotes.preset_clears_dates": "viewer",
    "pages.quotes.dates_clear_preset": "viewer",
    "pages.quotes.export_csv": "viewer",
    "pages.quotes.bound_dates": "viewer",
    "pages.quotes.set_draw_tool": "viewer",
    "pages.quotes.zoom_detail": "viewer",
    # drawings are the author's own data (a viewer draws but nothing is stored)
    "pages.quotes.save_chart_drawings": "trader",
    # Backtest
    "pages.backtest._params_form": "viewer",
    "pages.backtest._render": "viewer",
    "pages.backtest._candles": "viewer",
    "pages.backtest._export_csv": "viewer",
    "pages.backtest._export_html": "viewer",
    "pages.backtest._runs": "viewer",
    "pages.backtest._open": "viewer",
    "pages.backtest._compare": "viewer",
    "pages.backtest._run": "trader",
    "pages.backtest._walk_forward": "trader",
    # Dados
    "pages.data._toggle_mapping": "viewer",
    "pages.data._refresh": "viewer",
    "pages.data._common": "viewer",
    "pages.data._store_upload": "trader",
    "pages.data._preview": "trader",
    "pages.data._import": "trader",
    "pages.data._update": "trader",
    # Carteira
    "pages.portfolio.render": "viewer",
    "pages.portfolio.export_weights": "viewer",
    "pages.portfolio.export_orders": "viewer",
    "pages.portfolio.run": "viewer",  # computes a frontier, writes nothing (save: trader)
    "pages.portfolio.save": "trader",
    "pages.portfolio.load_saved": "viewer",
    # Modelos
    "pages.models.anomalies": "viewer",
    "pages.models.train": "trader",
    "pages.models.meta_run": "trader",
    "pages.models.retrain_now": "admin",  # may promote a model
    "pages.models.promote": "admin",
    # Operações (paper trading): viewers read the book and the monitor; traders act
    "pages.trading._toggle_new": "viewer",
    "pages.trading._book": "viewer",
    "pages.trading._open_tab": "viewer",  # builds a book tab on first opening
    "pages.trading._monitor": "viewer",
    "pages.trading._ticket_fields": "viewer",
    "pages.trading._preview": "viewer",  # the pre-trade risk check; writes nothing
    "pages.trading._params_form": "viewer",
    "pages.trading._replay_window": "viewer",  # suggests the replay window; writes nothing
    "pages.trading._export": "viewer",  # ML export stores derived rows (idempotent)
    "pages.trading._create": "trader",
    "pages.trading._account_action": "trader",  # kill switch / unblock
    "pages.trading._submit": "trader",
    "pages.trading._modify": "trader",
    "pages.trading._automation": "trader",  # start / stop the account's runner
    # Alertas (the bell is on every page: reads one count)
    "dashboard.notifications.bell": "viewer",
    "pages.alerts.insert_condition": "viewer",  # writes text into the form only
    "pages.alerts.validate_condition": "viewer",
    "pages.alerts.filter_history": "viewer",
    "pages.alerts.rule_options": "viewer",
    "pages.alerts.rules": "trader",  # create / edit / pause / delete rules
    "pages.alerts.evaluate": "trader",  # evaluate now / replay: stores and sends firings
    "pages.alerts.mark_all_read": "trader",
    "pages.alerts.test_channel": "trader",  # sends a message through a channel
    # Administração
    "pages.admin.unlock_account": "admin",
    # Dash Pages' router (draws the page of the URL) and the cancel callback of background jobs
    "dash.dash.Dash.enable_pages.<locals>.router_sync.<locals>.update": "viewer",
    "dash.dash.Dash._setup_server.<locals>.cancel_call": "trader",
}


def current_role() -> str | None:
    """The role of the request's user: ``admin`` in local mode, None when not logged in."""
    from dashboard.runtime import get_settings

    if not get_settings().is_team:
        return "admin"
    user = _user()
    return user.role if user is not None else None


def current_username() -> str | None:
    """The logged-in user's name (None in local mode or without a login)."""
    user = _user()
    return user.username if user is not None else None


def _user():
    """The logged-in :class:`dashboard.users.User` of this request or background job."""
    from flask import has_request_context

    if has_request_context():
        from flask_login import current_user

        return current_user.user if current_user.is_authenticated else None
    return _user_from_job_context()


def _user_from_job_context():
    """Inside a background job (no request): the user of the signed session cookie that the
    request which launched the job carried (Dash copies the request's cookies into the job)."""
    try:
        import dash

        cookies = dash.callback_context.cookies or {}
        app = dash.get_app()
    except Exception:
        return None
    server = app.server
    raw = cookies.get(server.config.get("SESSION_COOKIE_NAME", "session"))
    if not raw:
        return None
    serializer = server.session_interface.get_signing_serializer(server)
    if serializer is None:
        return None
    try:
        data = serializer.loads(raw, max_age=int(server.permanent_session_lifetime.total_seconds()))
    except Exception:
        return None
    uid, _, token = str(data.get("_user_id", "")).partition(".")
    if not uid.isdigit():
        return None
    from dashboard.runtime import get_store
    from dashboard.users import get_user_by_id

    user = get_user_by_id(get_store(), int(uid))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def client_ip() -> str:
    """The client's address (``X-Forwarded-For`` only through ``PREGAO_PROXY_COUNT`` proxies)."""
    from flask import has_request_context, request

    return (request.remote_addr or "") if has_request_context() else ""


class Forbidden(Exception):
    """Raised by :func:`requires` outside a request (tests, jobs)."""


def requires(role: str, name: str | None = None) -> Callable:
    """Decorator: run the function only for users with at least ``role``.

    Inside a request a refusal is HTTP 403 (JSON, pt-BR message); an allowed call of a
    callback needing ``trader`` or more is written to the audit log (team mode).

    Parameters
    ----------
    role : str
        One of :data:`dashboard.users.ROLES`.
    name : str, optional
        What the audit log records (default: the function's ``module.qualname``).
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (use {', '.join(ROLES)})")

    def deco(func: Callable) -> Callable:
        what = name or policy_key(func)

        @functools.wraps(func)
        def guarded(*args, **kwargs):
            have = current_role()
            if not has_role(have, role):
                _deny(what, role, have)
            if role != "viewer":
                _audit_action(what)
            return guarded.__wrapped__(*args, **kwargs)

        guarded.required_role = role  # type: ignore[attr-defined]
        return guarded

    return deco


def _deny(what: str, role: str, have: str | None):
    from flask import has_request_context, jsonify, make_response
    from werkzeug.exceptions import HTTPException

    log.warning("refused %s: needs %s, user role %s", what, role, have)
    if not has_request_context():
        raise Forbidden(what)
    msg = (
        "Faça login para continuar."
        if have is None
        else f"Sem permissão: esta ação exige o papel {role} (o seu é {have})."
    )
    _audit_action(what, ok=False)
    resp = make_response(jsonify(error=msg), 401 if have is None else 403)
    raise HTTPException(response=resp)


def _audit_action(what: str, ok: bool = True) -> None:
    from flask import has_request_context, request

    from dashboard.runtime import get_settings, get_store

    if not has_request_context() or not get_settings().is_team:
        return
    if request.args.get("cacheKey"):  # a background job's progress poll, not a new action
        return
    from dashboard.users import audit

    try:
        audit(
            get_store(), "action", username=current_username(), detail=what, ip=client_ip(), ok=ok
        )
    except Exception:  # the audit must never break the action it records
        log.exception("audit failed for %s", what)


def policy_key(func: Callable) -> str:
    """``module.qualname`` of the function a Dash callback wrapper wraps."""
    f = func
    while hasattr(f, "__wrapped__"):
        f = f.__wrapped__
    return f"{f.__module__}.{f.__qualname__}"


def protect_callbacks(app) -> dict[str, str]:
    """Wrap every server callback of ``app`` with :func:`requires` (idempotent).

    Call after Dash's ``_setup_server`` (the login guard does it on the first request).

    Returns
    -------
    dict
        ``callback id -> role`` of every wrapped callback.
    """
    roles: dict[str, str] = {}
    for cb_id, cb in app.callback_map.items():
        func = cb.get("callback")
        if func is None:
            continue
        if getattr(func, "required_role", None):
            roles[cb_id] = func.required_role
            continue
        key = policy_key(func)
        role = POLICY.get(key, DEFAULT_ROLE)
        if key not in POLICY:
            log.warning("callback %s has no entry in dashboard.authz.POLICY: needs %s", key, role)
        cb["callback"] = requires(role, key)(func)
        roles[cb_id] = role
    return roles
