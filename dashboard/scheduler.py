"""Scheduled jobs (APScheduler) run inside the app in local mode.

:func:`build_scheduler` creates a :class:`~apscheduler.schedulers.background.BackgroundScheduler`
in America/Sao_Paulo and lets every module of :mod:`dashboard.jobs` add its jobs: each module
defines ``register(scheduler, settings)``. Jobs call the same ``core`` functions as the pages
and the CLI (e.g. :func:`core.data.imports.update_prices`).

:func:`create_app <dashboard.create_app>` starts it only in local mode with
``PREGAO_SCHEDULER`` on (the default), never under pytest, and once under Dash's debug
reloader. In team mode run the jobs from cron or a Celery beat instead (one process only).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil

from apscheduler.schedulers.background import BackgroundScheduler

import dashboard.jobs
from dashboard.settings import Settings

__all__ = ["build_scheduler", "TIMEZONE", "job_modules"]

log = logging.getLogger(__name__)

#: Time zone of every scheduled job (B3's).
TIMEZONE = "America/Sao_Paulo"


def job_modules() -> list[str]:
    """Names of the modules in :mod:`dashboard.jobs`, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(dashboard.jobs.__path__))


def build_scheduler(settings: Settings) -> BackgroundScheduler:
    """A (not yet started) scheduler with the jobs of every :mod:`dashboard.jobs` module.

    Parameters
    ----------
    settings : Settings
        Passed to each module's ``register(scheduler, settings)``.

    Returns
    -------
    BackgroundScheduler
        Time zone America/Sao_Paulo; jobs coalesce missed runs and never overlap.
    """
    sched = BackgroundScheduler(
        timezone=TIMEZONE,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    for name in job_modules():
        module = importlib.import_module(f"dashboard.jobs.{name}")
        register = getattr(module, "register", None)
        if register is None:
            log.warning("dashboard.jobs.%s has no register(scheduler, settings): skipped", name)
            continue
        register(sched, settings)
    return sched
