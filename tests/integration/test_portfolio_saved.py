"""Saved portfolios and portfolio runs on SQLite and a real PostgreSQL (migrations 0003, 0009)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from core.data.store import init_db
from core.errors import InputError
from core.portfolio import delete_portfolio, list_portfolios, load_portfolio, save_portfolio

pytestmark = pytest.mark.integration


def test_saved_portfolios_round_trip(store_url):
    store = init_db(store_url)
    try:
        cols = {c["name"] for c in inspect(store.engine).get_columns("portfolios")}
        assert cols == {"id", "name", "tickers", "weights", "parameters", "created_at", "owner"}
        w = {"PETR4": 0.6, "vale3": 0.4}
        params = {"objective": "max_sharpe", "bounds": [0, 1], "start": "2015-01-01"}
        rec = save_portfolio(store, "Minha carteira", w, params)
        assert rec["tickers"] == ["PETR4", "VALE3"]
        assert rec["weights"] == {"PETR4": 0.6, "VALE3": 0.4}
        assert rec["parameters"] == params
        save_portfolio(store, "Outra", {"ITUB4": 1.0})
        assert [r["name"] for r in list_portfolios(store)][:2] in (
            ["Outra", "Minha carteira"],
            ["Minha carteira", "Outra"],
        )
        assert {r["name"] for r in list_portfolios(store)} == {"Minha carteira", "Outra"}
        with pytest.raises(InputError, match="Já existe"):
            save_portfolio(store, "Minha carteira", {"ITUB4": 1.0})
        save_portfolio(store, "Minha carteira", {"ITUB4": 1.0}, overwrite=True)
        assert load_portfolio(store, "Minha carteira")["weights"] == {"ITUB4": 1.0}
        with pytest.raises(InputError, match="não encontrada.*Minha carteira"):
            load_portfolio(store, "nope")
        with pytest.raises(InputError, match="somam"):
            save_portfolio(store, "x", {"PETR4": 0.5})
        with pytest.raises(InputError, match="nome"):
            save_portfolio(store, "  ", {"PETR4": 1.0})
        assert delete_portfolio(store, "Outra") and not delete_portfolio(store, "Outra")
        # Reopening (migrating again) keeps the rows.
        store.dispose()
        store = init_db(store_url)
        assert [r["name"] for r in list_portfolios(store)] == ["Minha carteira"]
    finally:
        store.dispose()


def test_migration_downgrade_and_upgrade(store_url):
    from alembic import command
    from alembic.config import Config

    from core.data.store import MIGRATIONS_DIR

    store = init_db(store_url)
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0008")
        assert "portfolio_runs" not in inspect(store.engine).get_table_names()
        assert "portfolios" in inspect(store.engine).get_table_names()
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
        assert "portfolios" not in inspect(store.engine).get_table_names()
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        assert {"portfolios", "portfolio_runs"} <= set(inspect(store.engine).get_table_names())
    finally:
        store.dispose()


def test_portfolio_runs_round_trip(store_url):
    from core.portfolio import latest_run, list_runs, load_run, save_run

    store = init_db(store_url)
    try:
        cols = {c["name"] for c in inspect(store.engine).get_columns("portfolio_runs")}
        assert cols == {"id", "created_at", "kind", "owner", "parameters", "summary", "result"}
        big = {"equity": {"dates": ["2024-01-02"] * 5000, "series": {"x": [1.5] * 5000}}}
        rid = save_run(store, "walk_forward", {"rebalance": "quarterly"}, big)
        assert load_run(store, rid)["result"] == big
        assert latest_run(store, "walk_forward")["parameters"] == {"rebalance": "quarterly"}
        assert [r["id"] for r in list_runs(store, "walk_forward")] == [rid]
    finally:
        store.dispose()
