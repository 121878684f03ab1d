"""A bare Celery app with the paper runner task, for ``tests/integration/test_paper_celery.py``.

Workers: ``celery -A tests.paper_celery.celery_app worker -Q <queue>`` with
``PREGAO_REDIS_URL``, ``PREGAO_DATABASE_URL`` and ``PREGAO_TEST_PAPER_QUEUE`` in the
environment. The task is registered exactly as the app does it
(:func:`dashboard.background.make_manager` calls
:func:`dashboard.paper_runners.register_celery_task` with the app's settings); the queue is
the test's own, so no other worker on the same Redis takes its tasks.
"""

from __future__ import annotations

import os

from celery import Celery

from dashboard.paper_runners import register_celery_task
from dashboard.settings import load_settings

settings = load_settings(env_file=None)
celery_app = Celery("pregao", broker=settings.redis_url, backend=settings.redis_url)
celery_app.conf.update(
    task_track_started=True,
    broker_connection_retry_on_startup=True,
    task_default_queue=os.environ.get("PREGAO_TEST_PAPER_QUEUE", "celery"),
)
register_celery_task(celery_app, settings)
