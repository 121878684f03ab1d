"""The background-callback manager, chosen in one place from the settings.

* local mode (no ``PREGAO_REDIS_URL``): :class:`dash.DiskcacheManager` on ``CACHE_DIR``;
* with a Redis URL (team mode): :class:`dash.CeleryManager` on a Celery app whose broker and
  result backend are that Redis. Start a worker with
  ``celery -A app.celery_app worker --loglevel=info``.

``cache_by=[lambda: LAUNCH_UID]`` makes cached results reset at every launch of the app.
"""

from __future__ import annotations

import uuid

from dashboard.settings import Settings

__all__ = ["make_manager", "LAUNCH_UID"]

#: Changes every time the app process starts; background results are cached per launch.
LAUNCH_UID = uuid.uuid4().hex


def make_manager(settings: Settings):
    """Return ``(manager, celery_app_or_None)`` for ``settings``."""
    if settings.redis_url:
        from celery import Celery
        from dash import CeleryManager

        celery_app = Celery(
            "pregao", broker=settings.redis_url, backend=settings.redis_url
        )
        celery_app.conf.update(task_track_started=True, broker_connection_retry_on_startup=True)
        return CeleryManager(celery_app, cache_by=[lambda: LAUNCH_UID], expire=3600), celery_app
    import diskcache
    from dash import DiskcacheManager

    cache_dir = settings.cache_dir or settings.data_dir / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache = diskcache.Cache(str(cache_dir))
    return DiskcacheManager(cache, cache_by=[lambda: LAUNCH_UID], expire=3600), None
