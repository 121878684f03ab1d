"""Small documented helpers for tests: real bundled bars and hand-made frames."""

from __future__ import annotations

import pandas as pd

from core.data.bundled import read_bundled_bars


def real_bars(ticker: str = "PETR4") -> pd.DataFrame:
    """Cleaned canonical bars of a bundled instrument (real B3 data)."""
    return read_bundled_bars(ticker)[0]


def make_bars(rows: list[tuple], start: str = "2024-01-02") -> pd.DataFrame:
    """Canonical bars from ``(open, high, low, close, volume)`` tuples on consecutive weekdays.

    ``adj_close`` equals ``close``.
    """
    idx = pd.bdate_range(start, periods=len(rows), name="date").astype("datetime64[ns]")
    df = pd.DataFrame(
        rows, index=idx, columns=["open", "high", "low", "close", "volume"], dtype="float64"
    )
    df["adj_close"] = df["close"]
    return df[["open", "high", "low", "close", "adj_close", "volume"]]


def engine_bars(rows: list[tuple], start: str = "2024-01-01") -> pd.DataFrame:
    """Engine-test bars from ``(open, high, low, close)`` tuples on consecutive weekdays
    (``adj_close = close``, volume 1e6 shares)."""
    idx = pd.bdate_range(start, periods=len(rows), name="date")
    df = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=idx, dtype=float)
    df["adj_close"] = df["close"]
    df["volume"] = 1e6
    return df


def engine_signals(index: pd.DatetimeIndex, **cols) -> pd.DataFrame:
    """Engine signals on ``index``: ``entry_long=[i, ...]`` (bar positions) for the boolean
    columns, ``stop={i: price}`` for the level columns (NaN elsewhere)."""
    import numpy as np

    n = len(index)
    out = pd.DataFrame(index=index)
    for name in ("entry_long", "exit_long", "entry_short", "exit_short"):
        a = np.zeros(n, dtype=bool)
        for i in cols.get(name, []):
            a[i] = True
        out[name] = a
    for name in ("stop", "target", "entry_level"):
        if name in cols:
            a = np.full(n, np.nan)
            for i, v in cols[name].items():
                a[i] = v
            out[name] = a
    return out


def engine_config(**kw):
    """An :class:`~core.backtest.engine.EngineConfig` for hand-computed cases: R$ 1.000, no
    costs, 1-share lots, overridden by ``kw``."""
    from core.backtest.costs import NO_COSTS
    from core.backtest.engine import EngineConfig
    from core.backtest.sizing import Sizing

    base = dict(cash=1000.0, costs=NO_COSTS, sizing=Sizing(lot_size=1))
    base.update(kw)
    return EngineConfig(**base)
