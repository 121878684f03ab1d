"""The scheduled alert jobs: 17:30 summary and account watch registered in São Paulo time;
a failed data update fires the data-health rules."""

from __future__ import annotations

import pandas as pd

from core.alerts.engine import list_firings
from core.alerts.rules import Rule, add_rule
from dashboard.jobs import alerts as job
from dashboard.scheduler import build_scheduler, job_modules
from dashboard.settings import load_settings


def test_summary_at_1730_and_account_watch_registered():
    assert "alerts" in job_modules()
    sched = build_scheduler(load_settings(env={}, env_file=None))
    summary = sched.get_job(job.SUMMARY_JOB_ID)
    assert summary is not None and summary.func is job.run_summary
    fields = {f.name: str(f) for f in summary.trigger.fields}
    assert (fields["hour"], fields["minute"], fields["day_of_week"]) == ("17", "30", "mon-fri")
    assert str(summary.trigger.timezone) == "America/Sao_Paulo"
    watch = sched.get_job(job.WATCH_JOB_ID)
    assert watch is not None and {f.name: str(f) for f in watch.trigger.fields}["minute"] == "*"


def test_failed_update_fires_data_health_once(empty_store):
    add_rule(empty_store, Rule("dados", kind="data_health"))
    assert job.run_after_update(empty_store, failed="Yahoo inacessível") == 1
    assert job.run_after_update(empty_store, failed="Yahoo inacessível") == 0  # same session
    (f,) = list_firings(empty_store)
    assert f.event_key == "update_failed" and "Yahoo inacessível" in f.message
    assert f.severity == "critical" and f.bar_time == f.bar_time.normalize()
    assert isinstance(f.bar_time, pd.Timestamp)
