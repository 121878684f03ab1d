"""Anomalies: the contract the Quotes chart uses, and a planted shock is found."""

from __future__ import annotations

import pandas as pd
import pytest

from core.data.bundled import read_bundled_bars
from core.errors import InputError
from core.ml.anomalies import SEVERITIES, detect_anomalies


def test_detect_anomalies_contract_and_planted_shock():
    bars = read_bundled_bars("VALE3")[0].iloc[-800:].copy()
    d = bars.index[600]
    k = bars.index.get_loc(d)
    prev = bars["adj_close"].iloc[k - 1]
    for c in ("open", "high", "low", "close", "adj_close"):
        bars.loc[bars.index[k:], c] *= 0.75  # a 25 % crash that stays
    bars.loc[d, "high"] = max(bars.loc[d, "high"], prev)
    bars.loc[d, "volume"] *= 12
    out = detect_anomalies(bars, contamination=0.02)
    assert list(out.columns) == ["score", "severity", "ret_1"]
    assert isinstance(out.index, pd.DatetimeIndex) and out.index.is_monotonic_increasing
    assert set(out["severity"]) <= set(SEVERITIES)
    assert 5 <= len(out) <= 25
    assert d in out.index and out.loc[d, "severity"] == "alta"


def test_short_history_is_empty_and_bad_contamination_raises():
    bars = read_bundled_bars("VALE3")[0].iloc[:30]
    assert detect_anomalies(bars).empty
    with pytest.raises(InputError):
        detect_anomalies(bars, contamination=0.5)
