"""Background jobs: never served from a cache, tracked per session, cancellable, loud on
database errors (dashboard.background, dashboard.jobtracker, dashboard.runtime)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import dash
import pytest

from components.jobs import progress_view
from core.errors import InputError
from dashboard.background import make_manager, run_job
from dashboard.jobtracker import (
    CANCELLED,
    DONE,
    FAILED,
    INTERRUPTED,
    JobCancelled,
    JobHandle,
    JobTracker,
)
from dashboard.settings import load_settings


@pytest.fixture
def settings(tmp_path, monkeypatch):
    for k in list(os.environ):
        if k.startswith("PREGAO_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("PREGAO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PREGAO_SCHEDULER", "0")
    return load_settings()


# -- 1. no cache: a repeated call with the same arguments runs again -----------------------


def _post(client, body, query=""):
    r = client.post(
        "/_dash-update-component" + query,
        data=json.dumps(body),
        content_type="application/json",
    )
    assert r.status_code == 200, r.data[:500]
    return r.get_json()


def _run_background(client, body, timeout=60.0):
    """Play the renderer's part: start the job, then poll until the response arrives."""
    first = _post(client, body)
    query = f"?cacheKey={first['cacheKey']}&job={first['job']}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        data = _post(client, body, query)
        if "response" in data:
            return data["response"]
        time.sleep(0.05)
    raise AssertionError("background job did not answer")


def test_manager_has_no_result_cache(settings):
    manager, celery_app = make_manager(settings)
    assert celery_app is None
    assert manager.cache_by is None


