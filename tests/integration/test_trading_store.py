"""Paper trading on SQLite and a real PostgreSQL (migration 0012): concurrent orders of one
account are serialised by the account-row lock (``SELECT ... FOR UPDATE`` on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite) and never overdraw the cash; duplicate client ids from
concurrent submissions yield one order; the schema goes down and up again."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import inspect

from core.data.store import init_db
from core.trading import OrderRequest, PaperBroker, RiskRejected, create_account
from tests.trading_helpers import bar, seed

pytestmark = pytest.mark.integration


def _race(store, make_req, n=8):
    results: list = []
    barrier = threading.Barrier(n)

    def send(i):
        b = PaperBroker(store, "conc")
        barrier.wait()
        try:
            results.append(b.submit(make_req(i)))
        except RiskRejected as e:
            results.append(e)

    th = [threading.Thread(target=send, args=(i,)) for i in range(n)]
    for t in th:
        t.start()
    for t in th:
        t.join(60)
    return results


def test_concurrent_orders_never_overdraw(store_url):
    store = init_db(store_url)
    try:
        tables = set(inspect(store.engine).get_table_names())
        assert {"paper_accounts", "paper_orders", "paper_ledger", "paper_events"} <= tables
        cols = {c["name"] for c in inspect(store.engine).get_columns("paper_accounts")}
        assert "owner" in cols
        seed(store)
        create_account(store, "conc", 100_000)
        PaperBroker(store, "conc").mark({}, "2024-01-02")
        res = _race(
            store, lambda i: OrderRequest("conc", "PETR4", "buy", 3000, type="limit", price=10.0)
        )
        ok = [r for r in res if not isinstance(r, Exception)]
        assert len(res) == 8 and len(ok) == 3, [getattr(r, "message", r) for r in res]
        assert all(r.rule == "saldo" for r in res if isinstance(r, Exception))
        b = PaperBroker(store, "conc")
        fills = b.on_bar("PETR4", bar(10.0), "2024-01-03")
        assert sum(f.qty for f in fills) == 9000
        snap = b.account()
        assert snap.cash > 0 and snap.cash == pytest.approx(b.ledger()[-1].balance)
        # the same client id sent 8 times at once: one order
        res = _race(store, lambda i: OrderRequest("conc", "VALE3", "buy", 100, client_id="same"))
        assert len({r.id for r in res}) == 1
        assert len([o for o in b.orders() if o.client_id == "same"]) == 1
    finally:
        store.dispose()


def test_migration_0012_down_and_up(store_url):
    from alembic import command
    from alembic.config import Config

    from core.data.store import MIGRATIONS_DIR

    store = init_db(store_url)
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0011")
        assert "paper_orders" not in inspect(store.engine).get_table_names()
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        assert "paper_orders" in inspect(store.engine).get_table_names()
    finally:
        store.dispose()
