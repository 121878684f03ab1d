"""Causal features of daily bars for direction models.

Every feature at date ``t`` is computed from bars dated ``<= t`` only (a test changes and
removes rows after ``t`` and checks that nothing at ``t`` moves). Prices are the
dividend-adjusted series: ``C = adj_close`` and the open/high/low are scaled by
``adj_close / close`` so candles, ATR and ranges are on the same scale. Every feature is a
ratio, so the (backward) dividend adjustment of later dates, which multiplies all earlier
prices by one constant, leaves them unchanged.

Notation: ``C_t`` adjusted close, ``O/H/L`` adjusted open/high/low, ``V_t`` volume,
``r_t = ln(C_t / C_{t-1})`` the session log return, ``SMA_n``/``EMA_n`` moving averages of
``C`` over ``n`` sessions. Windows are in sessions. :data:`FEATURE_DOCS` holds the formula
and window of every column; :data:`SEED_FEATURES` is the 20-feature set of the seed study.

A flattened lookback window (``lookback=L``) appends, for every base feature ``f``, the
columns ``f__lag1 .. f__lag{L-1}`` = ``f`` shifted by 1..L-1 sessions (5 days × 20 features
= 100 inputs in the seed protocol).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import talib

from core.errors import InputError

__all__ = [
    "FEATURE_DOCS",
    "FEATURE_VERSION",
    "BASE_FEATURES",
    "INDEX_FEATURES",
    "SEED_FEATURES",
    "build_features",
    "add_lookback",
    "feature_columns",
    "adjusted_ohlc",
    "WARMUP",
]

#: Formula and window (sessions) of each feature column.
FEATURE_DOCS: dict[str, tuple[str, int]] = {
    "ret_1": ("r_t = ln(C_t / C_{t-1})", 1),
    "ret_2": ("r_{t-1}", 2),
    "ret_3": ("r_{t-2}", 3),
    "ret_4": ("r_{t-3}", 4),
    "ret_5": ("r_{t-4}", 5),
    "mom_5": ("C_t / C_{t-5} - 1", 5),
    "mom_10": ("C_t / C_{t-10} - 1", 10),
    "mom_20": ("C_t / C_{t-20} - 1", 20),
    "vol_5": ("sample std of r over t-4..t", 5),
    "vol_20": ("sample std of r over t-19..t", 20),
    "atr_pct": ("ATR_14 (Wilder, TA-Lib ATR) / C_t", 14),
    "ema_diff": ("(EMA_9 - EMA_21) / C_t", 21),
    "ema_slope": ("ema_diff_t - ema_diff_{t-1}", 22),
    "adx": ("ADX_14 (Wilder, TA-Lib ADX) / 100", 27),
    "volume_ratio": ("V_t / mean(V, t-19..t)", 20),
    "volume_trend": ("mean(V, 5) / mean(V, 20) - 1", 20),
    "px_sma5": ("C_t / SMA_5 - 1", 5),
    "px_sma10": ("C_t / SMA_10 - 1", 10),
    "px_sma20": ("C_t / SMA_20 - 1", 20),
    "sma5_sma20": ("SMA_5 / SMA_20 - 1", 20),
    "sma10_sma20": ("SMA_10 / SMA_20 - 1", 20),
    "dist_high20": ("C_t / max(H, t-19..t) - 1", 20),
    "dist_low20": ("C_t / min(L, t-19..t) - 1", 20),
    "doji": ("TA-Lib CDLDOJI != 0 (body small vs the average range of 10 sessions)", 10),
    "hammer": ("TA-Lib CDLHAMMER != 0", 10),
    "engulfing": ("TA-Lib CDLENGULFING: +1 bullish, -1 bearish, 0 none", 2),
    "regime_bull": ("market C > SMA_50 and SMA_20 > SMA_50 (market = ^BVSP when given)", 50),
    "regime_bear": ("market C < SMA_50 and SMA_20 < SMA_50", 50),
    "regime_side": ("neither bull nor bear", 50),
    "dow_0": ("1 on Mondays", 0),
    "dow_1": ("1 on Tuesdays", 0),
    "dow_2": ("1 on Wednesdays", 0),
    "dow_3": ("1 on Thursdays", 0),
    "dow_4": ("1 on Fridays", 0),
    "idx_ret_1": ("^BVSP r_t (stocks only, on the stock's dates)", 1),
    "idx_ret_5": ("^BVSP C_t / C_{t-5} - 1", 5),
    "idx_vol_20": ("^BVSP sample std of r over 20 sessions", 20),
    "idx_px_sma20": ("^BVSP C_t / SMA_20 - 1", 20),
}

#: Version of the feature definitions; bump it whenever a formula or window above changes, so
#: that a stored model trained on the old definitions is flagged when loaded.
FEATURE_VERSION = "2026.11-1"

#: Features computed from the instrument's own bars.
BASE_FEATURES: tuple[str, ...] = tuple(k for k in FEATURE_DOCS if not k.startswith("idx_"))
#: Features computed from the ^BVSP bars (added when ``index_bars`` is given).
INDEX_FEATURES: tuple[str, ...] = tuple(k for k in FEATURE_DOCS if k.startswith("idx_"))
#: The seed study's 20 base features (× a 5-session window = 100 inputs).
SEED_FEATURES: tuple[str, ...] = (
    "ret_1",
    "ret_2",
    "ret_3",
    "ret_4",
    "ret_5",
    "mom_5",
    "mom_10",
    "mom_20",
    "vol_5",
    "vol_20",
    "atr_pct",
    "ema_diff",
    "ema_slope",
    "adx",
    "volume_ratio",
    "volume_trend",
    "px_sma5",
    "px_sma20",
    "dist_high20",
    "dist_low20",
)
#: Sessions of history needed before every base feature is defined.
WARMUP = 50


def adjusted_ohlc(bars: pd.DataFrame) -> pd.DataFrame:
    """Open/high/low/close scaled by ``adj_close / close`` (dividend-adjusted candles).

    Returns
    -------
    pandas.DataFrame
        Columns ``open, high, low, close, volume`` on the index of ``bars``.
    """
    missing = [c for c in ("open", "high", "low", "close", "adj_close", "volume") if c not in bars]
    if missing:
        raise InputError(f"Barras sem as colunas {', '.join(missing)}.")
    f = (bars["adj_close"] / bars["close"]).to_numpy(dtype="float64")
    out = pd.DataFrame(
        {c: bars[c].to_numpy(dtype="float64") * f for c in ("open", "high", "low")},
        index=bars.index,
    )
    out["close"] = bars["adj_close"].to_numpy(dtype="float64")
    out["volume"] = bars["volume"].to_numpy(dtype="float64")
    return out


def _regime(close: pd.Series) -> pd.DataFrame:
    s20 = close.rolling(20).mean()
    s50 = close.rolling(50).mean()
    valid = s50.notna()
    bull = (close > s50) & (s20 > s50)
    bear = (close < s50) & (s20 < s50)
    side = ~bull & ~bear
    out = pd.DataFrame(
        {"regime_bull": bull, "regime_bear": bear, "regime_side": side}, index=close.index
    ).astype("float64")
    out[~valid] = np.nan
    return out


def build_features(
    bars: pd.DataFrame,
    index_bars: pd.DataFrame | None = None,
    *,
    features: tuple[str, ...] | list[str] | None = None,
    lookback: int = 1,
) -> pd.DataFrame:
    """Feature matrix of one instrument, one row per bar, NaN during the warm-up.

    Parameters
    ----------
    bars : pandas.DataFrame
        Canonical daily bars (:mod:`core.data.schema`), sorted by date.
    index_bars : pandas.DataFrame, optional
        Canonical ^BVSP bars. When given, the ``idx_*`` features are added (aligned on the
        dates of ``bars``; dates the index lacks are NaN) and the regime uses the index.
    features : sequence of str, optional
        Base columns to keep (default: every base feature, plus the ``idx_*`` features when
        ``index_bars`` is given). See :data:`FEATURE_DOCS`.
    lookback : int
        Flattened window length L ≥ 1 (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        Shape ``(len(bars), n_features * lookback)``, float64, index = ``bars.index``.

    Raises
    ------
    InputError
        On unknown feature names, ``lookback < 1`` or missing columns.
    """
    if lookback < 1:
        raise InputError("A janela (lookback) deve ser ≥ 1 sessão.")
    wanted = (
        list(features)
        if features is not None
        else list(BASE_FEATURES) + (list(INDEX_FEATURES) if index_bars is not None else [])
    )
    unknown = [f for f in wanted if f not in FEATURE_DOCS]
    if unknown:
        raise InputError(f"Atributos desconhecidos: {', '.join(unknown)}.")
    if any(f in INDEX_FEATURES for f in wanted) and index_bars is None:
        raise InputError("Os atributos idx_* exigem as barras do ^BVSP (index_bars).")
    px = adjusted_ohlc(bars)
    c, h, lo, o, v = px["close"], px["high"], px["low"], px["open"], px["volume"]
    ca, ha, la, oa = (np.ascontiguousarray(s.to_numpy()) for s in (c, h, lo, o))
    r = np.log(c / c.shift(1))
    f: dict[str, pd.Series] = {}
    for k in range(1, 6):
        f[f"ret_{k}"] = r.shift(k - 1)
    for n in (5, 10, 20):
        f[f"mom_{n}"] = c / c.shift(n) - 1
    f["vol_5"] = r.rolling(5).std()
    f["vol_20"] = r.rolling(20).std()
    f["atr_pct"] = pd.Series(talib.ATR(ha, la, ca, timeperiod=14), index=c.index) / c
    ema9 = pd.Series(talib.EMA(ca, timeperiod=9), index=c.index)
    ema21 = pd.Series(talib.EMA(ca, timeperiod=21), index=c.index)
    f["ema_diff"] = (ema9 - ema21) / c
    f["ema_slope"] = f["ema_diff"].diff()
    f["adx"] = pd.Series(talib.ADX(ha, la, ca, timeperiod=14), index=c.index) / 100.0
    vm20 = v.rolling(20).mean()
    f["volume_ratio"] = v / vm20
    f["volume_trend"] = v.rolling(5).mean() / vm20 - 1
    sma = {n: c.rolling(n).mean() for n in (5, 10, 20)}
    for n in (5, 10, 20):
        f[f"px_sma{n}"] = c / sma[n] - 1
    f["sma5_sma20"] = sma[5] / sma[20] - 1
    f["sma10_sma20"] = sma[10] / sma[20] - 1
    f["dist_high20"] = c / h.rolling(20).max() - 1
    f["dist_low20"] = c / lo.rolling(20).min() - 1
    f["doji"] = pd.Series((talib.CDLDOJI(oa, ha, la, ca) != 0).astype(float), index=c.index)
    f["hammer"] = pd.Series((talib.CDLHAMMER(oa, ha, la, ca) != 0).astype(float), index=c.index)
    f["engulfing"] = pd.Series(np.sign(talib.CDLENGULFING(oa, ha, la, ca)), index=c.index)
    market = c
    if index_bars is not None and len(index_bars):
        ic = index_bars["adj_close"].astype("float64")
        ir = np.log(ic / ic.shift(1))
        isma20 = ic.rolling(20).mean()
        idx = pd.DataFrame(
            {
                "idx_ret_1": ir,
                "idx_ret_5": ic / ic.shift(5) - 1,
                "idx_vol_20": ir.rolling(20).std(),
                "idx_px_sma20": ic / isma20 - 1,
            }
        )
        idx = pd.concat([idx, _regime(ic)], axis=1).reindex(c.index)
        for name in INDEX_FEATURES:
            f[name] = idx[name]
        reg = idx[["regime_bull", "regime_bear", "regime_side"]]
    else:
        reg = _regime(market)
    for k in reg.columns:
        f[k] = reg[k]
    dow = c.index.day_of_week
    for d in range(5):
        f[f"dow_{d}"] = pd.Series((dow == d).astype(float), index=c.index)
    out = pd.DataFrame({k: f[k] for k in wanted}, index=bars.index).astype("float64")
    out = out.replace([np.inf, -np.inf], np.nan)
    return add_lookback(out, lookback)


def add_lookback(features: pd.DataFrame, lookback: int) -> pd.DataFrame:
    """Append ``f__lag1..f__lag{L-1}`` (each column shifted by 1..L-1 rows) to ``features``."""
    if lookback <= 1:
        return features
    parts = [features] + [features.shift(k).add_suffix(f"__lag{k}") for k in range(1, lookback)]
    return pd.concat(parts, axis=1)


def feature_columns(features: list[str] | tuple[str, ...], lookback: int) -> list[str]:
    """Column names :func:`build_features` produces for ``features`` and ``lookback``."""
    cols = list(features)
    for k in range(1, lookback):
        cols += [f"{f}__lag{k}" for f in features]
    return cols
