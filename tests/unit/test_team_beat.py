"""Scheduled jobs on Celery beat: every dashboard.jobs module, once, as named tasks."""

from __future__ import annotations

from celery import Celery

from dashboard.beat import configure
from dashboard.settings import load_settings


def test_every_job_module_is_on_the_beat_schedule_with_its_time():
    app = Celery("t", broker="memory://", backend="cache+memory://")
    s = load_settings(
        env={"PREGAO_BACKUP_TIME": "03:00", "PREGAO_UPDATE_TIME": "18:30"}, env_file=None
    )
    sched = configure(app, s)
    sch = app.conf.beat_schedule
    assert {"data_update", "backup"} <= set(sch)
    assert sched.jobs["backup"]["hour"] == "3" and sched.jobs["backup"]["minute"] == "0"
    assert sched.jobs["data_update"]["hour"] == "18" and sched.jobs["data_update"]["minute"] == "30"
    cron = sch["data_update"]["schedule"]
    assert cron.day_of_week == {1, 2, 3, 4, 5}  # Monday to Friday (celery: 0 = Sunday)
    for entry in sch.values():
        assert entry["task"] in app.tasks  # the worker that imports the app knows the task
    assert app.conf.timezone == "America/Sao_Paulo"
    retrain = [j for j in sched.jobs.values() if "retrain" in j["task"]]
    assert retrain and retrain[0]["day_of_week"] == "sun"


def test_backup_off_removes_the_job():
    app = Celery("t", broker="memory://")
    configure(app, load_settings(env={"PREGAO_BACKUP_TIME": "off"}, env_file=None))
    assert "backup" not in app.conf.beat_schedule
