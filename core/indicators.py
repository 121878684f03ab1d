"""Technical indicators on canonical bars, computed by TA-Lib.

Every function takes pandas objects in the canonical bar shape (:mod:`core.data.schema`) and
returns objects aligned to the input index, NaN during the warm-up. Values are TA-Lib's (the
``TA-Lib`` package wraps the C library); ``tests/unit/test_indicators.py`` also checks them
against independent pandas formulas on real bundled data.

Units: moving averages, Bollinger bands and ATR in the price's unit (R$ or points); RSI,
ADX, +DI, -DI and the stochastic in points from 0 to 100; MACD in price units; OBV in
shares (cumulative signed volume).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import talib

from core.errors import InputError

#: TA-Lib simple moving average (the int 0 at run time; an enum member in its stubs).
_SMA = talib.MA_Type.SMA

__all__ = [
    "sma",
    "sma_values",
    "values",
    "ema",
    "rsi",
    "macd",
    "bollinger",
    "atr",
    "adx",
    "obv",
    "stochastic",
    "INDICATORS",
]


def _period(p: int, name: str = "period", minimum: int = 1) -> int:
    try:
        p = int(p)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} deve ser um inteiro, não {p!r}.") from exc
    if p < minimum:
        raise InputError(f"{name} deve ser ≥ {minimum} (recebido {p}).")
    return p


def _arr(s: pd.Series) -> np.ndarray:
    return np.ascontiguousarray(s.to_numpy(dtype="float64"))


def _cols(bars: pd.DataFrame, *names: str) -> list[np.ndarray]:
    missing = [n for n in names if n not in bars.columns]
    if missing:
        raise InputError(f"Colunas ausentes: {', '.join(missing)}.")
    return [_arr(bars[n]) for n in names]


def values(bars: pd.DataFrame, column: str) -> np.ndarray:
    """One column of ``bars`` as a contiguous float64 array (shape (n,)).

    Raises
    ------
    InputError
        If the column is missing.
    """
    return _cols(bars, column)[0]


def sma_values(close: np.ndarray, period: int) -> np.ndarray:
    """:func:`sma` on a float64 array (shape (n,), same unit): the one computation,
    without the pandas wrapper (a replay calls it once per bar and ticker)."""
    return talib.SMA(np.ascontiguousarray(close, dtype="float64"), timeperiod=_period(period))


def sma(close: pd.Series, period: int) -> pd.Series:
    """Simple moving average of ``close`` over ``period`` bars (TA-Lib ``SMA``).

    Returns
    -------
    pandas.Series
        Same index as ``close``; NaN for the first ``period - 1`` bars.
    """
    p = _period(period)
    return pd.Series(sma_values(_arr(close), p), index=close.index, name=f"sma_{p}")


def ema(close: pd.Series, period: int) -> pd.Series:
    """Exponential moving average, alpha = 2 / (period + 1), seeded with the SMA (TA-Lib ``EMA``).

    Returns
    -------
    pandas.Series
        Same index as ``close``; NaN for the first ``period - 1`` bars.
    """
    p = _period(period)
    return pd.Series(talib.EMA(_arr(close), timeperiod=p), index=close.index, name=f"ema_{p}")


def rsi(close: pd.Series, period: int = 14) -> pd.Series:
    """Relative Strength Index with Wilder's smoothing (Wilder, 1978; TA-Lib ``RSI``).

    Returns
    -------
    pandas.Series
        0-100, same index; NaN for the first ``period`` bars.
    """
    p = _period(period, minimum=2)
    return pd.Series(talib.RSI(_arr(close), timeperiod=p), index=close.index, name=f"rsi_{p}")


def macd(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    """MACD (Appel): EMA(fast) − EMA(slow), its EMA(signal) and the histogram (TA-Lib ``MACD``).

    Returns
    -------
    pandas.DataFrame
        Columns ``macd, signal, hist``; same index; NaN for the first
        ``slow + signal - 2`` bars.

    Raises
    ------
    InputError
        If ``fast >= slow``.
    """
    f, s, g = _period(fast, "fast", 2), _period(slow, "slow", 2), _period(signal, "signal")
    if f >= s:
        raise InputError(f"MACD: fast ({f}) deve ser menor que slow ({s}).")
    m, sig, h = talib.MACD(_arr(close), fastperiod=f, slowperiod=s, signalperiod=g)
    return pd.DataFrame({"macd": m, "signal": sig, "hist": h}, index=close.index)


def bollinger(close: pd.Series, period: int = 20, k: float = 2.0) -> pd.DataFrame:
    """Bollinger bands: SMA(period) ± k population standard deviations (TA-Lib ``BBANDS``).

    Returns
    -------
    pandas.DataFrame
        Columns ``lower, middle, upper``; same index; NaN for the first ``period - 1`` bars.
    """
    p = _period(period, minimum=2)
    k = float(k)
    if not k > 0:
        raise InputError(f"Bollinger: k deve ser positivo (recebido {k}).")
    up, mid, lo = talib.BBANDS(_arr(close), timeperiod=p, nbdevup=k, nbdevdn=k, matype=_SMA)
    return pd.DataFrame({"lower": lo, "middle": mid, "upper": up}, index=close.index)


def atr(bars: pd.DataFrame, period: int = 14) -> pd.Series:
    """Average True Range with Wilder's smoothing (Wilder, 1978; TA-Lib ``ATR``).

    Returns
    -------
    pandas.Series
        Price units; same index; NaN for the first ``period`` bars.
    """
    p = _period(period)
    h, lo, c = _cols(bars, "high", "low", "close")
    return pd.Series(talib.ATR(h, lo, c, timeperiod=p), index=bars.index, name=f"atr_{p}")


def adx(bars: pd.DataFrame, period: int = 14) -> pd.DataFrame:
    """Average Directional Index with +DI and −DI (Wilder, 1978; TA-Lib ``ADX``/``PLUS_DI``/``MINUS_DI``).

    Returns
    -------
    pandas.DataFrame
        Columns ``adx, plus_di, minus_di`` (0-100); same index; ``adx`` is NaN for the
        first ``2 * period - 1`` bars, the DIs for the first ``period``.
    """
    p = _period(period, minimum=2)
    h, lo, c = _cols(bars, "high", "low", "close")
    return pd.DataFrame(
        {
            "adx": talib.ADX(h, lo, c, timeperiod=p),
            "plus_di": talib.PLUS_DI(h, lo, c, timeperiod=p),
            "minus_di": talib.MINUS_DI(h, lo, c, timeperiod=p),
        },
        index=bars.index,
    )


def obv(bars: pd.DataFrame) -> pd.Series:
    """On-Balance Volume (Granville, 1963; TA-Lib ``OBV``), cumulative from the first bar.

    Returns
    -------
    pandas.Series
        Shares; same index; starts at the first bar's volume (TA-Lib convention).
    """
    c, v = _cols(bars, "close", "volume")
    return pd.Series(talib.OBV(c, v), index=bars.index, name="obv")


def stochastic(bars: pd.DataFrame, k: int = 14, d: int = 3) -> pd.DataFrame:
    """Slow stochastic oscillator (Lane): %K over ``k`` bars smoothed by SMA(3), %D = SMA(d) of %K.

    This is TA-Lib ``STOCH`` with ``fastk_period=k, slowk_period=3, slowd_period=d`` and simple
    moving averages, the usual charting default (14, 3, 3).

    Returns
    -------
    pandas.DataFrame
        Columns ``k, d`` (0-100); same index; NaN for the first ``k + 3 + d - 3`` bars.
    """
    kp, dp = _period(k, "k"), _period(d, "d")
    h, lo, c = _cols(bars, "high", "low", "close")
    sk, sd = talib.STOCH(
        h,
        lo,
        c,
        fastk_period=kp,
        slowk_period=3,
        slowk_matype=_SMA,
        slowd_period=dp,
        slowd_matype=_SMA,
    )
    return pd.DataFrame({"k": sk, "d": sd}, index=bars.index)


#: Names of the indicators offered as lower panels, mapped to their functions.
INDICATORS = {
    "rsi": rsi,
    "macd": macd,
    "stochastic": stochastic,
    "atr": atr,
    "adx": adx,
    "obv": obv,
}
