"""The scheduler: job discovery, the daily update's trigger, and the PREGAO_SCHEDULER gate."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from core.data.sources.yahoo import YahooSource
from dashboard.jobs import data_update
from dashboard.scheduler import build_scheduler, job_modules
from dashboard.settings import SettingsError, load_settings


def test_daily_update_registered_after_close():
    s = load_settings(env={"PREGAO_UPDATE_TIME": "19:05"}, env_file=None)
    assert "data_update" in job_modules()
    sched = build_scheduler(s)
    sched.start(paused=True)
    try:
        job = sched.get_job("data_update")
        assert job is not None and job.func is data_update.run_update
        nxt = job.trigger.get_next_fire_time(
            None, dt.datetime(2024, 11, 15, 12, 0, tzinfo=sched.timezone)
        )
        assert (nxt.hour, nxt.minute, nxt.weekday()) == (19, 5, 4)
        sat = job.trigger.get_next_fire_time(
            None, dt.datetime(2024, 11, 16, 12, 0, tzinfo=sched.timezone)
        )
        assert sat.weekday() == 0  # weekends skipped
        assert str(sched.timezone) == "America/Sao_Paulo"
    finally:
        sched.shutdown(wait=False)


def test_scheduler_setting():
    assert load_settings(env={}, env_file=None).scheduler is True
    assert load_settings(env={"PREGAO_SCHEDULER": "0"}, env_file=None).scheduler is False
    team = load_settings(env={"PREGAO_MODE": "team", "PREGAO_SECRET_KEY": "x"}, env_file=None)
    assert team.scheduler is False
    with pytest.raises(SettingsError, match="SCHEDULER"):
        load_settings(env={"PREGAO_SCHEDULER": "talvez"}, env_file=None)


def test_run_update_offline_never_raises(monkeypatch, tmp_path):
    import core.data.imports as imports
    from dashboard import runtime

    monkeypatch.setattr(
        imports, "make_source", lambda name: YahooSource(download=lambda *a, **k: pd.DataFrame())
    )
    settings = load_settings(env={"PREGAO_DATA_DIR": str(tmp_path)}, env_file=None)
    monkeypatch.setattr(runtime, "_store", None)
    monkeypatch.setattr(runtime, "_settings", settings)
    msg = data_update.run_update()
    assert "inacessível" in msg
