"""Scheduled alert jobs (America/Sao_Paulo): the 17:30 daily summary and the account watch.

* ``alerts-daily-summary`` — weekdays at :data:`core.alerts.engine.SUMMARY_TIME` (17:30,
  seed 002): :func:`core.alerts.engine.run_daily_summary` (nothing on B3 holidays; once per
  session even if run twice).
* ``alerts-account-watch`` — every minute from 10:00 to 18:59 on weekdays:
  :func:`core.alerts.engine.evaluate_account_events` (fills, stops, targets, limits,
  drawdown thresholds of paper accounts traded by hand, outside a runner).

The bar rules run after the scheduled data update (:mod:`dashboard.jobs.data_update`) and
on each bar of a paper runner (``on_bar`` hook). Errors are logged, never raised into the
scheduler.
"""

from __future__ import annotations

import logging

from dashboard.settings import Settings

__all__ = ["register", "run_summary", "run_account_watch", "run_after_update"]

log = logging.getLogger(__name__)
SUMMARY_JOB_ID = "alerts-daily-summary"
WATCH_JOB_ID = "alerts-account-watch"


def run_summary() -> int:
    """Send today's summary (returns the number of new firings)."""
    from core.alerts.engine import run_daily_summary
    from dashboard.runtime import get_store

    try:
        return sum(1 for f in run_daily_summary(get_store()) if f.new)
    except Exception:  # noqa: BLE001 - a job never kills the scheduler
        log.exception("alerts: daily summary failed")
        return 0


def run_account_watch() -> int:
    """Evaluate the paper-account rules now (returns the number of new firings)."""
    from core.alerts.engine import evaluate_account_events
    from dashboard.runtime import get_store

    try:
        return sum(1 for f in evaluate_account_events(get_store()) if f.new)
    except Exception:  # noqa: BLE001
        log.exception("alerts: account watch failed")
        return 0


def run_after_update(store, failed: str | None = None) -> int:
    """After a data update: bar rules on the new bars and data health (or the failure).

    Called by :func:`dashboard.jobs.data_update.run_update`; returns the number of new
    firings and never raises.
    """
    from core.alerts.engine import check_data_health, evaluate_latest

    n = 0
    try:
        if failed is None:
            n += sum(1 for f in evaluate_latest(store) if f.new)
        n += sum(1 for f in check_data_health(store, failed=failed) if f.new)
    except Exception:  # noqa: BLE001
        log.exception("alerts: evaluation after the update failed")
    return n


def register(scheduler, settings: Settings) -> None:
    """Add the daily summary and the account watch to ``scheduler``."""
    from core.alerts.engine import SUMMARY_TIME

    hour, minute = (int(x) for x in SUMMARY_TIME.split(":"))
    scheduler.add_job(
        run_summary,
        "cron",
        day_of_week="mon-fri",
        hour=hour,
        minute=minute,
        id=SUMMARY_JOB_ID,
        name="Resumo diário dos alertas (17:30)",
        replace_existing=True,
    )
    scheduler.add_job(
        run_account_watch,
        "cron",
        day_of_week="mon-fri",
        hour="10-18",
        minute="*",
        id=WATCH_JOB_ID,
        name="Alertas das contas simuladas",
        replace_existing=True,
    )
