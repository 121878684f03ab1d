"""Wiring between Dash/Flask and ``core``: the app factory and nothing else of substance.

:func:`create_app` opens the store (migrating it and loading the bundled data when empty),
chooses the background-callback manager and builds the multi-page Dash app whose pages live
in ``pages/`` beside the calling module.
"""

from __future__ import annotations

import importlib
import logging
import uuid
from pathlib import Path

from dashboard.settings import Settings, load_settings


class _Lazy:
    """A module imported on first attribute access.

    ``python -m dashboard`` imports this package before running the CLI; Dash and the
    Bootstrap components load only when the app is built (the runtime is imported inside
    :func:`create_app`).
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)


dash = _Lazy("dash")
dbc = _Lazy("dash_bootstrap_components")
dcc = _Lazy("dash.dcc")
html = _Lazy("dash.html")

__all__ = ["create_app", "__version__"]

__version__ = "0.1.0"

log = logging.getLogger(__name__)

# Bootstrap 5.3 and Bootstrap Icons are served from assets/ (00-*, 01-*), not from a CDN, so
# the app works with no internet. Bootstrap 5.3 colour modes give the dark theme.


def _navbar(settings: Settings) -> dbc.Navbar:
    links = [
        dbc.NavItem(dbc.NavLink(p["name"], href=p["relative_path"], active="exact"))
        for p in sorted(
            dash.page_registry.values(),
            key=lambda p: p.get("order") if p.get("order") is not None else 99,
        )
        if p.get("order") is not None
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(
                    [html.I(className="bi bi-graph-up-arrow me-2"), "Pregão"], href="/"
                ),
                dbc.Nav(links, className="me-auto", navbar=True, id="nav-links"),
                _bell(),
                _user_menu(settings),
                html.Div(
                    [
                        html.I(className="bi bi-sun me-1"),
                        dbc.Switch(
                            id="theme-switch",
                            value=settings.theme == "dark",
                            persistence=True,
                            persistence_type="local",
                            className="d-inline-block mb-0",
                        ),
                        html.I(className="bi bi-moon-stars"),
                    ],
                    className="d-flex align-items-center text-light",
                    title="Tema claro/escuro",
                ),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-3",
    )


def _bell():
    """The alerts bell (unread count, toast): :mod:`dashboard.notifications`."""
    from components.alerts import bell

    return bell()


def _user_menu(settings: Settings):
    """Team mode: the user's name and role, the admin page and "Sair" (logout)."""
    if not settings.is_team:
        return None
    from dashboard.authz import current_role, current_username

    role = current_role()
    items = [html.Span(f"{current_username()} ({role})", className="text-light small me-3")]
    if role == "admin":
        items.append(dbc.NavLink("Administração", href="/admin", className="me-2"))
    items.append(html.A("Sair", href="/logout", className="btn btn-sm btn-outline-light me-3"))
    return html.Div(items, className="d-flex align-items-center", id="user-menu")


def _layout(settings: Settings):
    def layout():
        return html.Div(
            [
                dcc.Location(id="url", refresh="callback-nav"),
                dcc.Store(id="theme-store", data=settings.theme),
                # The browser's job-session id (kept in local storage; the value made here is
                # used only when the browser has none): long jobs are tracked per session, so
                # a page left mid-job picks its job up again (dashboard.background).
                dcc.Store(id="job-session", storage_type="local", data=uuid.uuid4().hex),
                _navbar(settings),
                dbc.Container(
                    [
                        dbc.Alert(
                            id="global-error", is_open=False, color="danger", dismissable=True
                        ),
                        dash.page_container,
                    ],
                    fluid=True,
                    className="pb-4",
                ),
            ]
        )

    return layout


def _on_error(err: Exception) -> None:
    """Global safety net: an unexpected callback error shows a message, never a blank page.

    Unexpected errors show a generic message with an error id; the details go to the log.
    """
    from core.errors import PregaoError
    from dashboard.security import error_reference, generic_error_message

    if isinstance(err, PregaoError):
        log.warning("callback error: %s", err)
        msg = str(err)
    else:
        msg = generic_error_message(error_reference(err, "callback error"))
    dash.set_props("global-error", {"children": msg, "is_open": True})


def _start_scheduler(settings: Settings):
    """Start the scheduled jobs (local mode, ``PREGAO_SCHEDULER`` on, not under pytest)."""
    import os

    if (
        not settings.scheduler
        or settings.is_team
        or settings.redis_url  # Celery deployments: app and worker processes would both run it
        or os.environ.get("PYTEST_CURRENT_TEST")
    ):
        return None
    if settings.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return None  # the debug reloader's parent process: the child starts it
    from dashboard.scheduler import build_scheduler

    sched = build_scheduler(settings)
    sched.start()
    log.info("Scheduler started: %s", ", ".join(j.id for j in sched.get_jobs()))
    return sched


def _warm_backtest() -> None:
    """Load (or compile) the backtest kernels and run a tiny read-only backtest (issue 9)."""
    try:
        from core.backtest.engine import warm_up
        from dashboard.runtime import get_store

        warm_up(get_store())
    except Exception:  # noqa: BLE001 - warming is best effort; a run compiles anyway
        logging.getLogger(__name__).exception("Falha ao pré-compilar o motor de backtest")


