"""Indicators equal TA-Lib's and independent textbook formulas on real bundled data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from core import indicators as ind
from core.errors import InputError
from tests.helpers import real_bars

BURN_IN = 300  # after this many bars, SMA-seeded and plain recursive EMAs agree to 1e-9


@pytest.fixture(scope="module")
def bars():
    return real_bars("PETR4")


def _close(a, b, start=0, rtol=1e-9, atol=1e-8):
    a, b = np.asarray(a, dtype=float)[start:], np.asarray(b, dtype=float)[start:]
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def test_equal_to_talib_on_real_data(bars):
    c, h, lo, v = (bars[k].to_numpy() for k in ("close", "high", "low", "volume"))
    _close(ind.sma(bars.close, 20), talib.SMA(c, 20))
    _close(ind.ema(bars.close, 9), talib.EMA(c, 9))
    _close(ind.rsi(bars.close), talib.RSI(c, 14))
    m = ind.macd(bars.close)
    _close(m["macd"], talib.MACD(c, 12, 26, 9)[0])
    _close(m["hist"], talib.MACD(c, 12, 26, 9)[2])
    _close(ind.bollinger(bars.close)["upper"], talib.BBANDS(c, 20, 2, 2, 0)[0])
    _close(ind.atr(bars), talib.ATR(h, lo, c, 14))
    _close(ind.adx(bars)["adx"], talib.ADX(h, lo, c, 14))
    _close(ind.obv(bars), talib.OBV(c, v))
    _close(ind.stochastic(bars)["d"], talib.STOCH(h, lo, c, 14, 3, 0, 3, 0)[1])


def test_sma_and_bollinger_match_pandas_rolling(bars):
    c = bars.close
    _close(ind.sma(c, 50), c.rolling(50).mean(), start=49)
    bb = ind.bollinger(c, 20, 2.0)
    mid, sd = c.rolling(20).mean(), c.rolling(20).std(ddof=0)
    _close(bb["middle"], mid, start=19)
    _close(bb["upper"], mid + 2 * sd, start=19, rtol=1e-7)
    _close(bb["lower"], mid - 2 * sd, start=19, rtol=1e-7)


def test_ema_and_macd_match_recursive_definition(bars):
    c = bars.close
    _close(ind.ema(c, 21), c.ewm(span=21, adjust=False).mean(), start=BURN_IN)
    m = ind.macd(c)
    ref = c.ewm(span=12, adjust=False).mean() - c.ewm(span=26, adjust=False).mean()
    _close(m["macd"], ref, start=BURN_IN, rtol=1e-6, atol=1e-7)
    _close(m["signal"], ref.ewm(span=9, adjust=False).mean(), start=BURN_IN, rtol=1e-6, atol=1e-7)


def _wilder(x: pd.Series, n: int) -> pd.Series:
    return x.ewm(alpha=1 / n, adjust=False).mean()


def test_rsi_is_wilders(bars):
    c = bars.close
    d = c.diff()
    gain, loss = d.clip(lower=0), (-d).clip(lower=0)
    ref = 100 - 100 / (1 + _wilder(gain.fillna(0), 14) / _wilder(loss.fillna(0), 14))
    _close(ind.rsi(c, 14), ref, start=BURN_IN, rtol=1e-6, atol=1e-6)


def test_atr_and_adx_are_wilders(bars):
    h, lo, c = bars.high, bars.low, bars.close
    tr = pd.concat([h - lo, (h - c.shift()).abs(), (lo - c.shift()).abs()], axis=1).max(axis=1)
    _close(
        ind.atr(bars, 14),
        _wilder(tr.iloc[1:], 14).reindex(bars.index),
        start=BURN_IN,
        rtol=1e-6,
        atol=1e-7,
    )
    up, down = h.diff(), -lo.diff()
    plus_dm = up.where((up > down) & (up > 0), 0.0)
    minus_dm = down.where((down > up) & (down > 0), 0.0)
    atr_ = _wilder(tr.iloc[1:], 14)
    pdi = 100 * _wilder(plus_dm.iloc[1:], 14) / atr_
    mdi = 100 * _wilder(minus_dm.iloc[1:], 14) / atr_
    adx_ref = _wilder((100 * (pdi - mdi).abs() / (pdi + mdi)).fillna(0), 14)
    out = ind.adx(bars, 14)
    _close(out["plus_di"], pdi.reindex(bars.index), start=BURN_IN, rtol=1e-6, atol=1e-6)
    _close(out["minus_di"], mdi.reindex(bars.index), start=BURN_IN, rtol=1e-6, atol=1e-6)
    _close(out["adx"], adx_ref.reindex(bars.index), start=BURN_IN * 2, rtol=1e-5, atol=1e-5)


def test_obv_and_stochastic_definitions(bars):
    c, v = bars.close, bars.volume
    sign = np.sign(c.diff()).fillna(0)
    ref = (sign * v).cumsum() + v.iloc[0]
    _close(ind.obv(bars), ref)
    ll, hh = bars.low.rolling(14).min(), bars.high.rolling(14).max()
    fast_k = 100 * (c - ll) / (hh - ll)
    slow_k = fast_k.rolling(3).mean()
    st = ind.stochastic(bars, 14, 3)
    _close(st["k"], slow_k, start=20, rtol=1e-7, atol=1e-7)
    _close(st["d"], slow_k.rolling(3).mean(), start=20, rtol=1e-7, atol=1e-7)


def test_alignment_and_warm_up(bars):
    part = bars.iloc[:100]
    assert ind.sma(part.close, 20).index.equals(part.index)
    assert ind.sma(part.close, 20).isna().sum() == 19
    assert ind.rsi(part.close, 14).isna().sum() == 14
    assert ind.atr(part, 14).isna().sum() == 14
    assert ind.adx(part, 14)["adx"].isna().sum() == 27
    assert list(ind.macd(part.close).columns) == ["macd", "signal", "hist"]
    assert list(ind.bollinger(part.close).columns) == ["lower", "middle", "upper"]
    assert list(ind.adx(part).columns) == ["adx", "plus_di", "minus_di"]
    assert list(ind.stochastic(part).columns) == ["k", "d"]


def test_bad_parameters_raise_input_error(bars):
    with pytest.raises(InputError):
        ind.sma(bars.close, 0)
    with pytest.raises(InputError):
        ind.macd(bars.close, fast=26, slow=12)
    with pytest.raises(InputError):
        ind.bollinger(bars.close, k=-1)
    with pytest.raises(InputError):
        ind.atr(bars.drop(columns=["high"]))
