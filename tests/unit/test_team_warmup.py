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


def test_page_reads_warm_the_quotes_default_view_after_mercado(monkeypatch):
    """Issue 11: Cotações' first visit found its default view (PETR4, as the menu link and
    ``?ticker=PETR4`` ask for it) uncomputed; the warm-up now reads it right after Mercado's
    snapshot, with the page's own request and limit (the same read-cache key). The readers
    are stand-in modules (importing the real ones costs seconds)."""
    import sys

    import core.quotes
    import dashboard.runtime

    calls = []
    store = object()

    def module(**funcs):
        return SimpleNamespace(**funcs)

    monkeypatch.setattr(dashboard.runtime, "get_store", lambda: store)
    monkeypatch.setitem(
        sys.modules, "core.market", module(market_snapshot=lambda s: calls.append("market"))
    )
    monkeypatch.setitem(
        sys.modules, "core.portfolio", module(most_liquid=lambda s, n: calls.append("liquid"))
    )
    monkeypatch.setitem(
        sys.modules,
        "core.data.quality",
        module(quality_report=lambda s: calls.append("quality")),
    )
    monkeypatch.setattr(
        core.quotes, "quote_view", lambda s, req, limit=None: calls.append((req, limit))
    )
    dashboard._warm_page_reads()
    want = core.quotes.QuoteRequest.from_query({"ticker": "PETR4"})
    assert calls[0] == "market"
    assert calls[1] == (want, core.quotes.DETAIL_LIMIT)
    assert "quality" in calls and "liquid" in calls
