"""Issue 15: a walk-forward (strategy, and the portfolio out-of-sample test) spread over two
real Celery workers (Redis) gives exactly the result of one process, and a caller left without
free workers computes every chunk itself.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time

import pandas as pd
import pytest

from core.backtest.optimize import walk_forward
from tests.conftest import ROOT

pytestmark = [
    pytest.mark.integration,
    # each test reloads the helper app with its own secret key: the same task names again
    pytest.mark.filterwarnings("ignore:Task name"),
]

ARGS = ("sma_cross", ["PETR4", "VALE3"], "2014-01-01", "2021-12-30")
KW = dict(n_windows=3, n_trials=6, heatmap_size=3, seed=7)


@pytest.fixture
def fanout_env(tmp_path, redis_url, monkeypatch):
    url = redis_url.rsplit("/", 1)[0] + "/11"
    import redis

    redis.Redis.from_url(url).flushdb()
    secret = secrets.token_urlsafe(48)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREGAO_")}
    env.update(PREGAO_REDIS_URL=url, PREGAO_SECRET_KEY=secret, PYTHONUNBUFFERED="1")
    monkeypatch.setenv("PREGAO_REDIS_URL", url)
    monkeypatch.setenv("PREGAO_SECRET_KEY", secret)
    procs, logs = [], []
    for k in (1, 2):
        log = tmp_path / f"worker{k}.log"
        logs.append(log)
        procs.append(
            subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "tests.fanout_celery.celery_app",
                    "worker", "--pool=solo", "--loglevel=info", "-n", f"fanout{k}@%h",
                    "--without-heartbeat", "--without-gossip", "--without-mingle",
                ],
                cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
    deadline = time.time() + 90
    while not all("ready" in p.read_text() for p in logs):
        if time.time() > deadline or any(p.poll() is not None for p in procs):
            for p in procs:
                p.kill()
            pytest.fail("workers did not start:\n" + "\n".join(p.read_text() for p in logs))
        time.sleep(0.5)
    import importlib

    if "tests.fanout_celery" in sys.modules:  # this process: the same app and key as the workers
        app_mod = importlib.reload(sys.modules["tests.fanout_celery"])
    else:
        app_mod = importlib.import_module("tests.fanout_celery")
    yield app_mod.celery_app, logs, procs
    for p in procs:
        p.terminate()
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()


def test_two_workers_give_the_result_of_one_process(bundled_store, fanout_env):
    from dashboard import fanout

    app, logs, procs = fanout_env
    key = fanout._state["key"]

    def on_workers(func, items, on_done=None):  # the caller never takes a chunk back
        return fanout.celery_map(app, key, func, items, on_done, steal_after=600)

    t = time.perf_counter()
    one = walk_forward(bundled_store, *ARGS, **KW)
    t_one = time.perf_counter() - t
    t = time.perf_counter()
    spread = walk_forward(bundled_store, *ARGS, **KW, mapper=on_workers)
    t_cold = time.perf_counter() - t  # each worker compiles the engine (numba) once
    t = time.perf_counter()
    walk_forward(bundled_store, *ARGS, **KW, mapper=on_workers)
    t_two = time.perf_counter() - t
    print(
        f"\nwalk-forward: one process {t_one:.1f} s, two workers {t_two:.1f} s "
        f"(first run, cold workers: {t_cold:.1f} s)"
    )
    assert fanout.last_stats == {"worker": 3, "here": 0}  # the heatmap's 3 rows
    assert list(one.windows["params"]) == list(spread.windows["params"])
    pd.testing.assert_frame_equal(one.windows, spread.windows)
    pd.testing.assert_series_equal(one.oos_equity, spread.oos_equity)
    pd.testing.assert_frame_equal(one.oos_trades, spread.oos_trades)
    pd.testing.assert_frame_equal(one.heatmap, spread.heatmap)
    for log in logs:  # both workers took chunks
        assert "pregao.fanout.chunk" in log.read_text() and "succeeded" in log.read_text()

    # The portfolio out-of-sample test: its rebalances' optimisations on the workers.
    from core.portfolio import PortfolioSpec
    from core.portfolio import walk_forward as portfolio_walk_forward

    pf = (bundled_store, PortfolioSpec(), ["PETR4", "VALE3", "ITUB4", "ABEV3"])
    pf_kw = dict(universe="chosen", start="2021-01-01", lookback=504, rebalance="quarterly")
    pf_one = portfolio_walk_forward(*pf, **pf_kw)
    pf_two = portfolio_walk_forward(*pf, **pf_kw, mapper=on_workers)
    assert fanout.last_stats == {"worker": len(pf_one.rebalances), "here": 0}
    pd.testing.assert_frame_equal(pf_one.equity, pf_two.equity)
    assert pf_one.rebalances == pf_two.rebalances

    # No free worker (both stopped): the caller takes every chunk back, nothing hangs.
    for p in procs:
        p.terminate()
        p.wait(15)

    def alone(func, items, on_done=None):
        return fanout.celery_map(app, key, func, items, on_done)

    again = walk_forward(bundled_store, *ARGS, **KW, mapper=alone)
    assert fanout.last_stats == {"worker": 0, "here": 3}
    pd.testing.assert_series_equal(one.oos_equity, again.oos_equity)


def test_a_forged_chunk_is_refused_before_unpickling():
    from dashboard import fanout

    blob = fanout.sign({"x": 1}, b"k" * 32)
    assert fanout.unsign(blob, b"k" * 32) == {"x": 1}
    with pytest.raises(ValueError, match="signature"):
        fanout.unsign(blob, b"o" * 32)
    with pytest.raises(ValueError, match="not allowed"):
        fanout._resolve("os:system")


def test_a_job_on_the_only_free_worker_never_waits_on_itself(fanout_env):
    """The page's job runs on a worker and fans out from there: with the other worker gone,
    the job computes every chunk itself instead of waiting for a free worker forever."""
    app, _, procs = fanout_env
    import tests.fanout_celery as app_mod

    n, where = app_mod.job.delay(6).get(timeout=120)
    assert n == 6 and where["worker"] + where["here"] == 6
    procs[1].terminate()
    procs[1].wait(15)
    n, where = app_mod.job.delay(6).get(timeout=120)
    assert n == 6 and where == {"worker": 0, "here": 6}
