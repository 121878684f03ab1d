"""Issue 14: a paper account replays an opening-range-breakout day trade on the bundled WIN
5-minute bars and ends with exactly the backtest's trades (same entry and exit times,
contracts, prices in points, fees and P&L in R$, exit reasons — ``fim do pregão`` for the
day-trade flatten), the same day-trade tax report, and no position overnight."""

from __future__ import annotations

import pandas as pd
import pytest

from core.backtest.engine import EngineConfig
from core.backtest.runner import run_backtest
from core.backtest.sizing import Sizing
from core.data.bundled import BUNDLED_DIR
from core.data.intraday import read_intraday_file
from core.data.store import init_db
from core.trading.accounts import create_account
from core.trading.broker import PaperBroker
from core.trading.monitor import account_trades
from core.trading.runner import StrategyRunner

WIN_GZ = BUNDLED_DIR / "intraday" / "WINFUT_5min_2021-08-23_2022-05-18.csv.gz"


@pytest.fixture(scope="module")
def win_store(tmp_path_factory):
    """The first eight sessions of the bundled WINFUT file (warm-up + six traded)."""
    win = read_intraday_file(WIN_GZ, ticker="WINFUT").bars["WINFUT"]
    days = win.index.normalize().unique()
    sub = win[win.index.normalize() <= days[7]].drop(columns=["line"], errors="ignore")
    store = init_db(f"sqlite:///{tmp_path_factory.mktemp('win') / 'win.db'}")
    store.upsert_instrument("WINFUT", kind="future")
    store.write_bars("WINFUT", sub, "csv", interval="5min")
    yield store, str(days[2].date()), str(days[7].date())
    store.dispose()


@pytest.mark.slow
def test_win_orb_day_trade_replay_equals_the_backtest(win_store):
    store, start, end = win_store
    cfg = EngineConfig(
        cash=10_000.0, day_trade=True, sizing=Sizing(method="contracts", value=2), reinvest=False
    )
    bt = run_backtest(
        store, "opening_range_breakout", ["WINFUT"], start, end, config=cfg, interval="5min"
    )
    create_account(store, "win", cfg.cash, costs="b3", engine=cfg)
    r = StrategyRunner(
        store,
        "win",
        "opening_range_breakout",
        ["WINFUT"],
        None,
        cfg,
        start=start,
        end=end,
        interval="5min",
    )
    st = r.run()
    assert st.status == "concluído" and r.drift == []
    assert st.interval == "5min"

    a = bt.trades.sort_values("exit_date").reset_index(drop=True)
    b = account_trades(store, "win").sort_values("exit_date").reset_index(drop=True)
    assert len(a) >= 3 and len(a) == len(b)
    for x, y in zip(a.itertuples(), b.itertuples(), strict=True):
        assert (x.entry_date, x.exit_date, int(x.qty), x.exit_reason) == (
            y.entry_date,
            y.exit_date,
            int(y.shares),
            y.exit_reason,
        )
        for f in ("entry_price", "exit_price", "fees", "pnl"):
            assert abs(getattr(x, f) - getattr(y, f)) < 1e-6, (f, x, y)
    assert "fim do pregão" in set(a["exit_reason"])
    # nothing held overnight, and the account's cash is the capital + P&L − IR paid
    broker = PaperBroker(store, "win")
    assert broker.positions() == []
    paper_tax = broker.tax_report().set_index("month")
    bt_tax = bt.taxes.set_index("month")
    for c in ("day_trade_result", "day_trade_tax", "withheld", "darf"):
        pd.testing.assert_series_equal(paper_tax[c], bt_tax[c], check_names=False, atol=1e-6)
    paid = broker.ledger()
    tax_paid = -sum(e.amount for e in paid if e.kind == "tax")
    assert broker.account().cash == pytest.approx(cfg.cash + a["pnl"].sum() - tax_paid)


def test_migration_0019_runner_interval_down_and_up(store_url):
    """0019 adds ``paper_runners.interval`` (daily runners keep ``1d``) and removes it."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from core.data.store import MIGRATIONS_DIR

    store = init_db(store_url)
    try:
        cols = {c["name"] for c in inspect(store.engine).get_columns("paper_runners")}
        assert "interval" in cols
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0018")
        cols = {c["name"] for c in inspect(store.engine).get_columns("paper_runners")}
        assert "interval" not in cols
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        cols = {c["name"] for c in inspect(store.engine).get_columns("paper_runners")}
        assert "interval" in cols
    finally:
        store.dispose()


def test_signal_log_holds_every_kind_on_both_backends(store_url):
    """Regression (0023): ``paper_signals.kind`` was VARCHAR(8); ``entry_short`` (11
    characters) made a runner fail at its first logged signal on PostgreSQL."""
    import datetime as dt

    from core.trading.runner_models import PaperSignal

    store = init_db(store_url)
    try:
        rows = [
            dict(runner_id=1, account="a", time=dt.datetime(2024, 1, 2), strategy="s",
                 ticker="PETR4", kind=kind, side=side, reasoning="{}")
            for kind, side in (("entry_long", "buy"), ("exit_long", "sell"),
                               ("entry_short", "sell"), ("exit_short", "buy"))
        ]  # fmt: skip
        with store.engine.begin() as conn:
            conn.execute(PaperSignal.__table__.insert(), rows)
        with store.engine.connect() as conn:
            kinds = {
                r[0]
                for r in conn.execute(
                    PaperSignal.__table__.select().with_only_columns(PaperSignal.__table__.c.kind)
                )
            }
        assert kinds == {"entry_long", "exit_long", "entry_short", "exit_short"}
    finally:
        store.dispose()
