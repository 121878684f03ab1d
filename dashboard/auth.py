"""Login for team mode: flask-login with a guard at the server boundary (dash-auth's pattern).

:func:`install` adds, in team mode only (local mode stays as it was: one user, no login):

* ``GET/POST /login`` – a Portuguese form (fields ``username``, ``password``, ``remember``
  "lembrar-me", a hidden ``csrf_token`` checked against the session), and ``/logout``;
* a ``before_request`` guard on **every** route – pages, ``/_dash-layout``,
  ``/_dash-dependencies``, ``/_dash-update-component``, component suites and assets – that
  lets through only ``/login`` and the two style sheets it uses. Anonymous page requests are
  redirected to ``/login?next=...`` (a local path only); anything else gets HTTP 401 JSON;
* on callback POSTs, a JSON ``Content-Type`` and (when the browser sends one) an ``Origin``
  equal to the app's own, so another site cannot drive a logged-in browser (CSRF);
* the session cookie is HttpOnly, SameSite=Lax and Secure (:mod:`dashboard.security`); the
  session id is rotated at login; a password change or a disabled account ends sessions at
  the next request (the flask-login id carries a digest of the password hash);
* on the first request, :func:`dashboard.authz.protect_callbacks` (roles inside callbacks).

Brute-force throttling and the audit log live in :mod:`dashboard.users`.

Per-user data (:mod:`core.ownership`, ``docs/team.md`` "Per-user data"): pages and jobs pass
:func:`current_owner` as the ``owner`` *filter* of core readers and :func:`current_author` as
the ``owner`` *stamped* on rows they create.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
import threading
from urllib.parse import urlsplit

from flask_login import UserMixin

from dashboard.settings import Settings

__all__ = [
    "install",
    "SessionUser",
    "OPEN_PATHS",
    "LOGIN_PATH",
    "current_owner",
    "current_author",
    "NotLoggedIn",
]

log = logging.getLogger(__name__)

LOGIN_PATH = "/login"
#: Paths reachable without a session: the login page and the style sheets it uses.
OPEN_PATHS = frozenset(
    {
        LOGIN_PATH,
        "/logout",
        "/assets/00-bootstrap.min.css",
        "/assets/10-pregao.css",
        "/_favicon.ico",
    }
)
REMEMBER_DAYS = 14
SESSION_HOURS = 12


class NotLoggedIn(PermissionError):
    """Team mode without a logged-in user where one is needed (never reached past the guard)."""


def current_author() -> str | None:
    """The user name to stamp as ``owner`` on rows this request or job creates.

    Returns
    -------
    str or None
        None in local mode (rows of the one local user = the team's); the logged-in user's
        name in team mode, admins included (their rows are theirs).

    Raises
    ------
    NotLoggedIn
        Team mode and no logged-in user (fail closed: never an ownerless write).
    """
    from dashboard.authz import _user
    from dashboard.runtime import get_settings

    if not get_settings().is_team:
        return None
    user = _user()
    if user is None:
        raise NotLoggedIn("Faça login para continuar.")
    return user.username


def current_owner() -> str | None:
    """The ``owner`` filter for reading per-user rows (:func:`core.ownership.visible`).

    Returns
    -------
    str or None
        None in local mode (no filtering); in team mode the logged-in user's name — they see
        their own rows and the team's (NULL owner), never another user's, not even by id — except
        for admins: None, they see every user's rows (they run the desk: support, audits,
        cleaning up after someone leaves). Admins' own new rows still carry their name
        (:func:`current_author`).

    Raises
    ------
    NotLoggedIn
        Team mode and no logged-in user (fail closed: never "see all" by accident).
    """
    from dashboard.authz import _user
    from dashboard.runtime import get_settings

    if not get_settings().is_team:
        return None
    user = _user()
    if user is None:
        raise NotLoggedIn("Faça login para continuar.")
    return None if user.role == "admin" else user.username


class SessionUser(UserMixin):
    """The logged-in user as flask-login sees it (id = ``"<user id>.<session token>"``)."""

    def __init__(self, user) -> None:
        self.user = user
        self.username = user.username
        self.role = user.role

    def get_id(self) -> str:
        return f"{self.user.id}.{self.user.session_token}"


_PAGE = """<!doctype html>
<html lang="pt-BR"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pregão – Entrar</title>
<link rel="stylesheet" href="/assets/00-bootstrap.min.css">
<link rel="stylesheet" href="/assets/10-pregao.css">
</head><body class="bg-body-tertiary">
<main class="container" style="max-width: 24rem; margin-top: 12vh">
<h1 class="h3 mb-3">Pregão</h1>
<p class="text-muted">Entre com o seu usuário da equipe.</p>
{% if message %}<div class="alert alert-{{ color }}" role="alert" id="login-message">{{ message }}</div>{% endif %}
<form method="post" action="/login" autocomplete="on" id="login-form">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ next }}">
<div class="mb-3"><label class="form-label" for="username">Usuário</label>
<input class="form-control" id="username" name="username" value="{{ username }}"
 autocomplete="username" required autofocus maxlength="64"></div>
<div class="mb-3"><label class="form-label" for="password">Senha</label>
<input class="form-control" id="password" name="password" type="password"
 autocomplete="current-password" required maxlength="256"></div>
<div class="form-check mb-3"><input class="form-check-input" type="checkbox" id="remember"
 name="remember" value="1"><label class="form-check-label" for="remember">Lembrar-me
 neste computador ({{ days }} dias)</label></div>
