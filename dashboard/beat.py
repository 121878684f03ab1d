"""Scheduled jobs on Celery beat (team mode): each job runs once per deployment, not per worker.

With several gunicorn workers an in-process scheduler would run every job once per worker;
the app therefore starts none when Redis is configured (:func:`dashboard._start_scheduler`).
:func:`configure` instead registers every module of :mod:`dashboard.jobs` on the Celery app:
each module's ``register(scheduler, settings)`` is handed a small adapter with APScheduler's
``add_job`` signature, so the daily update, the weekly retrain, the daily backup and any job
added later run from the one ``celery beat`` process, executed by whichever Celery worker
takes the task. Job arguments stay in the worker (they are bound at registration in every
process), only the task name travels through Redis.

Run exactly one beat: ``celery -A app.celery_app beat`` (``deploy/`` has the units).
"""

from __future__ import annotations

import importlib
import logging
import re

from dashboard.settings import Settings

__all__ = ["configure", "BeatScheduler", "TIMEZONE"]

log = logging.getLogger(__name__)
TIMEZONE = "America/Sao_Paulo"
_APS_DOW = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _dow(expr: str) -> str:
    """APScheduler day-of-week (0 = Monday) to cron names (digits are ambiguous)."""
    out = []
    for part in str(expr).split(","):
        bits = part.split("-")
        out.append("-".join(_APS_DOW[int(b)] if b.isdigit() else b for b in bits))
    return ",".join(out)


class BeatScheduler:
    """APScheduler-like ``add_job`` that fills ``celery_app.conf.beat_schedule``."""

    def __init__(self, celery_app) -> None:
        self.celery_app = celery_app
        self.jobs: dict[str, dict] = {}

    def add_job(self, func, trigger="cron", *, args=(), kwargs=None, id=None, name=None, **kw):  # noqa: A002
        """Register ``func`` as a Celery task and schedule it with a crontab."""
        from celery.schedules import crontab

        fields = {"minute": "*", "hour": "*", "day_of_week": "*", "day": "*", "month": "*"}
        if isinstance(trigger, str):
            if trigger != "cron":
                log.warning("job %s: trigger %r is not supported on Celery beat", id, trigger)
                return None
            for k in fields:
                if k in kw:
                    fields[k] = str(kw.pop(k))
        else:  # an APScheduler CronTrigger
            for f in getattr(trigger, "fields", []):
                if f.name in fields:
                    fields[f.name] = str(f)
        job_id = id or func.__name__
        task_name = f"pregao.jobs.{job_id}"
        bound_args, bound_kwargs = tuple(args or ()), dict(kwargs or {})

        def run_job():
            return func(*bound_args, **bound_kwargs)

        run_job.__name__ = "run_" + re.sub(r"\W", "_", job_id)
        self.celery_app.task(name=task_name, ignore_result=True, shared=False)(run_job)
        entry = {
            "task": task_name,
            "schedule": crontab(
                minute=fields["minute"],
                hour=fields["hour"],
                day_of_week=_dow(fields["day_of_week"]),
                day_of_month=fields["day"],
                month_of_year=fields["month"],
            ),
            "options": {"expires": 3600},
        }
        self.celery_app.conf.beat_schedule[job_id] = entry
        self.jobs[job_id] = {"task": task_name, "name": name or job_id, **fields}
        return entry


def configure(celery_app, settings: Settings) -> BeatScheduler:
    """Register every :mod:`dashboard.jobs` module's jobs on ``celery_app`` (beat + tasks)."""
    from dashboard.scheduler import job_modules

    celery_app.conf.timezone = TIMEZONE
    celery_app.conf.enable_utc = True
    if celery_app.conf.beat_schedule is None:
        celery_app.conf.beat_schedule = {}
    sched = BeatScheduler(celery_app)
    for mod_name in job_modules():
        module = importlib.import_module(f"dashboard.jobs.{mod_name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sched, settings)
    return sched
