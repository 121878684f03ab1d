"""Alert firings on SQLite and PostgreSQL: the unique key stores a firing once, also when two
evaluations race (threads = two processes on the same database)."""

from __future__ import annotations

import threading

import pytest

from core.alerts import engine as E
from core.alerts.rules import Rule, add_rule
from core.data.bundled import read_bundled_bars
from core.data.store import init_db

pytestmark = pytest.mark.integration


@pytest.fixture
def small_store(store_url):
    store = init_db(store_url)
    store.upsert_instrument("PETR4", kind="stock")
    b, _ = read_bundled_bars("PETR4")
    store.write_bars("PETR4", b.loc["2022-01-01":"2024-12-31"], source="bundled")
    yield store
    store.dispose()


def test_two_racing_evaluations_store_and_dispatch_each_firing_once(
    small_store, store_url, monkeypatch
):
    sent = []
    lock = threading.Lock()

    def record(store, f):
        with lock:
            sent.append(f.id)

    monkeypatch.setattr("core.alerts.dispatch.dispatch", record)
    add_rule(small_store, Rule("cruza", tickers=["PETR4"], condition="crosses(close, sma(20))"))
    results: list[list] = [[], []]

    def run(i):
        s = init_db(store_url)
        try:
            results[i] = E.evaluate_range(s, "2023-01-01", "2024-12-31", send=True)
        finally:
            s.dispose()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = E.list_firings(small_store, limit=None)
    assert len(stored) == len(results[0]) == len(results[1]) > 5
    assert sorted(sent) == sorted(f.id for f in stored)  # each dispatched exactly once
    assert sum(f.new for f in results[0]) + sum(f.new for f in results[1]) == len(stored)
    again = E.evaluate_range(small_store, "2023-01-01", "2024-12-31", send=True)
    assert not any(f.new for f in again) and len(sent) == len(stored)


def test_migration_0014_down_and_up(store_url):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from core.data.store import MIGRATIONS_DIR

    store = init_db(store_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))

    def tables() -> set[str]:
        return set(inspect(store.engine).get_table_names())

    assert {"alert_rules", "alert_firings"} <= tables()
    for target in ("0013", "head"):
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            (command.downgrade if target == "0013" else command.upgrade)(cfg, target)
        present = {"alert_rules", "alert_firings"} <= tables()
        assert present == (target == "head")
    store.dispose()
