"""Stored runs on SQLite and PostgreSQL: save, list, reopen, delete."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest.engine import EngineConfig
from core.backtest.runner import run_backtest
from core.backtest.runs import count_runs, delete_run, list_runs, load_run, save_run
from core.backtest.sizing import Sizing
from core.data.bundled import read_bundled_bars, read_bundled_cdi
from core.data.store import init_db
from core.errors import InputError


@pytest.fixture
def small_store(store_url):
    """A store with PETR4, VALE3, ^BVSP and the CDI for 2019-2021 only (fast on PG)."""
    store = init_db(store_url)
    for t, kind in (("PETR4", "stock"), ("VALE3", "stock"), ("^BVSP", "index")):
        store.upsert_instrument(t, kind=kind)
        b, _ = read_bundled_bars(t)
        store.write_bars(t, b.loc["2019-01-01":"2021-12-31"], source="bundled")
    store.write_rates("CDI", read_bundled_cdi().loc["2019-01-01":"2021-12-31"])
    yield store
    store.dispose()


def test_run_is_stored_and_reopened_identically(small_store):
    cfg = EngineConfig(cash=50_000, sizing=Sizing("percent", 40), stop_loss=0.07)
    res = run_backtest(
        small_store,
        "sma_cross",
        ["PETR4", "VALE3"],
        "2020-01-01",
        "2021-12-30",
        params={"fast": 5, "slow": 20},
        config=cfg,
    )
    rid = save_run(small_store, res, name="teste")
    assert res.run_id == rid and count_runs(small_store) == 1
    back = load_run(small_store, rid)
    assert back.strategy == "sma_cross" and back.params == {"fast": 5, "slow": 20}
    assert back.tickers == ["PETR4", "VALE3"]
    # the stored config says which proventos policy the run used (sma_cross: cash)
    assert back.config == res.config and res.config.reinvest is False
    assert back.price_mode == res.price_mode == "traded"
    assert back.extra["code_version"]
    np.testing.assert_allclose(back.equity.to_numpy(), res.equity.to_numpy())
    assert (back.equity.index == res.equity.index).all()
    cols = ["ticker", "entry_price", "exit_price", "shares", "pnl", "fees", "exit_reason"]
    pd.testing.assert_frame_equal(back.trades[cols], res.trades[cols], check_dtype=False)
    assert (back.trades["entry_date"].to_numpy() == res.trades["entry_date"].to_numpy()).all()
    for k, v in res.metrics.items():
        if isinstance(v, float) and np.isnan(v):
            assert np.isnan(back.metrics[k])
        else:
            assert back.metrics[k] == pytest.approx(v), k
    pd.testing.assert_frame_equal(back.taxes, res.taxes, check_dtype=False)
    runs = list_runs(small_store)
    assert runs.iloc[0]["id"] == rid and runs.iloc[0]["name"] == "teste"
    assert delete_run(small_store, rid) and count_runs(small_store) == 0
    with pytest.raises(InputError):
        load_run(small_store, rid)
