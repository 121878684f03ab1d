"""PaperBroker on a SQLite file: one order is one durable transaction (issue 12).

A submission the app confirms commits once, with ``synchronous=FULL`` (SQLite's WAL: the
WAL file is synced at that commit, so a power loss cannot roll the order back); the feed's
bar work commits with ``NORMAL`` and leaves the pooled connection as it found it. The order
returned is exactly the row stored (no read-back), and the orders-per-day count uses the
``(account_id, session)`` index of revision 0020.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from core.trading import OrderRequest, PaperBroker, RiskRejected, RiskRules, create_account
from tests import trading_helpers as th
from tests.trading_helpers import bar

paper_template, paper_store = th.paper_template, th.paper_store  # fixtures


@pytest.fixture
def commits(paper_store):
    """Records the ``synchronous`` level of every COMMIT on the store's engine."""
    seen: list[int] = []

    def on_commit(conn):
        raw = conn.connection.driver_connection
        seen.append(int(raw.execute("PRAGMA synchronous").fetchone()[0]))

    event.listen(paper_store.engine, "commit", on_commit)
    yield seen
    event.remove(paper_store.engine, "commit", on_commit)


def _broker(store, **rules):
    create_account(store, "d", 1_000_000.0, risk=RiskRules(**rules) if rules else None)
    b = PaperBroker(store, "d")
    b.mark({}, "2024-01-02")
    return b


def test_submission_is_one_commit_with_synchronous_full(paper_store, commits):
    b = _broker(paper_store)
    commits.clear()
    o = b.submit(OrderRequest("d", "PETR4", "buy", 100, stop_loss=9.0, target=12.0))
    assert commits == [2]  # one transaction (entry + bracket children + history), FULL
    assert len(b.orders()) == 3 and o.oco_group is not None
    commits.clear()
    b.cancel(o.id)
    assert commits == [2]


def test_a_runner_order_leaves_durability_to_the_runners_bar_commit(paper_store, commits):
    b = _broker(paper_store)
    commits.clear()
    b.submit(OrderRequest("d", "PETR4", "buy", 100, client_id="r:1", source="strategy:wave3"))
    assert commits == [1]


def test_rejected_and_duplicate_submissions_are_one_durable_commit_each(paper_store, commits):
    b = _broker(paper_store, max_orders_per_day=1)
    b.submit(OrderRequest("d", "PETR4", "buy", 100, client_id="x"))
    commits.clear()
    with pytest.raises(RiskRejected):
        b.submit(OrderRequest("d", "VALE3", "buy", 100))
    assert commits == [2]  # the rejected order and its event, together
    commits.clear()
    again = b.submit(OrderRequest("d", "PETR4", "buy", 100, client_id="x"))
    assert again.client_id == "x" and len(b.orders()) == 2  # nothing new written
    assert commits in ([], [2])


def test_bar_work_commits_normal_and_restores_the_connection(paper_store, commits):
    b = _broker(paper_store)
    b.submit(OrderRequest("d", "PETR4", "buy", 100))
    commits.clear()
    (f,) = b.on_bar("PETR4", bar(10.0), "2024-01-03")
    assert f.qty == 100 and commits == [1]
    with paper_store.engine.connect() as conn:  # the pool's connections are back to FULL
        raw = conn.connection.driver_connection
        assert int(raw.execute("PRAGMA synchronous").fetchone()[0]) == 2


def test_submitted_order_equals_the_stored_row(paper_store):
    b = _broker(paper_store)
    for req in (
        OrderRequest("d", "PETR4", "buy", 150, client_id="a", note="n", source="strategy:x"),
        OrderRequest(
            "d", "VALE3", "buy", 100, type="limit", price=9.5, stop_loss=9.0, target=11.0, tif="gtc"
        ),
        OrderRequest(
            "d",
            "VALE3",
            "buy",
            100,
            type="stop_limit",
            price=10.6,
            stop_price=10.5,
            tif="2024-01-05",
        ),
    ):
        o = b.submit(req)
        assert o == b.order(o.id)


def test_orders_per_day_count_uses_the_session_index(paper_store):
    b = _broker(paper_store)
    b.submit(OrderRequest("d", "PETR4", "buy", 100))
    with paper_store.engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM paper_orders "
            "WHERE account_id = 1 AND session = '2024-01-03' AND role = 'entry'"
        ).all()
    assert "ix_paper_orders_account_session" in " ".join(str(r[-1]) for r in plan)


def test_bar_work_with_the_runners_rows_is_one_full_commit_or_nothing(paper_store, commits):
    """``on_bars(then=...)``: a runner's rows of the bar are written in the bar's own
    transaction, which commits once and durably (FULL); an error in them rolls the whole
    bar back (no fill, clock and cash unchanged), so a restart works the bar again."""
    b = _broker(paper_store)
    b.submit(OrderRequest("d", "PETR4", "buy", 100, client_id="r:1", source="strategy:x"))
    before = (b.fills(), b.clock, b.account().cash)
    commits.clear()

    def boom(conn, state, fills):
        assert [f.qty for f in fills] == [100] and state[3] == {"PETR4": 100}
        raise RuntimeError("runner row failed")

    with pytest.raises(RuntimeError):
        b.on_bars({"PETR4": bar(10.0)}, "2024-01-03", after_clock=True, then=boom)
    assert commits == [] and (b.fills(), b.clock, b.account().cash) == before
    seen = []

    def rows(conn, state, fills):
        raw = conn.connection.driver_connection
        seen.append((int(raw.execute("PRAGMA synchronous").fetchone()[0]), state, len(fills)))

    (f,) = b.on_bars({"PETR4": bar(10.0)}, "2024-01-03", after_clock=True, then=rows)
    assert commits == [2] and seen == [(2, b.bar_state, 1)] and f.qty == 100
