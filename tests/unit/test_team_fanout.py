"""Issue 15 fan-out: the chunk task on a Celery app (run in process here; real workers in
``tests/integration/test_fanout_workers.py``)."""

from __future__ import annotations

import pytest

from dashboard import fanout


@pytest.fixture
def fresh_state(monkeypatch):
    monkeypatch.setattr(fanout, "_state", {"app": None, "key": b"", "enabled": False})


def _app():
    from celery import Celery

    return Celery("pregao-test", broker="memory://", backend="cache+memory://")


def test_team_mode_only_and_never_without_a_secret(fresh_state):
    app = _app()
    fanout.register(app, "")
    assert fanout.TASK not in app.tasks and fanout.mapper() is None
    fanout.register(app, "s" * 48, enabled=False)  # local mode with Redis: the task, no fan-out
    assert fanout.TASK in app.tasks and fanout.mapper() is None
    fanout.register(app, "s" * 48, enabled=True)
    assert callable(fanout.mapper()) and app.conf.worker_prefetch_multiplier == 1


def test_the_task_runs_only_allowed_functions_on_signed_chunks(fresh_state, monkeypatch):
    assert "core.backtest.optimize:_window_study" in fanout.ALLOWED
    monkeypatch.setattr(fanout, "ALLOWED", frozenset({"json:dumps"}))  # a cheap stand-in
    app = _app()
    fanout.register(app, "s" * 48)
    key = fanout._state["key"]
    task = app.tasks[fanout.TASK]
    assert fanout.unsign(task("json:dumps", fanout.sign({"a": 1}, key)), key) == '{"a": 1}'
    with pytest.raises(ValueError, match="signature"):
        task("json:dumps", fanout.sign({"a": 1}, b"x" * 32))
    with pytest.raises(ValueError, match="not allowed"):
        task("builtins:eval", fanout.sign("1+1", key))
