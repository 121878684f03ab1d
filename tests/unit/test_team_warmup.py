"""Issue 15 (load): with Celery, the backtest kernels are warmed in the Celery worker (where
backtests run), never in the web workers; locally, in the app's own process."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import dashboard

WARM = SimpleNamespace(warm=True)


def _join(prefix: str) -> None:
    for t in threading.enumerate():
        if t.name.startswith(prefix):
            t.join(30)


def test_web_workers_of_a_celery_deployment_do_not_warm_the_backtest(monkeypatch):
    from celery import signals

    warmed = []
    monkeypatch.setattr(dashboard, "_warm_backtest", lambda: warmed.append(1))
    monkeypatch.setattr(dashboard, "_warm_page_reads", lambda: None)
    before = list(signals.worker_ready.receivers)
    # only this test's receiver: an app an earlier test of this process created with Celery
    # has connected its own (it would warm once more on the same signal)
    signals.worker_ready.receivers[:] = []
    try:
        dashboard._warm_kernels(WARM, object())
        _join("warm-kernels")
        assert warmed == []  # the web process: page reads only
        signals.worker_ready.send(sender=None)  # the Celery worker is ready
        _join("warm-backtest")
        assert warmed == [1]
    finally:
        signals.worker_ready.receivers[:] = before


def test_local_mode_warms_the_backtest_in_the_app(monkeypatch):
    warmed = []
    monkeypatch.setattr(dashboard, "_warm_backtest", lambda: warmed.append(1))
    monkeypatch.setattr(dashboard, "_warm_page_reads", lambda: None)
    dashboard._warm_kernels(WARM, None)
    _join("warm-kernels")
    assert warmed == [1]
