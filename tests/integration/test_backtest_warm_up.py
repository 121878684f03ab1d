"""Issue 9: ``warm_up(store)`` leaves every stored stock's default-run inputs in the read
cache, so the user's first backtest in a fresh process does not wait for its bars (before,
only a month of the first stock was read and the first run was ~15× the second)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.backtest.engine import warm_up
from core.data.store import init_db


def _bars(seed: int) -> pd.DataFrame:
    idx = pd.bdate_range("2011-01-03", "2012-06-29", name="date")
    rng = np.random.default_rng(seed)
    close = 20.0 * np.cumprod(1.0 + rng.normal(0.0, 0.015, len(idx)))
    return pd.DataFrame(
        {
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "adj_close": close,
            "volume": 1e6,
        },
        index=idx,
    )


def test_warm_up_caches_each_stocks_inputs_and_writes_nothing(sqlite_file_url):
    store = init_db(sqlite_file_url)
    try:
        for k, t in enumerate(["AAAA3", "BBBB4"]):
            store.upsert_instrument(t, kind="stock")
            store.write_bars(t, _bars(k), "csv")
        key = ("runner.load_inputs", ("BBBB4",), None, False, 100, "1d")
        assert store.peek(key)[0] is False
        version = store.data_version()
        warm_up(store)
        assert store.data_version() == version  # read-only
        hit, inputs = store.peek(key)
        assert hit and len(inputs.bars["BBBB4"]) == len(_bars(1))
    finally:
        store.dispose()
