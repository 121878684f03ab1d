"""A bare Celery app with the fan-out task, for ``tests/integration/test_fanout_workers.py``.

Workers: ``celery -A tests.fanout_celery.celery_app worker`` with ``PREGAO_REDIS_URL`` and
``PREGAO_SECRET_KEY`` in the environment (the real app registers the same task in
:func:`dashboard.background.make_manager`).
"""

from __future__ import annotations

import os

from celery import Celery

from dashboard import fanout

celery_app = Celery(
    "pregao", broker=os.environ["PREGAO_REDIS_URL"], backend=os.environ["PREGAO_REDIS_URL"]
)
celery_app.conf.update(task_track_started=True, broker_connection_retry_on_startup=True)
fanout.register(celery_app, os.environ["PREGAO_SECRET_KEY"])


@celery_app.task(name="tests.fanout.job")
def job(n: int):
    """A job on a worker that fans out itself (as a page's walk-forward job does)."""
    from core.backtest.optimize import _sweep_chunk

    items = [("sma_cross", [], {}, None, None)] * n
    out = fanout.celery_map(celery_app, fanout._state["key"], _sweep_chunk, items)
    return [len(out), dict(fanout.last_stats)]