def test_repeated_identical_call_runs_again(settings, tmp_path):
    """Regression: with ``cache_by=[LAUNCH_UID]`` the second identical call got the first
    call's result back (and its own job was killed): a changed file re-imported "returned
    the previous message", an identical walk-forward was not run again."""
    from dash import Input, Output, html

    counter = tmp_path / "runs.txt"
    manager, _ = make_manager(settings)
    app = dash.Dash(__name__, background_callback_manager=manager)
    app.layout = html.Div([html.Button(id="go"), html.Div(id="out")])

    @app.callback(Output("out", "children"), Input("go", "n_clicks"), background=True)
    def job(n):
        runs = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(runs))
        return f"execução {runs}"

    body = {
        "output": "out.children",
        "outputs": {"id": "out", "property": "children"},
        "inputs": [{"id": "go", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["go.n_clicks"],
        "state": [],
    }
    client = app.server.test_client()
    client.get("/")  # first request: Dash finishes its setup
    first = _run_background(client, body)
    second = _run_background(client, body)
    assert first["out"]["children"] == "execução 1"
    assert second["out"]["children"] == "execução 2"
    assert counter.read_text() == "2"


def test_a_result_written_between_two_polls_is_not_lost(settings):
    """Regression (CI, xdist): Dash reads the result, then asks whether the job runs; a job
    that wrote its result and exited between the two looked cancelled (HTTP 204) and the
    page never got its result."""
    import subprocess

    manager, _ = make_manager(settings)
    done = subprocess.Popen(["true"])
    done.wait()  # a job process that has ended
    key = "k-race"
    assert manager.get_result(key, done.pid) is manager.UNDEFINED  # poll: not there yet
    manager.handle.set(key, "resultado")  # the job writes it and exits here
    assert manager.job_running(done.pid)  # so Dash answers "poll again", not 204
    assert manager.get_result(key, done.pid) == "resultado"  # and the next poll delivers
    assert not manager.job_running(done.pid)  # collected: the job is over
    assert manager.get_result("k-none", done.pid) is manager.UNDEFINED
    assert not manager.job_running(done.pid)  # ended without a result: cancelled, as before


# -- 2. the tracker ----------------------------------------------------------------------


class _FakeManager:
    def __init__(self, alive=True):
        self.alive = alive
        self.terminated = []

    def job_running(self, job):
        return self.alive

    def terminate_job(self, job):
        self.terminated.append(job)
        self.alive = False


def test_progress_is_visible_to_another_reader_and_ends_done():
    tracker = JobTracker.in_memory()
    job = JobHandle(tracker, "s1", "backtest", "t1", job_id="123")
    job.start(flush_every=0)
    job.progress(0.36, "dobra 2 de 5")
    assert tracker.get("s1", "backtest").percent == 0  # written by the flusher, not here
    job.flush()
    rec = tracker.get("s1", "backtest")
    assert rec.running and rec.percent == 36 and rec.message == "dobra 2 de 5"
    job.done("Pronto: backtest nº 4 salvo.", result=4)
    assert tracker.get("s1", "backtest").running  # not written before commit
    job.commit()
    rec = tracker.get("s1", "backtest")
    assert rec.status == DONE and rec.result == 4 and rec.percent == 100
    # other sessions and kinds are separate slots
    assert tracker.get("s2", "backtest") is None
    assert tracker.get("s1", "models") is None


def test_cancel_stops_the_process_and_the_job_reads_cancelled():
    manager = _FakeManager()
    tracker = JobTracker.in_memory(manager)
    job = JobHandle(tracker, "s1", "backtest-wf", "t1", job_id="4242")
    job.start()
    job.progress(0.06, "dobra 2 de 5")
    rec = tracker.cancel("s1", "backtest-wf", "t1")
    assert rec.status == CANCELLED and manager.terminated == ["4242"]
    assert tracker.get("s1", "backtest-wf").status == CANCELLED
    # a job that survived the kill (e.g. on another host) stops at its next progress call
    job._last_check = 0.0
    with pytest.raises(JobCancelled):
        job.progress(0.07, "dobra 2 de 5")


def test_cancel_before_the_job_started_prevents_the_start():
    tracker = JobTracker.in_memory()
    assert tracker.cancel("s1", "models", "t9") is None
    with pytest.raises(JobCancelled):
        JobHandle(tracker, "s1", "models", "t9").start()


def test_cancel_after_the_end_keeps_the_end():
    tracker = JobTracker.in_memory(_FakeManager())
    job = JobHandle(tracker, "s1", "portfolio", "t1", job_id="1")
    job.start()
    job.done("Pronto")
    job.commit()
    assert tracker.cancel("s1", "portfolio", "t1").status == DONE


def test_dead_process_reads_interrupted():
    tracker = JobTracker.in_memory(_FakeManager(alive=False))
    JobHandle(tracker, "s1", "data-import", "t1", job_id="99").start()
    rec = tracker.get("s1", "data-import")
    assert rec.status == INTERRUPTED and "Interrompido" in rec.message


def test_diskcache_backend_is_shared_between_handles(tmp_path):
    import diskcache

    a = JobTracker.for_diskcache(diskcache.Cache(str(tmp_path / "c")))
    b = JobTracker.for_diskcache(diskcache.Cache(str(tmp_path / "c")))
    job = JobHandle(a, "s", "backtest", "t", job_id="1")
    job.start(flush_every=0.01)
    job.progress(0.5, "meio")
    deadline = time.time() + 5
    while b.get("s", "backtest").message != "meio" and time.time() < deadline:
        time.sleep(0.01)
    assert b.get("s", "backtest").message == "meio"
    b.cancel("s", "backtest", "t")
    assert a.cancel_requested("s", "backtest", "t")


# -- 3. progress area: one view for every page -------------------------------------------


def test_progress_view_states():
    cancelled = progress_view("cancelled", 0.06, "dobra 2 de 5")
    assert cancelled.label == "Cancelado" and "Cancelado" in cancelled.text
    assert "dobra" not in cancelled.text and not cancelled.busy and not cancelled.animated
    start = progress_view("starting")
    assert start.value == 0 and start.text == "Iniciando…" and start.busy
    assert "Pronto" not in start.text and "Falhou" not in start.text
    running = progress_view("running", 0.36, "dobra 2 de 5")
    assert running.value == 36 and "36%" in running.text and running.busy
    assert progress_view("failed", 0.5, "Falhou: x").color == "danger"
    assert progress_view("done", 1, "Pronto: nº 4").text == "Pronto: nº 4"


# -- 4. the job wrapper: errors are shown, never acknowledged ----------------------------


def test_run_job_records_a_core_error_as_failed():
    tracker = JobTracker.in_memory()

    def fn(job):
        raise InputError("Período invertido.")

    job = JobHandle(tracker, "s", "backtest", "t")
    out = run_job(fn, job, [], 2, writes=False)
    assert out == [dash.no_update] * 2
    rec = tracker.get("s", "backtest")
    assert rec.status == FAILED and rec.message == "Falhou: Período invertido."


def test_run_job_turns_a_database_error_into_a_readable_failure():
    from sqlalchemy.exc import DatabaseError

    tracker = JobTracker.in_memory()

    def fn(job):
        job.progress(0.5, "Gravando barras")
        raise DatabaseError("INSERT ...", {}, Exception("database disk image is malformed"))

    run_job(fn, JobHandle(tracker, "s", "data-import", "t"), [], 1, writes=True)
    rec = tracker.get("s", "data-import")
    assert rec.status == FAILED
    assert "banco de dados recusou a gravação" in rec.message
    assert "database disk image is malformed" in rec.message
    assert "Traceback" not in rec.message


def test_run_job_cancelled_returns_nothing():
    tracker = JobTracker.in_memory()

    def fn(job):
        tracker.cancel("s", "models", "t")
        job._last_check = 0.0
        job.progress(0.2, "dobra 1 de 5")
        return "resultado"

    out = run_job(fn, JobHandle(tracker, "s", "models", "t"), [], 1, writes=False)
    assert out is dash.no_update
    assert tracker.get("s", "models").status == CANCELLED


# -- 5. what a page shows at a poll ------------------------------------------------------


def _run(tracker, token, status=None, result=None):
    job = JobHandle(tracker, "s", "backtest", token, job_id="1")
    job.start(flush_every=0)
    job.progress(0.4, "dobra 2 de 5")
    job.flush()
    if status == DONE:
        job.done("Pronto: backtest nº 4 salvo.", result=result)
        job.commit()
    return job


def test_fresh_page_picks_up_the_running_job():
    from dashboard.background import poll_answer

    tracker = JobTracker.in_memory(_FakeManager())
    assert poll_answer(tracker, "s", "backtest", None).status is None  # nothing ran
    _run(tracker, "t1")
    ans = poll_answer(tracker, "s", "backtest", None)
    assert ans.status == "running" and ans.message == "dobra 2 de 5"
    assert ans.token == {"token": "t1", "adopted": True}
    assert poll_answer(tracker, "s2", "backtest", None).status is None  # another browser


def test_fresh_page_shows_once_how_an_unseen_run_ended_and_gets_its_result():
    from dashboard.background import NOTHING, poll_answer

    tracker = JobTracker.in_memory(_FakeManager())
    _run(tracker, "t1", DONE, result=4)
    ans = poll_answer(tracker, "s", "backtest", None)
    assert ans.status == DONE and ans.result == 4
    assert poll_answer(tracker, "s", "backtest", None).status is None  # seen: not again
    restored = poll_answer(tracker, "s", "backtest", None, restore=True)
    assert restored.status == DONE and restored.result == 4
    # the page that started the run gets its result from the job itself, not twice
    mine = {"token": "t1", "adopted": False}
    assert poll_answer(tracker, "s", "backtest", mine).result is NOTHING


def test_clicked_page_waits_for_its_own_run_not_the_previous_one():
    from dashboard.background import poll_answer

    tracker = JobTracker.in_memory(_FakeManager())
    _run(tracker, "old", DONE, result=3)
    mine = {"token": "new", "adopted": False}
    assert poll_answer(tracker, "s", "backtest", mine).status is None  # keeps "Iniciando…"
    tracker.cancel("s", "backtest", "new")
    assert poll_answer(tracker, "s", "backtest", mine).status == CANCELLED


def test_a_run_waiting_for_a_worker_says_so():
    from dashboard.background import QUEUED_AFTER_POLLS, poll_answer

    tracker = JobTracker.in_memory()
    mine = {"token": "t1", "adopted": False, "n0": 7}
    assert poll_answer(tracker, "s", "models", mine, n_polls=8).status is None
    ans = poll_answer(tracker, "s", "models", mine, n_polls=7 + QUEUED_AFTER_POLLS)
    assert ans.status == "starting" and "Na fila" in ans.message
    assert progress_view(ans.status, 0, ans.message).busy  # Cancelar stays enabled


def test_a_huge_message_is_shortened():
    tracker = JobTracker.in_memory()
    job = JobHandle(tracker, "s", "data-import", "t")
    job.start(flush_every=0)
    job.fail("campo inválido: " + "x" * 30_000_000)
    job.commit()
    rec = tracker.get("s", "data-import")
    assert rec.status == FAILED and len(rec.message) <= 400 and rec.message.endswith("…")


def test_every_page_job_goes_through_job_callback():
    """One wiring for every long job: no page declares its own background callback, and no
    background callback anywhere has a result cache (house rule)."""
    root = Path(__file__).resolve().parents[2]
    for path in sorted((root / "pages").glob("*.py")):
        src = path.read_text(encoding="utf-8")
        assert "background=True" not in src, f"{path.name}: use dashboard.background.job_callback"
        assert '"job-running"' not in src, path.name
    for folder in ("pages", "dashboard", "components"):
        for path in (root / folder).rglob("*.py"):
            assert "cache_by=[" not in path.read_text(encoding="utf-8"), path


def test_a_job_forked_while_numba_compiles_elsewhere_does_not_hang(settings):
    """Regression (CI): a job forked while the warm-up thread held numba's compiler lock
    inherited it locked and hung at its first compiled call (a training that never ended)."""
    import threading

    from numba.core.compiler_lock import global_compiler_lock

    manager, _ = make_manager(settings)
    held, release = threading.Event(), threading.Event()

    def compile_elsewhere():
        with global_compiler_lock:
            held.set()
            release.wait(10)

    t = threading.Thread(target=compile_elsewhere)
    t.start()
    held.wait(5)

    def job_fn(key, progress_key, args, context):
        with global_compiler_lock:  # what a compiled call does first
            manager.handle.set(key, "pronto")

    threading.Timer(0.3, release.set).start()  # the "compile" ends a moment later
    pid = manager.call_job_fn("k-numba", job_fn, [], {})
    t.join()
    deadline = time.time() + 20
    while manager.handle.get("k-numba") is None and time.time() < deadline:
        time.sleep(0.05)
    alive = manager.job_running(pid)
    if alive:
        manager.terminate_job(pid)
    assert manager.handle.get("k-numba") == "pronto"
