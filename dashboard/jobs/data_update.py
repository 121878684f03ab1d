"""The daily market-data update after the B3 close (``PREGAO_UPDATE_TIME``, São Paulo time).

Calls :func:`core.data.imports.update_prices` with Yahoo, the same function as the Data
page's "Atualizar" button and ``python -m dashboard update``. An unreachable source is
logged (and recorded in the import log), never raised into the scheduler. Then the alert
rules are evaluated on the new bars and the data-health rules on the result
(:func:`dashboard.jobs.alerts.run_after_update`).
"""

from __future__ import annotations

import logging

from core.errors import PregaoError
from dashboard.settings import Settings

__all__ = ["JOB_ID", "register", "run_update"]

log = logging.getLogger(__name__)

#: APScheduler id of the job.
JOB_ID = "data_update"


def run_update(source: str = "yahoo") -> str:
    """Run one update on the app's store; returns the message (also logged)."""
    from core.requests import build_update_request, run_update_request
    from dashboard.jobs.alerts import run_after_update
    from dashboard.runtime import get_store

    store = get_store()
    try:
        rep = run_update_request(store, build_update_request(source))
        msg = rep.message() if rep.files else "Tudo atualizado."
        log.info("scheduled update: %s", msg)
        failed = (
            msg if getattr(rep, "errors", None) or getattr(rep, "status", "") == "failed" else None
        )
    except PregaoError as exc:
        msg = str(exc)
        log.warning("scheduled update failed: %s", msg)
        failed = msg
    run_after_update(store, failed)  # alert rules on the new bars; data health
    return msg


def register(scheduler, settings: Settings) -> None:
    """Add the daily update on weekdays at ``settings.update_time`` (America/Sao_Paulo)."""
    hour, minute = (int(x) for x in settings.update_time.split(":"))
    scheduler.add_job(
        run_update,
        "cron",
        day_of_week="mon-fri",
        hour=hour,
        minute=minute,
        id=JOB_ID,
        name="Atualização diária de cotações",
        replace_existing=True,
    )
