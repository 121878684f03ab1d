"""Issue 12: the unattended runner's team path — the Celery task ``pregao.paper.run`` on a
real worker (Redis broker) — trades exactly as the local thread path.

:func:`dashboard.paper_runners.start_runner` in team mode sends the task to a real
``celery worker`` process (its own SQLAlchemy store on the same SQLite file, opened from its
settings); the same replay on a second account runs in a local thread. Both end
``concluído`` with the same orders, fills and closed trades (replay ≡ backtest itself is
tests/integration/test_paper_replay.py's).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from core.backtest.engine import EngineConfig
from core.backtest.sizing import Sizing
from core.trading.accounts import create_account
from core.trading.broker import PaperBroker
from core.trading.monitor import account_trades
from core.trading.runner import runner_status
from tests.conftest import ROOT
from tests.helpers import real_bars

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:Task name")]

TICK = ["PETR4", "VALE3"]
START, END = "2024-03-01", "2024-06-28"
PARAMS = {"fast": 3, "slow": 8}
CFG = EngineConfig(reinvest=False, stop_loss=0.03, take_profit=0.06, sizing=Sizing("percent", 45.0))


@pytest.fixture
def db_url(tmp_path):
    from core.data.store import init_db

    url = f"sqlite:///{tmp_path / 'runners.db'}"
    s = init_db(url)
    for t in [*TICK, "^BVSP"]:
        s.upsert_instrument(t, kind="index" if t.startswith("^") else "stock")
        s.write_bars(t, real_bars(t).loc["2023-01-01":"2024-06-30"], "bundled")
    s.dispose()
    return url


@pytest.fixture
def worker(tmp_path, redis_url, db_url, monkeypatch):
    """A real Celery worker on its own queue; yields the client-side Celery app."""
    url = redis_url.rsplit("/", 1)[0] + "/14"
    queue = f"paper-{secrets.token_hex(6)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREGAO_")}
    env.update(
        PREGAO_REDIS_URL=url,
        PREGAO_DATABASE_URL=db_url,
        PREGAO_TEST_PAPER_QUEUE=queue,
        PYTHONUNBUFFERED="1",
    )
    for k in [k for k in os.environ if k.startswith("PREGAO_")]:
        monkeypatch.delenv(k)
    for k in ("PREGAO_REDIS_URL", "PREGAO_DATABASE_URL", "PREGAO_TEST_PAPER_QUEUE"):
        monkeypatch.setenv(k, env[k])
    log = tmp_path / "worker.log"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "tests.paper_celery.celery_app", "worker",
            "--pool=solo", "--loglevel=info", "-Q", queue, "-n", f"{queue}@%h",
            "--without-heartbeat", "--without-gossip", "--without-mingle",
        ],
        cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.time() + 120
    while "ready" not in log.read_text():
        if time.time() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail("worker did not start:\n" + log.read_text())
        time.sleep(0.5)
    import importlib

    from dashboard import paper_runners

    if "tests.paper_celery" in sys.modules:  # the client: the same app, queue and broker
        mod = importlib.reload(sys.modules["tests.paper_celery"])
    else:
        mod = importlib.import_module("tests.paper_celery")
    yield mod.celery_app, log
    paper_runners._CELERY = None
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def _wait_done(store, account, timeout=300.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = runner_status(store, account)
        # before the worker takes the task the attached runner reads "parado"
        if st is not None and st.status in ("concluído", "erro"):
            return st
        time.sleep(0.5)
    pytest.fail(f"runner of {account} did not finish: {runner_status(store, account)}")


def _book(store, account):
    b = PaperBroker(store, account)
    fills = [
        (f.ticker, f.side, f.qty, round(f.price, 9), round(f.fees, 9), f.time) for f in b.fills()
    ]
    orders = sorted(
        (o.ticker, o.side, o.type, o.qty, o.role, o.status, o.session) for o in b.orders()
    )
    return sorted(fills), orders


def test_celery_runner_trades_like_the_thread_runner(db_url, worker):
    from core.data.store import init_db
    from dashboard.paper_runners import start_runner

    _app, log = worker
    store = init_db(db_url)
    try:
        for name in ("team", "local"):
            create_account(store, name, CFG.cash)
        kw = dict(engine=CFG, start=START, end=END)
        how = start_runner(
            store, "team", "sma_cross", TICK, PARAMS, **kw, settings=SimpleNamespace(mode="team")
        )
        assert how == "celery"
        assert start_runner(store, "local", "sma_cross", TICK, PARAMS, **kw) == "thread"
        team, local = _wait_done(store, "team"), _wait_done(store, "local")
        assert team.status == local.status == "concluído", (team.message, local.message)
        assert team.bars_done == local.bars_done == team.bars_total > 50
        assert "pregao.paper.run" in log.read_text() and "succeeded" in log.read_text()
        t_fills, t_orders = _book(store, "team")
        l_fills, l_orders = _book(store, "local")
        assert len(t_fills) >= 8  # several round trips on two tickers
        assert t_fills == l_fills and t_orders == l_orders
        a, b = account_trades(store, "team"), account_trades(store, "local")
        assert len(a) >= 4
        cols = ["ticker", "entry_date", "exit_date", "shares", "entry_price", "exit_price",
                "fees", "pnl", "exit_reason"]  # fmt: skip
        assert a[cols].reset_index(drop=True).equals(b[cols].reset_index(drop=True))
    finally:
        store.dispose()
