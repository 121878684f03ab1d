"""The store's read cache (issue 9, backtest speed): repeated reads are served from memory,
and any committed write — by this store, another connection or another process — makes the
next read see the new data."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

from core.data.store import Store, init_db
from tests.helpers import make_bars


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """One migrated database file with PETR4 and two CDI days, copied by each test (running
    the migrations per test would cost most of a second)."""
    path = tmp_path_factory.mktemp("cache") / "template.db"
    store = init_db(f"sqlite:///{path}")
    store.upsert_instrument("PETR4")
    store.write_bars("PETR4", make_bars([(10, 11, 9, 10.5, 100)] * 3), "t")
    store.write_rates(
        "CDI", pd.Series([0.04, 0.041], index=pd.bdate_range("2024-01-02", periods=2))
    )
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    return path


@pytest.fixture
def file_store(template, tmp_path):
    shutil.copy(template, tmp_path / "cache.db")
    store = init_db(f"sqlite:///{tmp_path / 'cache.db'}")
    yield store
    store.dispose()


def test_repeated_reads_are_hits_and_equal(file_store):
    first = file_store.bars("PETR4")
    before = file_store.cache_stats()
    again = file_store.bars("PETR4")
    after = file_store.cache_stats()
    pd.testing.assert_frame_equal(first, again)
    assert after.hits > before.hits
    assert after.misses == before.misses


def test_callers_get_their_own_copy(file_store):
    got = file_store.bars("PETR4")
    got["close"] = -1.0
    assert (file_store.bars("PETR4")["close"] == 10.5).all()
    meta = file_store.instrument("PETR4")
    meta["kind"] = "changed"
    assert file_store.instrument("PETR4")["kind"] == "stock"


def test_write_through_this_store_invalidates(file_store):
    assert len(file_store.bars("PETR4")) == 3
    file_store.write_bars("PETR4", make_bars([(12, 13, 11, 12.5, 50)], start="2024-01-05"), "t")
    assert len(file_store.bars("PETR4")) == 4


def test_write_by_another_connection_invalidates(file_store, tmp_path):
    """Another engine on the same file (what a CLI import or a Celery worker is)."""
    cached = file_store.rates("CDI")
    other = init_db(f"sqlite:///{tmp_path / 'cache.db'}")
    try:
        other.write_rates("CDI", pd.Series([0.05], index=pd.DatetimeIndex(["2024-01-04"])))
    finally:
        other.dispose()
    now = file_store.rates("CDI")
    assert len(now) == len(cached) + 1
    assert now.iloc[-1] == pytest.approx(0.05)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_write_by_another_process_invalidates(file_store, tmp_path):
    """A real second process writes (a raw sqlite3 update, so nothing of this process's
    engine or counters is involved); the parent's next read sees the new close."""
    assert file_store.bars("PETR4")["close"].iloc[0] == 10.5
    path = str(tmp_path / "cache.db")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            import sqlite3

            con = sqlite3.connect(path, timeout=30)
            con.execute("UPDATE bars SET close = 99.0")
            con.commit()
            con.close()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert (file_store.bars("PETR4")["close"] == 99.0).all()


def test_reads_inside_a_write_transaction_are_not_cached():
    """In-memory SQLite shares one connection: a read during a transaction that is then
    rolled back must not be served afterwards."""
    store = init_db("sqlite://")
    store.upsert_instrument("PETR4")
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.write_bars("PETR4", make_bars([(1, 2, 0.5, 1.5, 5)]), "t", conn=conn)
        before = store.cache_stats()
        store.bars("PETR4")
        assert store.cache_stats() == before  # bypassed: neither stored nor looked up
        raise RuntimeError("rollback")
    assert store.bars("PETR4").empty
    store.dispose()


def test_cache_can_be_turned_off(file_store):
    store = Store(file_store.engine, cache_bytes=0)
    store.bars("PETR4")
    store.bars("PETR4")
    assert store.cache_stats().hits == 0


def test_data_version_moves_on_every_commit(file_store, tmp_path):
    v0 = file_store.data_version()
    assert file_store.data_version() == v0  # reads change nothing
    other = init_db(f"sqlite:///{tmp_path / 'cache.db'}")
    other.upsert_instrument("VALE3")
    other.dispose()
    assert file_store.tickers() == ["PETR4", "VALE3"]
    assert file_store.data_version() != v0


def test_ready_quality_report_only_peeks(file_store):
    """The Data page's layout shows the quality report only when it is already computed for
    the current data (it never computes it on render)."""
    from core.data.quality import quality_report, ready_quality_report

    assert ready_quality_report(file_store) is None
    full = quality_report(file_store)
    ready = ready_quality_report(file_store)
    assert ready is not None
    pd.testing.assert_frame_equal(ready, full)
    file_store.write_bars("PETR4", make_bars([(12, 13, 11, 12.5, 50)], start="2024-01-05"), "t")
    assert ready_quality_report(file_store) is None


