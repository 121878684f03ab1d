"""Hardening of the Flask server under the Dash app: headers, errors, limits, start checks.

:func:`install` (called by :func:`dashboard.create_app`) applies, in both modes:

* the secret key (team mode: ``PREGAO_SECRET_KEY``; local mode: a random key per process),
  cookie flags (HttpOnly, SameSite=Lax, Secure when ``PREGAO_COOKIE_SECURE``), and
  ``MAX_CONTENT_LENGTH`` from ``PREGAO_MAX_UPLOAD_MB`` (uploads travel base64-encoded inside
  the callback's JSON, hence the 4/3 factor);
* security headers on every response (:data:`HEADERS` and a Content-Security-Policy with
  Dash's own inline-script hashes, :meth:`dash.Dash.csp_hashes`); ``app.run`` takes
  :data:`QuietRequestHandler` so the development server's ``Server`` header names no
  version (gunicorn's says only ``gunicorn``);
* HTTP 404 for URLs that are no page of the app (the Portuguese 404 page is still drawn);
* a generic 500 reply with an error id, the details in the server log
  (:func:`error_reference` does the same for callback errors).

:func:`check_startup` refuses to start a server that is not safe to expose (one line per
problem, raised as :class:`~dashboard.settings.SettingsError`).
"""

from __future__ import annotations

import logging
import os
import secrets
import uuid
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler

from dashboard.settings import Settings, SettingsError

__all__ = [
    "HEADERS",
    "install",
    "check_startup",
    "error_reference",
    "generic_error_message",
    "is_loopback",
    "known_page_path",
    "QuietRequestHandler",
]

log = logging.getLogger(__name__)

#: Headers set on every response (the CSP is added per app by :func:`install`).
HEADERS: dict[str, str] = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
#: Minimum length of the team-mode secret key, bytes.
MIN_SECRET_BYTES = 32
_WEAK_SECRETS = {"changeme", "change-me", "secret", "dev", "test", "pregao"}
_OPEN_PREFIXES = ("/_dash-", "/assets/", "/_reload-hash", "/_favicon", "/login", "/logout")


class QuietRequestHandler(WSGIRequestHandler):
    """The development server's handler without ``Server: Werkzeug/x Python/y``."""

    def version_string(self) -> str:
        return "pregao"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    h = (host or "").strip().lower()
    return h in ("localhost", "::1") or h.startswith("127.")


def error_reference(err: BaseException | None = None, context: str = "") -> str:
    """Log ``err`` with a new short error id and return that id (8 hex digits)."""
    eid = uuid.uuid4().hex[:8]
    log.error("error id %s %s", eid, context, exc_info=err)
    return eid


def generic_error_message(eid: str) -> str:
    """The pt-BR message shown for an unexpected error (never the exception text)."""
    return (
        f"Erro inesperado (código {eid}). A página continua utilizável; se persistir, informe "
        "o código ao administrador."
    )


