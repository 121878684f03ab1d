"""Fan-out of heavy, independent chunks over Celery workers (team mode).

:func:`core.backtest.optimize.walk_forward` (its windows' Optuna searches and the stability
heatmap's rows), :func:`~core.backtest.optimize.sweep` and the portfolio out-of-sample test
:func:`core.portfolio.walkforward.walk_forward` (its rebalances' optimisations) take a ``mapper``
(:data:`core.backtest.optimize.Mapper`). In team mode, :func:`mapper` returns one that sends
every chunk as a Celery task (:data:`TASK`) and gathers the results in order, so adding a
worker machine shortens a walk-forward; in local mode (or without Redis) it returns None and
everything runs in the process, as before.

* **Same result**: chunks are pure functions of their inputs (each window's study has its
  own seed), so the result does not depend on where or in which order they ran
  (``tests/integration/test_fanout_workers.py`` compares two real workers with one process).
* **Never stuck**: the caller is usually itself a job on a Celery worker (a page's
  background callback). While it waits it takes back ("steals") chunks no worker has started
  — revoking their tasks — and computes them itself, newest first. With a single worker
  (busy with the job), every chunk runs in the job, as in local mode; every extra worker
  takes chunks off it. A chunk whose task failed is recomputed in the caller (its error, if
  real, surfaces there).
* **Signed payloads**: chunks carry DataFrames, so they travel as pickles — each one signed
  with an HMAC keyed from ``PREGAO_SECRET_KEY`` (shared by web and workers) and checked
  before unpickling, in both directions; the task runs only the functions of
  :data:`ALLOWED`. The Celery messages themselves stay JSON.
* Workers take one task at a time (``worker_prefetch_multiplier=1``), so chunks spread over
  workers instead of queueing behind one that prefetched them (fair to long jobs too).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import logging
import pickle
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

__all__ = ["TASK", "ALLOWED", "register", "mapper", "celery_map", "sign", "unsign"]

#: Celery task name of one chunk.
TASK = "pregao.fanout.chunk"
#: The only functions a chunk task runs (``module:qualname``).
ALLOWED = frozenset(
    {
        "core.backtest.optimize:_window_study",
        "core.backtest.optimize:_heatmap_row",
        "core.backtest.optimize:_sweep_chunk",
        "core.portfolio.walkforward:_rebalance_targets",
    }
)
_POLL_S = 0.05
_state: dict = {"app": None, "key": b"", "enabled": False}
#: Where the chunks of the last :func:`celery_map` ran: ``{"worker": k, "here": m}``.
last_stats: dict = {}


def _key(secret: str) -> bytes:
    return hashlib.sha256(b"pregao-fanout\0" + secret.encode()).digest()


def sign(obj, key: bytes) -> str:
    """Pickle ``obj`` and prefix an HMAC-SHA256 of the bytes; base64 text (JSON-safe)."""
    raw = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return base64.b64encode(hmac.digest(key, raw, "sha256") + raw).decode("ascii")


def unsign(blob: str, key: bytes):
    """Inverse of :func:`sign`; raises ValueError (before unpickling) on a bad signature."""
    data = base64.b64decode(blob.encode("ascii"))
    mac, raw = data[:32], data[32:]
    if not key or not hmac.compare_digest(mac, hmac.digest(key, raw, "sha256")):
        raise ValueError("fan-out payload with a bad signature refused")
    return pickle.loads(raw)  # noqa: S301 - authenticated above


def _path(func: Callable) -> str:
    return f"{func.__module__}:{func.__qualname__}"


def _resolve(path: str) -> Callable:
    if path not in ALLOWED:
        raise ValueError(f"fan-out function not allowed: {path}")
    mod, _, name = path.partition(":")
    return getattr(importlib.import_module(mod), name)


def register(celery_app, secret_key: str, *, enabled: bool = True) -> None:
    """Register :data:`TASK` on ``celery_app`` (web and workers call it at start-up).

    Parameters
    ----------
    celery_app : celery.Celery
    secret_key : str
        ``PREGAO_SECRET_KEY``; without one nothing is registered and :func:`mapper` is None.
    enabled : bool
        Whether :func:`mapper` hands out a Celery mapper (team mode) — the task is registered
        either way so a worker can serve any web process.
    """
    if not secret_key:
        return
    key = _key(secret_key)
    _state.update(app=celery_app, key=key, enabled=bool(enabled))
    celery_app.conf.worker_prefetch_multiplier = 1

    if TASK in celery_app.tasks:
        return

    @celery_app.task(name=TASK, shared=False)  # this app only, not every later app
    def chunk(path: str, blob: str) -> str:
        k = _state["key"]
        return sign(_resolve(path)(unsign(blob, k)), k)


def mapper():
    """The mapper for this process: a Celery one in team mode with Redis, else None."""
    if not _state["enabled"] or _state["app"] is None:
        return None
    app, key = _state["app"], _state["key"]

    def run(func, items, on_done=None):
        return celery_map(app, key, func, items, on_done)

    return run


def celery_map(
    celery_app, key: bytes, func: Callable, items: list, on_done=None, *, steal_after: float = 0.0
) -> list:
    """``[func(x) for x in items]`` with the chunks spread over Celery workers.

    Parameters
    ----------
    celery_app : celery.Celery
    key : bytes
        The signing key (:func:`register` derives it from the secret key).
    func : callable
        A function of :data:`ALLOWED`.
    items : list
        Picklable chunks.
    on_done : callable, optional
        ``on_done(k, n)`` as chunks finish.
    steal_after : float
        Seconds before the caller starts taking back chunks no worker has started (0: at
        once — the caller would otherwise idle).

    Returns
    -------
    list
        The results in the order of ``items``. :data:`last_stats` says where chunks ran.
    """
    items = list(items)
    n = len(items)
    path = _path(func)
    _resolve(path)
    if n <= 1:
        out = [func(x) for x in items]
        if on_done is not None and n:
            on_done(1, 1)
        return out
    sent = [celery_app.send_task(TASK, args=[path, sign(x, key)]) for x in items]
    results: list = [None] * n
    left = set(range(n))
    where = {"worker": 0, "here": 0}
    t0 = time.monotonic()

    def finish(i: int, value, here: bool) -> None:
        results[i] = value
        left.discard(i)
        where["here" if here else "worker"] += 1
        if on_done is not None:
            on_done(n - len(left), n)

    try:
        while left:
            moved = False
            for i in sorted(left):
                ar = sent[i]
                if ar.ready():
                    if ar.successful():
                        finish(i, unsign(ar.result, key), False)
                    else:
                        log.warning("fan-out chunk %d failed on a worker: recomputing here", i)
                        finish(i, func(items[i]), True)
                    ar.forget()
                    moved = True
            if not left:
                break
            stealing = time.monotonic() - t0 >= steal_after
            for i in sorted(left, reverse=True) if stealing else ():  # a chunk nobody started
                if sent[i].state == "PENDING":
                    sent[i].revoke()
                    finish(i, func(items[i]), True)
                    moved = True
                    break
            if not moved:
                time.sleep(_POLL_S)
    finally:
        for i in left:  # an error here: nobody needs the rest
            sent[i].revoke()
    last_stats.clear()
    last_stats.update(where)
    log.info("fan-out of %s: %d chunks on workers, %d here", path, where["worker"], where["here"])
    return results
