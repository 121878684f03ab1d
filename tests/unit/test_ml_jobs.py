"""The weekly retrain job registers on a plain APScheduler and calls the core function."""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler

from dashboard.jobs import retrain as job
from dashboard.settings import load_settings


def test_register_adds_weekly_cron_job(tmp_path):
    s = load_settings(
        {"PREGAO_DATA_DIR": str(tmp_path), "PREGAO_ML_RETRAIN": "sat 07:30"}, env_file=None
    )
    sched = BackgroundScheduler(timezone="America/Sao_Paulo")
    job.register(sched, s)
    j = sched.get_job(job.JOB_ID)
    assert j is not None and j.func is job.run_retrain
    fields = {f.name: str(f) for f in j.trigger.fields}
    assert fields["day_of_week"] == "sat" and fields["hour"] == "7" and fields["minute"] == "30"
    off = load_settings(
        {"PREGAO_DATA_DIR": str(tmp_path), "PREGAO_ML_RETRAIN": "off"}, env_file=None
    )
    sched2 = BackgroundScheduler()
    job.register(sched2, off)
    assert sched2.get_jobs() == []


def test_run_retrain_calls_core_retrain(tmp_path, monkeypatch, empty_store):
    calls = {}

    def fake_retrain(store, artifact_dir, *, gates, **kw):
        calls["args"] = (store, artifact_dir, gates)
        return {"message": "ok", "promoted": False}

    import core.ml.training as training
    from dashboard import runtime

    monkeypatch.setattr(training, "retrain", fake_retrain)
    monkeypatch.setattr(runtime, "get_store", lambda: empty_store)
    s = load_settings(
        {"PREGAO_DATA_DIR": str(tmp_path), "PREGAO_ML_GATES": "min_accuracy=0.6"}, env_file=None
    )
    assert job.run_retrain(s)["message"] == "ok"
    store, art, gates = calls["args"]
    assert store is empty_store and art == tmp_path / "models" and gates.min_accuracy == 0.6


def test_invalid_ml_settings_are_rejected(tmp_path):
    import pytest

    from dashboard.settings import SettingsError

    with pytest.raises(SettingsError, match="ML_RETRAIN"):
        load_settings({"PREGAO_ML_RETRAIN": "someday"}, env_file=None)
    with pytest.raises(SettingsError, match="ML_GATES"):
        load_settings({"PREGAO_ML_GATES": "speed=3"}, env_file=None)