def test_a_pinned_block_asks_the_database_once_and_still_sees_its_own_writes(
    file_store, tmp_path, monkeypatch
):
    """Issue 15 (load): a web request pins the data version — one version query for all its
    cached reads; another connection's commit is seen by the next block, this store's own
    commit at once."""
    asked = []
    real = file_store._version._database_part
    monkeypatch.setattr(file_store._version, "_database_part", lambda: asked.append(1) or real())
    other = init_db(f"sqlite:///{tmp_path / 'cache.db'}")
    try:
        with file_store.version_pinned():
            v0 = file_store.data_version()
            file_store.bars("PETR4")
            file_store.instrument("PETR4")
            other.write_bars("PETR4", make_bars([(20, 21, 19, 20.5, 100)] * 3), "t")
            assert file_store.data_version() == v0  # the block's snapshot
            with file_store.version_pinned():  # nested: the same pin
                assert file_store.data_version() == v0
            assert len(asked) == 1
            file_store.upsert_instrument("VALE3")  # this store's own commit
            assert file_store.data_version() != v0
        assert (file_store.bars("PETR4")["close"] == 20.5).all()  # next block: new data
        assert len(asked) >= 2
    finally:
        other.dispose()


def test_pins_are_per_thread(file_store):
    import threading

    seen = {}
    with file_store.version_pinned():
        file_store.data_version()

        def probe():
            seen["pinned"] = getattr(file_store._version._pins, "value", None)

        t = threading.Thread(target=probe)
        t.start()
        t.join()
    assert seen["pinned"] is None
    assert getattr(file_store._version._pins, "value", None) is None


def test_scoped_versions_move_only_with_their_tables(file_store, tmp_path):
    """Issue 15 (load): a value of the users scope survives an audit row and a bar write; a
    value of several scopes is dropped by a write to any of them (Alembic 0022's triggers;
    on SQLite the market scope moves with every commit; the whole matrix on both backends
    is tests/integration/test_store_scopes.py)."""
    import sqlite3

    loads = []

    def read(key, scope):
        return file_store.cached(key, lambda: loads.append(key) or len(loads), scope=scope)

    read("u", "users")
    read("w", "watchlists")
    con = sqlite3.connect(tmp_path / "cache.db", timeout=30)  # another connection, raw SQL
    try:
        con.execute("INSERT INTO audit_log (ts, action) VALUES ('2024-01-02 10:00:00', 'login')")
        con.execute("UPDATE bars SET close = close + 1")
        con.commit()
        read("u", "users")
        read("w", "watchlists")
        assert loads == ["u", "w"]  # both served from the cache
        assert (file_store.bars("PETR4")["close"] == 11.5).all()  # the market read is new
        con.execute("INSERT INTO watchlists (name, created_at) VALUES ('x', '2024-01-02')")
        con.commit()
        read("u", "users")
        read("w", "watchlists")
        assert loads == ["u", "w", "w"]
        both = ("watchlists", "market")
        read("m", both)
        con.execute("UPDATE instruments SET name = 'Petrobras PN'")
        con.commit()
        read("m", both)
        assert loads.count("m") == 2
    finally:
        con.close()


def test_unknown_scope_is_refused(file_store):
    with pytest.raises(ValueError, match="scope"):
        file_store.cached(("test.bad",), lambda: 1, scope="orders")
    with pytest.raises(ValueError, match="scope"):
        file_store.data_version(())


def test_bump_moves_every_scope_past_a_restored_counter(file_store, tmp_path):
    """A restore brings the counters back to the backup's values (the same numbers another
    history may have reached): bump_data_versions moves them past anything seen."""
    import sqlite3

    before = {s: file_store.data_version(s) for s in ("market", "users")}
    file_store.bump_data_versions()
    after = {s: file_store.data_version(s) for s in ("market", "users")}
    assert all(after[s] != before[s] for s in after)
    con = sqlite3.connect(tmp_path / "cache.db")
    try:
        (v,) = con.execute("SELECT version FROM data_versions WHERE scope = 'market'").fetchone()
    finally:
        con.close()
    assert v > 1.7e15  # microseconds since 1970: beyond any count of single writes


def test_a_job_forked_while_another_thread_holds_the_cache_locks_does_not_hang(file_store):
    """Regression: a background job is forked from a web thread while other request threads
    check the data version; a lock held at that instant stayed locked in the child, whose
    first cached read then hung forever."""
    import threading
    import time

    file_store.data_version()  # open the SQLite probe, as a running server has
    held, release = threading.Event(), threading.Event()
    dv, cache = file_store._version, file_store._cache

    def hold():
        with dv._lock, cache._lock:
            held.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    held.wait(5)
    try:
        pid = os.fork()
        if pid == 0:  # the child: a cached read must answer
            try:
                file_store.bars("PETR4")
                os._exit(0)
            except BaseException:
                os._exit(1)
        deadline = time.time() + 20
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.time() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                pytest.fail("the forked child hung on a lock held by another thread")
            time.sleep(0.02)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        release.set()
        t.join()
