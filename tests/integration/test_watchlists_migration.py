"""Revision 0018 moves the single "Minha lista" (team's and per user) into named lists."""

from __future__ import annotations

from sqlalchemy import inspect, text

from core.data.store import MIGRATIONS_DIR, init_db
from core.data.watchlist import DEFAULT_LIST, list_watchlists, watchlist


def _migrate(store, fn, rev):
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, fn)(cfg, rev)


def test_0018_migrates_the_old_lists_and_back(store_url):
    store = init_db(store_url)
    try:
        ids = {t: store.upsert_instrument(t) for t in ("PETR4", "VALE3", "ITUB4")}
        ids = {t: store.instrument(t)["id"] for t in ids}
        _migrate(store, "downgrade", "0017")
        assert "watchlists" not in inspect(store.engine).get_table_names()
        with store.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO watchlist (instrument_id, position) VALUES (:a, 0), (:b, 1)"),
                {"a": ids["VALE3"], "b": ids["PETR4"]},
            )
            conn.execute(
                text(
                    "INSERT INTO user_watchlists (owner, instrument_id, position) VALUES ('ana', :a, 0)"
                ),
                {"a": ids["ITUB4"]},
            )
        _migrate(store, "upgrade", "head")
        names = set(inspect(store.engine).get_table_names())
        assert {"watchlists", "watchlist_entries"} <= names
        assert not {"watchlist", "user_watchlists"} & names
        assert watchlist(store) == ["VALE3", "PETR4"]
        assert [(w.name, w.owner, w.tickers) for w in list_watchlists(store, owner="ana")] == [
            (DEFAULT_LIST, "ana", ("ITUB4",))
        ]
        _migrate(store, "downgrade", "0017")
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM watchlist")).scalar() == 2
            assert conn.execute(text("SELECT owner FROM user_watchlists")).scalar() == "ana"
        _migrate(store, "upgrade", "head")
    finally:
        store.dispose()