def _warm_page_reads() -> None:
    """Fill the store's read cache with what the pages read on load (issue 11): Mercado's
    snapshot first (a trader opens the app on Mercado, and a first visit during warming
    paints a placeholder and waits for this result instead of computing it twice), then
    Cotações' default view (the menu's link and ``?ticker=PETR4``: its first visit waited
    ~0,5–1 s for it), the defaults of Carteira and the quality report of Dados."""
    try:
        from core.data.quality import quality_report
        from core.market import market_snapshot
        from core.portfolio import most_liquid
        from core.quotes import DETAIL_LIMIT, QuoteRequest, quote_view
        from dashboard.runtime import get_store

        store = get_store()
        market_snapshot(store)
        quote_view(store, QuoteRequest.from_query({}), limit=DETAIL_LIMIT)
        most_liquid(store, 10)
        quality_report(store)
    except Exception:  # noqa: BLE001 - warming is best effort; a page reads anyway
        logging.getLogger(__name__).exception("Falha ao pré-carregar as leituras das páginas")


def _warm_kernels(settings: Settings, celery_app=None) -> None:
    """Warm what this process will serve, in a background thread (``PREGAO_WARM=0``: nothing).

    First the store's read cache gets what the pages read on load (:func:`_warm_page_reads`,
    issue 11's page-load goal holds from the first visit). Then the backtest kernels (so the
    first backtest does not wait for numba, issue 9) are warmed where backtests run: in this
    process locally; with Celery (team mode) in the Celery worker once it is ready, never in
    the web workers, which only enqueue jobs — each gunicorn worker used to spend seconds of
    CPU on it while serving its first users (issue 15, load)."""
    if not settings.warm:
        return
    import sys
    import threading

    if celery_app is not None:
        from celery import signals

        def _on_worker_ready(**_kwargs) -> None:
            threading.Thread(target=_warm_backtest, name="warm-backtest", daemon=True).start()

        signals.worker_ready.connect(_on_worker_ready, weak=False)

    def work() -> None:
        # While this thread computes, request threads (the first visit's page and its
        # megabytes of scripts, served in small chunks) need the GIL often: let them have it
        # every millisecond instead of every 5 ms (Python's default), until warming ends.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, 0.001))
        try:
            _warm_page_reads()
            if celery_app is None:
                _warm_backtest()
        finally:
            sys.setswitchinterval(interval)

    threading.Thread(target=work, name="warm-kernels", daemon=True).start()


def create_app(name: str = "app", settings: Settings | None = None) -> dash.Dash:
    """Build the Pregão Dash app.

    Parameters
    ----------
    name : str
        The caller's ``__name__``; ``pages/`` and ``assets/`` are looked up beside the
        project root.
    settings : Settings, optional
        Defaults to :func:`dashboard.settings.load_settings`.

    Returns
    -------
    dash.Dash
        The app; ``app.server`` is the Flask server (for gunicorn); ``app.celery_app`` is the
        Celery app in team mode, else None.

    Raises
    ------
    core.errors.StoreError
        When the database cannot be opened or migrated.
    dashboard.settings.SettingsError
        On invalid settings.
    """
    settings = settings or load_settings()
    from dashboard import auth, httpcache, runtime, security
    from dashboard.background import make_manager
    from dashboard.backup import hold_app_lock

    store = runtime.configure(settings)
    security.check_startup(settings, store)
    hold_app_lock(settings)  # `restore` refuses while an app process uses the store
    manager, celery_app = make_manager(settings)
    root = Path(__file__).resolve().parent.parent
    app = dash.Dash(
        name,
        use_pages=True,
        pages_folder=str(root / "pages"),
        assets_folder=str(root / "assets"),
        suppress_callback_exceptions=True,
        title="Pregão",
        update_title=None,
        background_callback_manager=manager,
        on_error=_on_error,
    )
    security.install(app, settings)
    httpcache.install(app)  # fingerprinted assets: no revalidation on a page load (issue 11)
    auth.install(app, settings)
    runtime.pin_data_version_per_request(app.server)
    if settings.redis_url:  # every web worker reads the figures another one built
        import redis

        from components import figcache

        figcache.share(redis.Redis.from_url(settings.redis_url))
    app.layout = _layout(settings)
    app.celery_app = celery_app
    if celery_app is not None:  # scheduled jobs: once per deployment, from Celery beat
        from dashboard.beat import configure as configure_beat

        app.beat = configure_beat(celery_app, settings)
    app.settings = settings
    app.scheduler = _start_scheduler(settings)
    from dashboard import notifications  # the bell's callback; alert delivery of this process

    notifications.install(settings, store)
    app.telegram_bot = notifications.start_bot(settings, store) if app.scheduler else None
    _warm_kernels(settings, celery_app)
    dash.clientside_callback(
        """
        function(dark) {
            const mode = dark ? 'dark' : 'light';
            document.documentElement.setAttribute('data-bs-theme', mode);
            document.body.setAttribute('data-ag-theme-mode', mode);
            return mode;
        }
        """,
        dash.Output("theme-store", "data"),
        dash.Input("theme-switch", "value"),
    )
    return app
