"""Process-wide handles that pages and the CLI share: the settings and the store.

The store is an engine (a connection pool), safe to share between requests; no per-user
state lives here (per-user state is in ``dcc.Store``, the database or the cache).
"""

from __future__ import annotations

import logging
import threading

from core.data.store import Store, init_db
from dashboard.settings import Settings, load_settings

__all__ = ["configure", "get_settings", "get_store"]

log = logging.getLogger(__name__)
_lock = threading.Lock()
_settings: Settings | None = None
_store: Store | None = None


def configure(settings: Settings, *, load_data: bool = True) -> Store:
    """Open (and migrate) the database named by ``settings``; load the bundled data if empty.

    Raises
    ------
    core.errors.StoreError
        When the database cannot be opened (one line naming the redacted URL).
    """
    global _settings, _store
    with _lock:
        store = init_db(settings.database_url)
        if load_data:
            from core.data.bundled import load_bundled  # heavy (calendar, cleaning): lazily

            report = load_bundled(store)
            if report.loaded:
                log.info(
                    "Loaded the bundled B3 data: %d bars in %.1f s", report.bars, report.seconds
                )
        if _store is not None and _store is not store:
            _store.dispose()
        _settings, _store = settings, store
        return store


def get_settings() -> Settings:
    """The active settings (loaded from the environment on first use)."""
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def get_store() -> Store:
    """The active store (opened from the settings on first use)."""
    if _store is None:
        return configure(get_settings())
    return _store
