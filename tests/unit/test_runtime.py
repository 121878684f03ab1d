"""dashboard.runtime: a fresh connection pool in forked processes; durable writes."""

from __future__ import annotations

import os
import sys

import pytest
from sqlalchemy import text

from core.errors import StoreError
from dashboard import runtime
from dashboard.settings import load_settings


@pytest.fixture
def file_store(tmp_path, monkeypatch):
    """The runtime configured on a fresh SQLite file (restored afterwards)."""
    monkeypatch.setattr(runtime, "_settings", None)
    monkeypatch.setattr(runtime, "_store", None)
    monkeypatch.setattr(runtime, "_store_pid", 0)
    settings = load_settings(
        env={"PREGAO_DATA_DIR": str(tmp_path), "PREGAO_SCHEDULER": "0"}, env_file=None
    )
    store = runtime.configure(settings, load_data=False)
    yield store
    store.dispose()


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_forked_child_gets_a_fresh_pool(file_store):
    """Regression: only the backtest and models jobs reset the pool after fork; the data
    and portfolio jobs used the parent's pooled connections in the forked job process."""
    parent_pool = runtime.get_store().engine.pool
    with runtime.get_store().engine.connect() as conn:  # a pooled connection exists
        conn.execute(text("SELECT 1"))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running pytest's teardown
        os.close(r)
        try:
            store = runtime.get_store()
            fresh = store.engine.pool is not parent_pool
            with store.engine.connect() as conn:
                ok = conn.execute(text("SELECT 1")).scalar() == 1
            again = runtime.get_store().engine.pool is store.engine.pool
            os.write(w, f"{int(fresh)}{int(ok)}{int(again)}".encode())
        finally:
            os._exit(0)
    os.close(w)
    answer = os.read(r, 16).decode()
    os.waitpid(pid, 0)
    assert answer == "111", answer  # fresh pool, usable, kept for the child's next calls
    # the parent keeps its own pool, still usable
    assert runtime.get_store().engine.pool is parent_pool
    with runtime.get_store().engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_durable_write_passes(file_store):
    with file_store.transaction() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    runtime.check_durable(file_store)  # no error


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_write_into_a_deleted_wal_is_refused(file_store):
    """The probe's failure: another process deleted the WAL while the app held it open;
    the app then "confirmed" writes that were lost at the next start."""
    url = file_store.engine.url
    with file_store.transaction() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    wal = f"{url.database}-wal"
    assert os.path.exists(wal)
    os.unlink(wal)  # what the other process did
    with pytest.raises(StoreError, match="não foi confirmada"):
        runtime.check_durable(file_store)


def test_malformed_database_is_refused(file_store, tmp_path):
    with file_store.transaction() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        for i in range(2000):
            conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": i})
    with file_store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    file_store.dispose()
    path = file_store.engine.url.database
    with open(path, "r+b") as f:  # overwrite the pages after the first with garbage
        f.seek(4096)
        f.write(b"\xff" * 8192)
    with pytest.raises(StoreError, match="não foi confirmada"):
        runtime.check_durable(file_store)


def test_durability_check_ignores_servers_and_memory():
    from core.data.store import init_db

    store = init_db("sqlite://")
    runtime.check_durable(store)
    store.dispose()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_job_that_wrote_into_a_lost_wal_fails_instead_of_acknowledging(file_store):
    import dash

    from dashboard.background import run_job
    from dashboard.jobtracker import FAILED, JobHandle, JobTracker

    with file_store.transaction() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))

    def import_job(job):
        with runtime.get_store().transaction() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
        os.unlink(f"{file_store.engine.url.database}-wal")  # another process, meanwhile
        job.done("2 barras novas")
        return "2 barras novas"

    tracker = JobTracker.in_memory()
    out = run_job(import_job, JobHandle(tracker, "s", "data-import", "t"), [], 1, writes=True)
    assert out is dash.no_update  # the page does not say "2 barras novas"
    rec = tracker.get("s", "data-import")
    assert rec.status == FAILED and "não foi confirmada" in rec.message


def test_durability_check_cost_is_bounded(file_store, monkeypatch):
    """A big database is checked for CHECK_SECONDS at most; running out of time is not an
    error (nothing wrong was found in what was read)."""
    with file_store.transaction() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER, y TEXT)"))
        conn.execute(
            text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)"
                " INSERT INTO t SELECT i, hex(randomblob(100)) FROM n"
            )
        )
    monkeypatch.setattr(runtime, "CHECK_SECONDS", 0.0)
    runtime.check_durable(file_store)  # interrupted at once, no error
