"""Market snapshot and quote statistics: hand-made cases and real bundled values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.market import (
    annualised_volatility,
    beta,
    data_freshness,
    market_snapshot,
    period_change,
    rebase,
    resolve_range,
)


def _series(values, start="2023-12-26"):
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype=float)


def test_period_change_uses_last_close_on_or_before_reference():
    # 2023-12-26 .. 2024-01-05 (9 weekdays); YTD reference = last close of 2023 (2023-12-29).
    s = _series([100, 101, 102, 103, 110, 111, 112, 113, 121])
    assert period_change(s, "1d") == pytest.approx(121 / 113 - 1)
    assert period_change(s, "ytd") == pytest.approx(121 / 103 - 1)
    # 1 week back from 2024-01-05 is 2023-12-29 -> close 103.
    assert period_change(s, "1w") == pytest.approx(121 / 103 - 1)
    assert np.isnan(period_change(s, "12m"))  # history too short
    with pytest.raises(InputError):
        period_change(s, "2y")


def test_beta_and_volatility():
    rng = np.random.default_rng(0)
    m = pd.Series(
        100 * np.exp(np.cumsum(rng.normal(0, 0.01, 400))),
        index=pd.bdate_range("2020-01-01", periods=400),
    )
    assert beta(m, m) == pytest.approx(1.0)
    lev = (1 + 2 * m.pct_change().fillna(0)).cumprod() * 50
    assert beta(lev, m) == pytest.approx(2.0, rel=1e-9)
    vol = annualised_volatility(m)
    assert vol == pytest.approx(np.log(m).diff().iloc[-252:].std() * np.sqrt(252))
    assert 0.1 < vol < 0.2


def test_resolve_range():
    idx = pd.bdate_range("2020-01-01", "2024-11-14")
    s, e = resolve_range(idx, "1A")
    assert e == pd.Timestamp("2024-11-14") and s == pd.Timestamp("2023-11-14")
    s, e = resolve_range(idx, "YTD")
    assert s == pd.Timestamp("2024-01-01")
    s, e = resolve_range(idx, "Máx")
    assert s == idx[0]
    s, e = resolve_range(idx, "1A", start="2021-03-01", end="2021-03-31")
    assert (s, e) == (pd.Timestamp("2021-03-01"), pd.Timestamp("2021-03-31"))
    with pytest.raises(InputError, match="invertido"):
        resolve_range(idx, None, start="2022-01-10", end="2022-01-01")
    with pytest.raises(InputError, match="Nenhum pregão"):
        resolve_range(idx, None, start="2030-01-01", end="2030-02-01")
    with pytest.raises(InputError):
        resolve_range(idx, "10A")


def test_rebase():
    assert rebase(pd.Series([np.nan, 50.0, 75.0])).tolist()[1:] == [100.0, 150.0]


def test_snapshot_on_real_data(bundled_store):
    snap = market_snapshot(bundled_store).set_index("ticker")
    assert len(snap) == 24
    petr = snap.loc["PETR4"]
    assert petr.close == pytest.approx(37.27, abs=1e-4)
    assert petr.last_date == pd.Timestamp("2024-11-14")
    assert petr.low_52w <= petr.close <= petr.high_52w
    bars = bundled_store.bars("PETR4")
    assert petr.chg_1d == pytest.approx(bars.adj_close.iloc[-1] / bars.adj_close.iloc[-2] - 1)
    assert petr.avg_volume_20 == pytest.approx(bars.volume.iloc[-21:-1].mean())
    assert snap.loc["^BVSP", "kind"] == "index"
    as_of, others = data_freshness(snap.reset_index())
    assert as_of == pd.Timestamp("2024-11-14")
    assert set(others) == {"PRIO3", "VIVA3", "^BVSP"}


def test_snapshot_sector_traded_value_and_month_path(bundled_store):
    snap = market_snapshot(bundled_store).set_index("ticker")
    petr = snap.loc["PETR4"]
    assert petr.sector == "Petróleo, Gás e Biocombustíveis"
    assert petr.traded_value == pytest.approx(petr.close * petr.volume)
    adj = bundled_store.bars("PETR4")["adj_close"]
    assert petr.spark_1m == pytest.approx(adj.iloc[-22:].tolist(), abs=1e-4)
    assert np.isnan(snap.loc["^BVSP"].traded_value)  # index volume is not in shares
