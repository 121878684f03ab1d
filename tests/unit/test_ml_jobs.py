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


def test_page_button_cli_and_job_share_one_retrain_function(tmp_path, monkeypatch):
    """ "Retreinar agora", ``python -m dashboard retrain`` and the weekly job all run
    :func:`core.ml.training.retrain_and_refresh` (issue 11: one core function)."""
    import inspect

    import core.ml.training as training
    from dashboard.commands import ml as cli_ml

    calls = []

    def fake(store, artifact_dir, *, gates, progress=None, **kw):
        calls.append(progress)
        return {"message": "ok", "promoted": False, "gate_report": {"checks": []}}

    monkeypatch.setattr(training, "retrain_and_refresh", fake)
    from dashboard import runtime

    monkeypatch.setattr(runtime, "get_store", lambda: None)
    s = load_settings({"PREGAO_DATA_DIR": str(tmp_path)}, env_file=None)
    marks = []
    job.run_retrain(s, progress=lambda f, m: marks.append(m))
    assert len(calls) == 1 and calls[0] is not None  # the page passes its progress bar
    # the CLI goes through the same request runner as the job (core.requests)
    assert "run_retrain_request" in inspect.getsource(cli_ml.cmd_retrain)
    assert "run_retrain_request" in inspect.getsource(job.run_retrain)
    page_src = (__import__("pathlib").Path(__file__).parents[2] / "pages" / "models.py").read_text()
    assert "run_retrain(get_settings(), progress=job.progress)" in page_src
