"""Data-quality checks on a hand-built store with known defects, and the common history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.actions import write_actions
from core.data.calendar import b3_sessions
from core.data.quality import common_history_summary, instrument_quality, quality_report
from core.errors import InputError


def _bars(dates, close):
    close = np.asarray(close, dtype=float)
    return pd.DataFrame(
        {
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "adj_close": close,
            "volume": 1000.0,
        },
        index=pd.DatetimeIndex(dates, name="date"),
    )


def test_known_defects_are_counted(empty_store):
    s = empty_store
    sessions = b3_sessions("2024-01-02", "2024-03-28")
    n = len(sessions)
    dates = sessions.delete([5, 6, 20])  # three gaps
    close = np.full(len(dates), 10.0)
    close[40:] = 20.0  # +100% jump with no corporate action
    close[50:] = 40.0  # +100% jump explained by... nothing either, until we add a split
    b = _bars(dates, close)
    b.iloc[10, b.columns.get_loc("volume")] = 0.0
    b.iloc[12, b.columns.get_loc("low")] = 10.5  # low above the close
    s.upsert_instrument("TEST3")
    s.write_bars("TEST3", b, "csv")
    q = quality_report(s).set_index("ticker").loc["TEST3"]
    assert q["expected_sessions"] == n and q["n_bars"] == n - 3 and q["gaps"] == 3
    assert q["coverage"] == pytest.approx((n - 3) / n)
    assert q["zero_volume"] == 1 and q["ohlc_violations"] == 1 and q["jumps"] == 2
    assert any("lacunas" in f for f in q["flags"])
    write_actions(
        s,
        pd.DataFrame(
            {"ticker": ["TEST3"], "date": [dates[50]], "kind": ["reverse_split"], "value": [0.5]}
        ),
        "csv",
    )
    detail = instrument_quality(s, "TEST3")
    assert detail["jumps"] == 1 and detail["jump_dates"] == [dates[40]]
    assert detail["gap_dates"] == list(sessions[[5, 6, 20]])


def test_report_on_bundled_data(bundled_store):
    q = quality_report(bundled_store, ["PETR4", "^BVSP"])
    assert list(q["ticker"]) == ["PETR4", "^BVSP"]
    assert (q["coverage"] > 0.95).all() and (q["ohlc_violations"] == 0).all()


def test_common_history_summary(bundled_store):
    ch, table = common_history_summary(bundled_store, ["PETR4", "VIVA3", "^BVSP"])
    assert table.set_index("ticker").loc["VIVA3", "limiting"]
    assert table.set_index("ticker").loc["VIVA3", "first_date"] == pd.Timestamp("2019-10-11")
    assert ch.start >= pd.Timestamp("2019-10-11") and not ch.prices.isna().any().any()
    with pytest.raises(InputError):
        common_history_summary(bundled_store, [])


def test_vectorised_report_equals_per_instrument_checks(bundled_store):
    q = quality_report(bundled_store).set_index("ticker")
    for t in q.index:
        d = instrument_quality(bundled_store, t)
        for k in ("n_bars", "expected_sessions", "gaps", "zero_volume", "ohlc_violations", "jumps"):
            assert d[k] == q.loc[t, k], (t, k)
        assert d["coverage"] == pytest.approx(q.loc[t, "coverage"])
