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