def check_startup(settings: Settings, store=None) -> None:
    """Refuse settings that are unsafe for the app server.

    Parameters
    ----------
    settings : Settings
    store : Store, optional
        Checked for at least one active admin in team mode.

    Raises
    ------
    SettingsError
        Listing every problem: debug on a non-loopback address or in team mode; in team mode
        a secret key shorter than 32 bytes, no Redis, SQLite without
        ``PREGAO_ALLOW_SQLITE=1``, no active admin user.
    """
    problems: list[str] = []
    if settings.debug and (settings.is_team or not is_loopback(settings.host)):
        problems.append(
            "PREGAO_DEBUG=1 is refused in team mode and on non-loopback addresses (the "
            "debugger runs code for whoever reaches it)"
        )
    data = Path(os.path.realpath(settings.data_dir))
    for d in settings.import_dirs:
        real = Path(os.path.realpath(d))
        if real == data or data in real.parents:  # a parent is fine: the data dir stays barred
            problems.append(
                f"PREGAO_IMPORT_DIRS entry {str(d)!r} lies in the data directory; files of the "
                "data directory are never import sources: use a separate folder"
            )
    if settings.is_team:
        key = settings.secret_key or ""
        if len(key.encode()) < MIN_SECRET_BYTES or key.strip().lower() in _WEAK_SECRETS:
            problems.append(
                f"PREGAO_SECRET_KEY must be a random value of at least {MIN_SECRET_BYTES} bytes "
                '(python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )
        if not settings.redis_url:
            problems.append("PREGAO_REDIS_URL is required in team mode (Celery jobs)")
        if settings.database_url.startswith("sqlite") and not settings.allow_sqlite:
            problems.append(
                "team mode needs PostgreSQL (PREGAO_DATABASE_URL=postgresql+psycopg://...); "
                "PREGAO_ALLOW_SQLITE=1 allows SQLite for a trial"
            )
        if store is not None:
            from dashboard.users import count_admins

            if count_admins(store) == 0:
                problems.append(
                    "team mode needs an admin user: python -m dashboard init --admin NAME"
                )
    if problems:
        raise SettingsError("Refusing to start: " + "; ".join(problems) + ".")


def known_page_path(path: str) -> bool:
    """True when ``path`` is ``/`` or the path of a registered Dash page (templates too)."""
    import dash
    from dash._pages import _parse_path_variables

    p = "/" + path.strip("/") if path.strip("/") else "/"
    for page in dash.page_registry.values():
        if page.get("path") == "/404":
            continue
        if p == (page.get("path") or "").rstrip("/") or (p == "/" and page.get("path") == "/"):
            return True
        tpl = page.get("path_template")
        if tpl and _parse_path_variables(p, tpl) is not None:
            return True
        if p in (page.get("redirect_from") or []):
            return True
    return False


def _csp(app) -> str:
    try:
        hashes = " ".join(h if h.startswith("'") else f"'{h}'" for h in app.csp_hashes())
    except Exception:  # pragma: no cover - csp_hashes needs the scripts registered
        hashes = ""
    return (
        "default-src 'self'; "
        f"script-src 'self' {hashes}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; "
        "font-src 'self' data:; "
        "connect-src 'self'; "
        "worker-src 'self' blob:; "
        "object-src 'none'; "
        "base-uri 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'"
    )


def install(app, settings: Settings) -> None:
    """Apply the hardening described in the module docstring to ``app`` (a Dash app)."""
    from flask import request
    from werkzeug.exceptions import InternalServerError

    server = app.server
    server.secret_key = settings.secret_key or secrets.token_hex(32)
    upload = settings.max_upload_mb * 1024 * 1024
    server.config.update(
        MAX_CONTENT_LENGTH=int(upload * 4 / 3) + 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        SESSION_COOKIE_NAME="pregao_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.cookie_secure,
        REMEMBER_COOKIE_NAME="pregao_remember",
    )
    if settings.proxy_count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.proxy_count
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=n, x_proto=n, x_host=n)
    state: dict[str, str] = {}
    if settings.server_timing:
        _install_server_timing(server)

    @server.after_request
    def _headers(response):
        for k, v in HEADERS.items():
            response.headers.setdefault(k, v)
        if "csp" not in state:
            state["csp"] = _csp(app)
        response.headers.setdefault("Content-Security-Policy", state["csp"])
        if (
            request.method == "GET"
            and response.status_code == 200
            and response.mimetype == "text/html"
            and not request.path.startswith(_OPEN_PREFIXES)
            and not known_page_path(request.path)
        ):
            response.status_code = 404
        return response

    @server.errorhandler(InternalServerError)
    def _server_error(exc):
        eid = error_reference(getattr(exc, "original_exception", None) or exc, request.path)
        return {"error": generic_error_message(eid), "id": eid}, 500


def _install_server_timing(server) -> None:
    """``Server-Timing: app;dur=<wall ms>, cpu;dur=<thread CPU ms>`` on every response.

    Measured from the first ``before_request`` hook (the login's session lookup and the
    first request's set-up included) to the last ``after_request`` hook, in the request's
    own thread: under load, client latency minus ``app`` is time queued for a worker thread,
    ``app`` minus ``cpu`` is time waiting (database, GIL, other processes on the cores).
    """
    import time

    from flask import g

    def _start():
        g.pregao_t0 = (time.perf_counter(), time.thread_time())

    server.before_request_funcs.setdefault(None, []).insert(0, _start)

    def _stop(response):
        t0 = g.get("pregao_t0")
        if t0 is not None:
            wall = 1000 * (time.perf_counter() - t0[0])
            cpu = 1000 * (time.thread_time() - t0[1])
            response.headers["Server-Timing"] = f"app;dur={wall:.1f}, cpu;dur={cpu:.1f}"
        return response

    # after_request hooks run last-registered first: this one, registered first, runs last
    server.after_request_funcs.setdefault(None, []).insert(0, _stop)
