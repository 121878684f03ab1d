"""Weekly model retrain: the same :func:`core.ml.training.retrain` as the CLI and the page.

``PREGAO_ML_RETRAIN`` sets the day and time (``"sun 20:00"`` America/Sao_Paulo by
default; ``off`` disables it). The job retrains the champion's recipe (or pooled XGBoost
on every stock when there is no champion), promotes the new model only if it passes the
approval gates (``PREGAO_ML_GATES``), then logs the new predictions.
"""

from __future__ import annotations

import logging

from dashboard.settings import Settings

__all__ = ["register", "run_retrain", "JOB_ID"]

log = logging.getLogger(__name__)
JOB_ID = "ml-weekly-retrain"


def run_retrain(settings: Settings, progress=None) -> dict:
    """Retrain now (what the scheduler calls, and the page's "Retreinar agora").

    The same request and runner as ``python -m dashboard retrain``: retrain, promote if the
    gates pass, then refresh the champion's predictions
    (:func:`core.ml.training.retrain_and_refresh`).
    """
    from core.requests import build_retrain_request, run_retrain_request
    from dashboard import runtime

    req = build_retrain_request(data_dir=settings.data_dir, gates=settings.ml_gates)
    res = run_retrain_request(runtime.get_store(), req, progress=progress)
    log.info("Weekly retrain: %s", res["message"])
    return res


def register(scheduler, settings: Settings) -> None:
    """Add the weekly retrain to an APScheduler scheduler (no-op when ``ml_retrain == "off"``)."""
    from apscheduler.triggers.cron import CronTrigger

    spec = (getattr(settings, "ml_retrain", "") or "sun 20:00").strip().lower()
    if spec == "off":
        return
    day, hhmm = spec.split()
    hour, minute = (int(x) for x in hhmm.split(":"))
    scheduler.add_job(
        run_retrain,
        CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone="America/Sao_Paulo"),
        args=[settings],
        id=JOB_ID,
        name="Retreino semanal dos modelos",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
    )
