"""The in-app bell (every page) and the alert delivery worker / Telegram bot of the process.

:func:`install` (called by :func:`dashboard.create_app`) hands the channel configuration of
the settings to :mod:`core.alerts.dispatch` and starts this process's delivery worker (not
under pytest unless ``PREGAO_ALERTS_WORKER=1``; off with ``0``). The Telegram bot is started
with the scheduler (local mode; in team mode run ``python -m dashboard alerts bot`` in one
process: Telegram allows one ``getUpdates`` poller per token).

The bell's callback reads one indexed count every ``alerts-bell-interval`` tick (10 s) and
when a page writes ``alerts-bell-kick``; a newer unread item than the one last seen opens
the toast on whatever page is open.
"""

from __future__ import annotations

import logging
import os

from dash import Input, Output, State, callback, no_update

from dashboard.settings import Settings

__all__ = ["install", "start_bot", "bell", "current_owner"]

log = logging.getLogger(__name__)


def _worker_wanted(settings: Settings) -> bool:
    if settings.alerts_worker is not None:
        return settings.alerts_worker
    return not os.environ.get("PYTEST_CURRENT_TEST")


def current_owner() -> str | None:
    """The rule owner whose alerts this request sees (None = all: local mode, admins).

    ``dashboard.auth.current_owner`` (issue 15) when present; None otherwise."""
    try:
        from dashboard.auth import current_owner as owner_of_request
    except ImportError:
        return None
    return owner_of_request()


def _register_bell() -> None:
    """Register :func:`bell` with Dash (each app build: Dash keys callbacks by output, so a
    second registration replaces the first)."""
    callback(
        Output("alerts-bell-count", "children"),
        Output("alerts-bell-count", "style"),
        Output("alerts-toast", "is_open"),
        Output("alerts-toast", "header"),
        Output("alerts-toast", "children"),
        Output("alerts-toast", "icon"),
        Output("alerts-bell-seen", "data"),
        Input("alerts-bell-interval", "n_intervals"),
        Input("alerts-bell-kick", "data"),
        State("alerts-bell-seen", "data"),
    )(bell)


def install(settings: Settings, store) -> None:
    """Register the bell's callback, configure alert delivery for this process and start its
    worker (see the module docstring)."""
    from core.alerts import dispatch

    _register_bell()

    config = settings.channel_config()
    dispatch.configure(config)
    if _worker_wanted(settings):
        try:
            dispatch.start_worker(store, config)
            log.info(
                "Alert delivery worker started (%s)",
                ", ".join(
                    c for c in ("telegram", "discord", "email", "webhook") if config.configured(c)
                )
                or "no external channel configured",
            )
        except Exception:  # noqa: BLE001 - alerts must never stop the app
            log.exception("Could not start the alert delivery worker")


def start_bot(settings: Settings, store):
    """Start the Telegram bot thread when a token and chat ids are configured (else None)."""
    config = settings.channel_config()
    if not config.configured("telegram"):
        return None
    from core.alerts.bot import TelegramBot

    try:
        return TelegramBot(store, config).start()
    except Exception:  # noqa: BLE001
        log.exception("Could not start the Telegram bot")
        return None


def bell(_n, _kick, seen):
    """Unread count on the bell; a toast when an unread item newer than ``seen`` arrived."""
    from components.alerts import bell_badge_style, toast_children
    from core.alerts.channels.inapp import bell_state
    from dashboard.runtime import get_store

    try:
        st = bell_state(get_store(), current_owner())
    except Exception:  # noqa: BLE001 - the bell never breaks a page
        log.exception("bell")
        return (no_update,) * 7
    text = "99+" if st.unread > 99 else (str(st.unread) if st.unread else "")
    style = bell_badge_style(st.unread)
    if seen is None or st.newest is None or st.newest_id <= int(seen):
        # first look on this page load: remember, no toast for what was already there
        new_seen = max(int(seen or 0), st.newest_id)
        return text, style, no_update, no_update, no_update, no_update, new_seen
    header, body, icon = toast_children(st.newest, more=st.unread - 1)
    return text, style, True, header, body, icon, st.newest_id
