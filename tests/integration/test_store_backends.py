"""The store on a SQLite file and on a real PostgreSQL server: same results on both."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import inspect, text

from core.data.bundled import load_bundled, read_bundled_bars
from core.data.store import init_db
from core.errors import StoreError, UnknownTickerError
from tests.helpers import make_bars


def test_migrations_reach_head(store_url):
    store = init_db(store_url)
    tables = set(inspect(store.engine).get_table_names())
    assert {"instruments", "bars", "rates", "alembic_version"} <= tables
    with store.engine.connect() as c:
        assert c.execute(text("select version_num from alembic_version")).scalar()
    init_db(store_url).dispose()  # a second start is a no-op upgrade
    store.dispose()


def test_bundled_load_round_trip_and_idempotent(store_url):
    store = init_db(store_url)
    rep = load_bundled(store)
    assert rep.loaded and rep.instruments == 25 and rep.rates == 2717
    assert rep.bars == sum(c.rows_out for c in rep.cleaning)
    expected, _ = read_bundled_bars("VALE3")
    got = store.bars("VALE3")
    pd.testing.assert_frame_equal(got, expected, check_freq=False, check_index_type=False)
    assert not load_bundled(store).loaded  # not empty any more: nothing loaded
    again = load_bundled(store, force=True)
    assert again.bars == 0  # every row already equal: an idempotent re-load changes nothing
    store.dispose()


def test_failed_import_leaves_store_unchanged(store_url):
    store = init_db(store_url)
    store.upsert_instrument("PETR4")
    store.write_bars("PETR4", make_bars([(10, 11, 9, 10.5, 100)]), "t")
    before = store.bars("PETR4")
    with pytest.raises(UnknownTickerError):
        with store.transaction() as conn:
            store.write_bars(
                "PETR4", make_bars([(1, 2, 0.5, 1.5, 5)] * 3, start="2024-02-01"), "t", conn=conn
            )
            store.write_bars("NOPE3", make_bars([(1, 2, 0.5, 1.5, 5)]), "t", conn=conn)
    pd.testing.assert_frame_equal(store.bars("PETR4"), before)
    store.dispose()


def test_unreachable_postgres_names_url():
    with pytest.raises(StoreError) as exc:
        init_db("postgresql+psycopg://pregao:topsecret@127.0.0.1:1/nothing")
    assert "127.0.0.1:1/nothing" in str(exc.value)
    assert "topsecret" not in str(exc.value)


def test_read_cache_sees_writes_of_other_processes(store_url):
    """Issue 9's read cache on both backends: a write committed through another engine (a CLI
    import, a Celery worker) reaches the next read of a store that had cached the old data,
    including a write that was already open when the old data was read."""
    store = init_db(store_url)
    other = init_db(store_url)
    try:
        store.upsert_instrument("PETR4")
        store.write_bars("PETR4", make_bars([(10, 11, 9, 10.5, 100)]), "t")
        assert len(store.bars("PETR4")) == 1
        assert len(store.bars("PETR4")) == 1  # now cached
        assert store.cache_stats().hits >= 1
        other.write_bars("PETR4", make_bars([(12, 13, 11, 12.5, 50)], start="2024-01-03"), "t")
        assert len(store.bars("PETR4")) == 2
        if store.dialect == "postgresql":  # a writer open while the reader caches
            with other.transaction() as conn:
                other.write_bars(
                    "PETR4", make_bars([(14, 15, 13, 14.5, 50)], start="2024-01-04"), "t", conn=conn
                )
                assert len(store.bars("PETR4")) == 2
            assert len(store.bars("PETR4")) == 3
    finally:
        other.dispose()
        store.dispose()
