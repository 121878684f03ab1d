"""The daily backup (``PREGAO_BACKUP_TIME``, default 03:00 America/Sao_Paulo), 30 days kept.

Calls :func:`dashboard.backup.backup` then :func:`dashboard.backup.prune` — the same code as
``python -m dashboard backup``. In team mode Celery beat runs :func:`run_backup` (one
process for the whole deployment, :mod:`dashboard.beat`); locally the in-app scheduler does.
"""

from __future__ import annotations

import logging

from dashboard.settings import Settings

__all__ = ["JOB_ID", "register", "run_backup"]

log = logging.getLogger(__name__)

#: APScheduler id of the job.
JOB_ID = "backup"


def run_backup() -> str:
    """Back up the app's store and prune old backups; returns the message (also logged)."""
    from dashboard.backup import backup, prune
    from dashboard.runtime import get_settings, get_store

    settings = get_settings()
    try:
        res = backup(settings, get_store())
        gone = prune(res.path.parent, settings.backup_keep_days)
        msg = f"backup {res.path.name}: {res.bytes} bytes; {len(gone)} old backups pruned"
        log.info("scheduled %s", msg)
    except Exception as exc:  # a failed backup is logged loudly, never raised into the scheduler
        msg = f"backup failed: {exc}"
        log.error("scheduled %s", msg)
    return msg


def register(scheduler, settings: Settings) -> None:
    """Add the daily backup at ``settings.backup_time`` unless it is ``off``."""
    if settings.backup_time == "off":
        return
    hour, minute = (int(x) for x in settings.backup_time.split(":"))
    scheduler.add_job(
        run_backup,
        "cron",
        hour=hour,
        minute=minute,
        id=JOB_ID,
        name="Cópia de segurança diária",
        replace_existing=True,
    )
