"""Background jobs on Celery + a real Redis: the app and a real worker, driven in Chromium.

With ``PREGAO_REDIS_URL`` set, :mod:`dashboard.background` chooses Dash's CeleryManager; the
portfolio computation (a ``background=True`` callback) must then run in the Celery worker
process, and its result must reach the page.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, start_app

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def team_stack(tmp_path, seeded_sqlite, redis_url):
    url = redis_url.rsplit("/", 1)[0] + "/7"
    import redis

    redis.Redis.from_url(url).flushdb()
    shutil.copy(seeded_sqlite, tmp_path / "pregao.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREGAO_")}
    env.update(PREGAO_DATA_DIR=str(tmp_path), PREGAO_REDIS_URL=url, PYTHONUNBUFFERED="1")
    log = open(tmp_path / "worker.log", "w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "app.celery_app",
            "worker",
            "--pool=solo",
            "--loglevel=info",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 90
    while "ready" not in (tmp_path / "worker.log").read_text():
        if worker.poll() is not None or time.time() > deadline:
            worker.kill()
            pytest.fail("celery worker did not start:\n" + (tmp_path / "worker.log").read_text())
        time.sleep(0.5)
    proc, base = start_app(tmp_path, {"PREGAO_REDIS_URL": url})
    yield base, tmp_path / "worker.log"
    for p in (proc, worker):
        p.terminate()
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()


def test_background_job_runs_on_the_celery_worker(team_stack, page):
    base, worker_log = team_stack
    page.goto(base + "/portfolio")
    # The page computes nothing on load (issue 11): start the job, without the walk-forward.
    page.wait_for_selector("#portfolio-run")
    page.click("#portfolio-oos input")
    page.click("#portfolio-run")
    # progress is tracked in Redis, which the web process and the worker share
    page.wait_for_function(
        "/^(\\d+%|Pronto|Iniciando)/.test((document.querySelector('#portfolio-progress-label')"
        " || {}).innerText || '')",
        timeout=120_000,
    )
    page.wait_for_selector("#portfolio-frontier .scatterlayer .trace .points path", timeout=120_000)
    assert "limitada por" in page.inner_text("#portfolio-window")
    page.wait_for_function(
        "/^Pronto/.test(document.querySelector('#portfolio-progress-label').innerText)"
    )
    text = Path(worker_log).read_text()
    assert "succeeded" in text, text[-2000:]


def test_cancel_stops_the_job_on_the_celery_worker(team_stack, page):
    base, _ = team_stack
    page.goto(base + "/backtest")
    page.wait_for_selector("#backtest-params input")
    page.get_by_role("tab", name="Walk-forward").click()
    page.fill("#backtest-wf-windows", "3")
    page.fill("#backtest-wf-trials", "400")
    page.click("#backtest-wf-run")
    page.wait_for_function(
        "/Janela/.test((document.querySelector('#backtest-wf-progress-label') || {}).innerText"
        " || '')",
        timeout=120_000,
    )
    page.click("#backtest-wf-cancel")
    page.wait_for_function(
        "/^Cancelado/.test(document.querySelector('#backtest-wf-progress-label').innerText)"
    )
    assert page.is_enabled("#backtest-wf-run")
