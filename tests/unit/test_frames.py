"""core.frames: the block-by-block frame constructor equals ``pd.DataFrame`` exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.frames import column_index, frame_from_columns


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_index_equal(a.columns, b.columns, exact=True)
    pd.testing.assert_index_equal(a.index, b.index, exact=True)
    assert list(a.dtypes) == list(b.dtypes)
    assert sorted(str(blk.dtype) for blk in a._mgr.blocks) == sorted(
        str(blk.dtype) for blk in b._mgr.blocks
    )
    assert a._mgr.is_consolidated() and b._mgr.is_consolidated()


def _columns(n: int) -> dict:
    rng = np.random.default_rng(n)
    dates = pd.date_range("2015-01-02", periods=n, freq="B")
    return {
        "ticker": ["PETR4", "VALE3"] * (n // 2) + ["ITUB4"] * (n % 2),
        "direction": np.where(rng.random(n) > 0.5, "compra", "venda"),
        "entry_date": dates,
        "entry_price": rng.random(n),
        "exit_date": dates.as_unit("ns").to_numpy() + np.timedelta64(3, "D"),
        "shares": rng.integers(0, 1000, n),
        "flag": rng.random(n) > 0.5,
        "pnl": np.where(rng.random(n) > 0.9, np.nan, rng.normal(size=n)),
        "small": rng.integers(0, 9, n).astype(np.int32),
        "f32": rng.random(n).astype(np.float32),
        "month": pd.PeriodIndex(dates, freq="M").array,
        "reason": np.array(["sinal"] * n, dtype=object),
    }


@pytest.mark.parametrize("n", [1, 2, 65])
def test_frame_from_columns_equals_the_dataframe_constructor(n):
    cols = _columns(n)
    _same(frame_from_columns(cols), pd.DataFrame(cols))
    idx = pd.Index(np.arange(n) * 2, name="i")
    _same(frame_from_columns(cols, index=idx), pd.DataFrame(cols, index=idx))


def test_frame_from_columns_falls_back_on_what_it_does_not_know():
    n = 4
    for odd in (
        [1, "a", None, 2.0],  # mixed objects
        pd.date_range("2024-01-01", periods=n, tz="America/Sao_Paulo"),  # tz-aware
        np.arange(n).astype("datetime64[D]"),  # a unit pandas converts
        pd.Series(np.arange(n)),  # a Series (aligned on its index)
        np.full(n, 1 + 1j),  # complex
    ):
        cols = {"a": np.arange(n, dtype=float), "odd": odd}
        _same(frame_from_columns(cols), pd.DataFrame(cols))


def test_frame_from_columns_copies_and_checks_lengths():
    a = np.arange(3, dtype=float)
    df = frame_from_columns({"a": a, "b": np.ones(3)})
    df.iloc[0, 0] = 99.0
    a[1] = -1.0
    assert a[0] == 0.0 and df["a"].tolist() == [99.0, 1.0, 2.0]
    with pytest.raises(ValueError):
        frame_from_columns({"a": np.ones(3), "b": np.ones(2)})
    with pytest.raises(ValueError):
        frame_from_columns({"a": np.ones(3)}, index=pd.RangeIndex(4))


def test_column_index_is_a_fresh_view():
    a = column_index(["x", "y"])
    a.name = "renamed"
    b = column_index(["x", "y"])
    assert b.name is None and a is not b
    pd.testing.assert_index_equal(b, pd.Index(["x", "y"]), exact=True)