<button class="btn btn-primary w-100" type="submit" id="login-submit">Entrar</button>
</form></main></body></html>"""


def _safe_next(target: str | None) -> str:
    """``target`` when it is a local path (no scheme, no host), else ``/``."""
    t = (target or "").strip()
    parts = urlsplit(t)
    if not t.startswith("/") or t.startswith("//") or parts.scheme or parts.netloc or "\\" in t:
        return "/"
    return t


def install(app, settings: Settings) -> None:
    """Add login, logout and the guard to ``app`` in team mode; wrap callbacks in both modes."""
    from flask import jsonify, redirect, render_template_string, request, session
    from flask_login import LoginManager, current_user, login_user, logout_user

    from dashboard import authz, users
    from dashboard.runtime import get_store

    server = app.server
    state = {"protected": False}
    setup_lock = threading.Lock()

    def protect_once() -> None:
        """Finish Dash's set-up and wrap every callback, once, before any request goes on.

        Runs as the server's *first* ``before_request`` hook and under a lock: with threaded
        workers (gunicorn ``gthread``) two first requests arrive together, and Dash's own
        ``_setup_server`` marks itself done *before* it copies the pages' callbacks into
        ``app.callback_map`` — a second thread then wrapped a half-filled map and the rest
        of the callbacks ran unguarded for the life of that worker (a viewer's forged call
        of an acting callback answered 200 instead of 403; issue 15's flaky stack test).
        """
        if state["protected"]:
            return
        with setup_lock:
            if state["protected"]:
                return
            app._setup_server()  # noqa: SLF001 - idempotent; fills app.callback_map
            for hook in list(server.before_request_funcs.get(None, ())):
                if getattr(hook, "__name__", "") == "router_sync":
                    hook()  # Dash Pages' router registers its callback on the first request
            authz.protect_callbacks(app)
            state["protected"] = True

    server.before_request_funcs.setdefault(None, []).insert(0, protect_once)

    if not settings.is_team:
        return

    server.config.update(
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
        REMEMBER_COOKIE_DURATION=dt.timedelta(days=REMEMBER_DAYS),
    )
    lm = LoginManager()
    lm.init_app(server)
    lm.session_protection = "basic"

    @lm.user_loader
    def _load(user_id: str):
        uid, _, token = (user_id or "").partition(".")
        if not uid.isdigit():
            return None
        store = get_store()
        # Every request loads its user: from the store's read cache (issue 15, load), which
        # any committed write to ``users`` drops (scope "users") — a disabled account or a
        # new password (a new session token) still ends the session at the next request,
        # from any process.
        user = store.cached(
            ("dashboard.auth.user", int(uid)),
            lambda: users.get_user_by_id(store, int(uid)),
            scope="users",
        )
        if user is None or not user.active or user.session_token != token:
            return None
        return SessionUser(user)

    def _csrf() -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        return session["csrf"]

    def _page(message="", color="danger", status=200, username="", next_="/"):
        html = render_template_string(
            _PAGE,
            message=message,
            color=color,
            csrf=_csrf(),
            next=_safe_next(next_),
            username=username,
            days=REMEMBER_DAYS,
        )
        return html, status, {"Cache-Control": "no-store"}

    @server.route(LOGIN_PATH, methods=["GET", "POST"])
    def login():
        if request.method == "GET":
            if current_user.is_authenticated:
                return redirect(_safe_next(request.args.get("next")))
            return _page(next_=request.args.get("next", "/"))
        form = request.form
        sent = form.get("csrf_token", "")
        expected = session.get("csrf", "")
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            users.audit(get_store(), "login_refused", detail="csrf", ip=authz.client_ip(), ok=False)
            return _page("Sessão expirada: tente entrar de novo.", "warning", 400)
        username = form.get("username", "")[:64]
        res = users.authenticate(get_store(), username, form.get("password", ""), authz.client_ip())
        if not res.ok:
            status = 429 if res.retry_after else 401
            html, _, headers = _page(res.message, username=username, next_=form.get("next"))
            if res.retry_after:
                headers["Retry-After"] = str(res.retry_after)
            return html, status, headers
        session.clear()  # a new session at login (no fixation)
        session.permanent = True
        login_user(SessionUser(res.user), remember=form.get("remember") == "1")
        return redirect(_safe_next(form.get("next")))

    @server.route("/logout", methods=["GET", "POST"])
    def logout():
        if current_user.is_authenticated:
            users.audit(get_store(), "logout", username=current_user.username, ip=authz.client_ip())
        logout_user()
        session.clear()
        return redirect(LOGIN_PATH)

    @server.before_request
    def _guard():
        path = request.path
        if path in OPEN_PATHS:
            return None
        if not current_user.is_authenticated:
            if request.method in ("GET", "HEAD") and not path.startswith(("/_dash-", "/_reload")):
                return redirect(f"{LOGIN_PATH}?next={_quote(request.full_path.rstrip('?'))}")
            return jsonify(error="Faça login para continuar."), 401
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            if path.startswith("/_dash-") and not request.is_json:
                return jsonify(error="Requisição inválida."), 400
            origin = request.headers.get("Origin")
            if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
                log.warning("refused cross-origin %s %s from %s", request.method, path, origin)
                return jsonify(error="Origem não permitida."), 403
        return None


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")
