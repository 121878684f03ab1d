"""Unattended strategy runners: one per paper account, a thread in local mode, a Celery task
in team mode (issue 12).

The page (``/trading``) and any other front end call :func:`start_runner` and
:func:`stop_runner`; the state lives in the database (:mod:`core.trading.runner`), so the
page reads the progress with :func:`core.trading.runner.runner_status` whichever process
runs it. A runner that died (a crash, ``kill -9``, a redeploy) resumes after its last
processed bar when started again.

Team mode: the task ``pregao.paper.run`` is registered on the Celery app by
:func:`register_celery_task` (called from :func:`dashboard.background.make_manager`); the
worker opens the store from its own settings. The alerts' per-bar evaluation
(:func:`core.alerts.engine.evaluate_bar`) is attached as an ``on_bar`` hook when that module
exists.
"""

from __future__ import annotations

import logging
import threading

from core.errors import InputError

__all__ = ["start_runner", "stop_runner", "register_celery_task", "running_threads", "TASK_NAME"]

log = logging.getLogger(__name__)

#: Celery task name of a runner.
TASK_NAME = "pregao.paper.run"

_THREADS: dict[str, threading.Thread] = {}
_LOCK = threading.Lock()
_CELERY = None


def _hooks(spec: dict) -> list:
    """The alerts' hooks of the runner (bar rules, account rules, daily summary)."""
    from core.alerts.engine import runner_hooks

    return runner_hooks(spec["account"], spec["tickers"])


def _run(store, spec: dict) -> None:
    from core.backtest.engine import EngineConfig
    from core.trading.runner import StrategyRunner

    runner = StrategyRunner(
        store,
        spec["account"],
        spec["strategy"],
        spec["tickers"],
        spec.get("params") or {},
        EngineConfig.from_dict(spec["engine"]) if spec.get("engine") else None,
        _feed(spec),
        _hooks(spec),
        start=spec.get("start"),
        end=spec.get("end"),
        speed=spec.get("speed"),
        feed_kind=spec.get("feed", "replay"),
        interval=spec.get("interval") or "1d",
    )
    runner.run()


def _feed(spec: dict):
    kind = spec.get("feed", "replay")
    if kind == "yahoo":
        from core.trading.feeds import YahooFeed

        return YahooFeed(spec["tickers"])
    if kind == "mt5":
        from core.trading.feeds import MT5Feed

        return MT5Feed(spec["tickers"])
    return None


def running_threads() -> list[str]:
    """Accounts whose runner thread is alive in this process."""
    with _LOCK:
        return [a for a, t in _THREADS.items() if t.is_alive()]


def start_runner(
    store,
    account: str,
    strategy: str,
    tickers: list[str],
    params: dict | None = None,
    engine=None,
    *,
    start=None,
    end=None,
    speed: float | None = None,
    feed: str = "replay",
    settings=None,
    interval: str = "1d",
) -> str:
    """Start (or resume) the runner of ``account`` in the background (``interval``: the bars
    replayed, ``1d`` or intraday such as ``5min``).

    The settings are validated here, in the caller (a bad option fails at once, in pt-BR),
    by building the :class:`core.trading.runner.StrategyRunner` once.

    Returns
    -------
    str
        ``"thread"`` or ``"celery"``.

    Raises
    ------
    InputError
        A runner of this account is already running, or bad settings.
    """
    from core.trading.runner import StrategyRunner, runner_status

    st = runner_status(store, account)
    with _LOCK:
        alive = account in _THREADS and _THREADS[account].is_alive()
    if alive or (st is not None and st.status == "parando"):
        raise InputError(f"O robô da conta {account} já está rodando.")
    StrategyRunner(  # validates and attaches (no bar processed)
        store,
        account,
        strategy,
        tickers,
        params,
        engine,
        _feed({"feed": feed, "tickers": tickers}),
        start=start,
        end=end,
        speed=speed,
        feed_kind=feed,
        interval=interval,
    )
    spec = {
        "account": account,
        "strategy": strategy,
        "tickers": list(tickers),
        "params": dict(params or {}),
        "engine": None if engine is None else engine.to_dict(),
        "start": None if start is None else str(start),
        "end": None if end is None else str(end),
        "speed": speed,
        "feed": feed,
        "interval": interval,
    }
    team = settings is not None and getattr(settings, "mode", "local") == "team"
    if team and _CELERY is not None:
        _CELERY.send_task(TASK_NAME, kwargs={"spec": spec})
        return "celery"

    def target():
        try:
            _run(store, spec)
        except Exception:  # noqa: BLE001 - stored as the runner's error status
            log.exception("runner of %s failed", account)

    th = threading.Thread(target=target, name=f"paper-runner-{account}", daemon=True)
    with _LOCK:
        _THREADS[account] = th
    th.start()
    return "thread"


def stop_runner(store, account: str) -> bool:
    """Ask the runner of ``account`` to stop after its current bar (thread or Celery)."""
    from core.trading.runner import request_stop

    return request_stop(store, account)


def register_celery_task(celery_app, settings) -> None:
    """Register ``pregao.paper.run`` on ``celery_app`` (team mode)."""
    global _CELERY
    _CELERY = celery_app

    def run_paper(spec: dict) -> None:
        from core.data.store import init_db

        store = init_db(settings.database_url)
        try:
            _run(store, spec)
        finally:
            store.dispose()

    celery_app.task(name=TASK_NAME, ignore_result=True, shared=False)(run_paper)
