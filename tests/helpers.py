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
