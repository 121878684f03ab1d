"""Market overview and quote statistics: period changes, 52-week range, volatility, beta.

Conventions
-----------
* Period changes are simple returns (fractions) of the **adjusted** close, so a dividend
  (ex-date) does not show as a loss — the same reference-price adjustment B3 applies to its
  own daily change. They are measured from the last close on or before the start date of the
  period, counted in calendar time back from the instrument's own last bar: 1 day = previous
  session, 1 week = 7 days, 1 month = 1 calendar month, YTD = last close of the previous
  year, 12 months = 1 calendar year.
* The 52-week high and low are the highest ``high`` and lowest ``low`` of the **traded**
  (unadjusted) bars over the 365 days ending at the last bar, as quote screens show them.
* Volatility: standard deviation of daily log returns of the adjusted close, annualised
  with ``sqrt(252)``.
* Beta vs ^BVSP: ``cov(r_i, r_m) / var(r_m)`` of daily simple returns of the adjusted closes
  on the sessions both have (Sharpe, 1964; the usual market-model beta).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.store import Store
from core.errors import InputError
from core.rates import PERIODS_PER_YEAR

__all__ = [
    "BENCHMARK",
    "PERIODS",
    "period_change",
    "market_snapshot",
    "market_snapshot_ready",
    "QuoteStats",
    "quote_stats",
    "annualised_volatility",
    "beta",
    "adjusted_ohlc",
    "rebase",
    "resolve_range",
    "RANGE_PRESETS",
    "data_freshness",
]

#: The market reference.
BENCHMARK = "^BVSP"

#: Period label -> offset back from the last bar (None = previous session, "ytd" = year start).
PERIODS: dict[str, object] = {
    "1d": None,
    "1w": pd.DateOffset(days=7),
    "1m": pd.DateOffset(months=1),
    "ytd": "ytd",
    "12m": pd.DateOffset(years=1),
}

#: Range presets of the Quotes page: label -> offset back from the last bar (None = all).
RANGE_PRESETS: dict[str, object] = {
    "1M": pd.DateOffset(months=1),
    "3M": pd.DateOffset(months=3),
    "6M": pd.DateOffset(months=6),
    "YTD": "ytd",
    "1A": pd.DateOffset(years=1),
    "5A": pd.DateOffset(years=5),
    "Máx": None,
}


def _ref_value(close: pd.Series, period: str) -> float:
    """The close the period change is measured from (NaN when history is too short)."""
    if len(close) < 2:
        return np.nan
    last = close.index[-1]
    off = PERIODS[period]
    if off is None:
        return float(close.iloc[-2])
    if off == "ytd":
        ref_date = pd.Timestamp(year=last.year, month=1, day=1) - pd.Timedelta(days=1)
    else:
        ref_date = last - off
    if ref_date < close.index[0]:
        return np.nan
    pos = close.index.searchsorted(ref_date, side="right") - 1
    return float(close.iloc[pos])


def period_change(close: pd.Series, period: str) -> float:
    """Simple return of ``close`` over ``period`` ending at its last value.

    Parameters
    ----------
    close : pandas.Series
        Prices indexed by date, ascending.
    period : {"1d", "1w", "1m", "ytd", "12m"}

    Returns
    -------
    float
        Fraction (0.05 == +5 %); NaN when the history does not reach back far enough.
    """
    if period not in PERIODS:
        raise InputError(f"Período desconhecido {period!r}; use {', '.join(PERIODS)}.")
    close = close.dropna()
    ref = _ref_value(close, period)
    return float(close.iloc[-1] / ref - 1.0) if ref == ref and ref > 0 else np.nan


def annualised_volatility(adj_close: pd.Series, window: int | None = PERIODS_PER_YEAR) -> float:
    """Annualised volatility of daily log returns over the last ``window`` sessions.

    Returns
    -------
    float
        Fraction per year (0.30 == 30 % a.a.); NaN with fewer than 20 returns.
    """
    r = np.log(adj_close.dropna()).diff().dropna()
    if window:
        r = r.iloc[-window:]
    if len(r) < 20:
        return np.nan
    return float(r.std(ddof=1) * np.sqrt(PERIODS_PER_YEAR))


def beta(asset: pd.Series, market: pd.Series, window: int | None = PERIODS_PER_YEAR) -> float:
    """Market-model beta of ``asset`` against ``market`` from daily simple returns.

    Parameters
    ----------
    asset, market : pandas.Series
        Adjusted closes indexed by date; only sessions both have are used.
    window : int or None
        Use the last ``window`` shared returns (None = all).

    Returns
    -------
    float
        Dimensionless; NaN with fewer than 20 shared returns.
    """
    df = pd.concat([asset, market], axis=1, join="inner").dropna()
    r = df.pct_change().dropna()
    if window:
        r = r.iloc[-window:]
    if len(r) < 20:
        return np.nan
    cov = np.cov(r.iloc[:, 0], r.iloc[:, 1], ddof=1)
    return float(cov[0, 1] / cov[1, 1]) if cov[1, 1] > 0 else np.nan


def market_snapshot(
    store: Store,
    tickers: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per instrument with the figures of the Market page.

    Parameters
    ----------
    store : Store
    tickers : sequence of str, optional
        Only these instruments (e.g. the watchlist); default every instrument.
    kinds : sequence of str, optional
        Only these kinds (:data:`core.data.models.INSTRUMENT_KINDS`).

    Returns
    -------
    pandas.DataFrame
        Sorted by ticker; columns ``ticker, name, kind, last_date, close`` (traded, R$ or
        points), ``chg_1d, chg_1w, chg_1m, chg_ytd, chg_12m`` (fractions, adjusted close),
        ``high_52w, low_52w`` (traded), ``dist_high_52w, dist_low_52w`` (close / extreme − 1,
        fractions), ``volume`` (last session, shares), ``avg_volume_20`` (mean of the
        previous 20 sessions), ``volume_ratio`` (volume / avg_volume_20), ``volume_unit``
        (:data:`core.data.models.VOLUME_UNITS`: the index's volume is not in shares),
        ``traded_value`` (last session, R$: close × volume; NaN unless the volume is in
        shares), ``sector, subsector, segment`` (B3's classification,
        :func:`core.data.sectors.load_sectors`; :data:`core.data.sectors.UNCLASSIFIED` / ""
        when unknown), ``spark_1m`` (list of the adjusted closes of the last
        :data:`SPARK_SESSIONS` sessions, oldest first, for the grid's sparkline).
    """
    want = None if tickers is None else tuple(sorted({t.upper() for t in tickers}))
    kinds_key = tuple(sorted(kinds)) if kinds else None
    if want is None and kinds_key is None:
        return _full_snapshot(store)
    hit, full = store.peek(_FULL_KEY)
    if hit:  # a watchlist, the index row, the stocks: rows of the snapshot already computed
        return _subset(full, want, kinds_key)
    key = ("market.market_snapshot", want, kinds_key)
    return store.cached(key, lambda: _market_snapshot(store, want, kinds_key))


#: Read-cache key of the snapshot of every instrument.
_FULL_KEY = ("market.market_snapshot", None, None)
#: One computation of the full snapshot at a time (the app's start-up warming and the first
#: visit of Mercado would otherwise both compute it, each at half speed).
_FULL_LOCK = threading.Lock()


def market_snapshot_ready(store: Store) -> bool:
    """True when :func:`market_snapshot` of every instrument is in ``store``'s read cache.

    Then any ``market_snapshot(store, tickers=..., kinds=...)`` is a filter of it
    (milliseconds); otherwise the first call reads every instrument's last year of bars (a
    few seconds on the bundled data, more on a large store), which a page does after it has
    painted, not while rendering.

    Parameters
    ----------
    store : Store

    Returns
    -------
    bool
        False also when the store's read cache is off (each call then computes).
    """
    return store.peek(_FULL_KEY)[0]


def _full_snapshot(store: Store) -> pd.DataFrame:
    hit, full = store.peek(_FULL_KEY)
    if hit:
        return full
    with _FULL_LOCK:  # a caller that waited here finds the other's result in the cache
        return store.cached(_FULL_KEY, lambda: _market_snapshot(store, None, None))


def _subset(
    full: pd.DataFrame, tickers: Sequence[str] | None, kinds: Sequence[str] | None
) -> pd.DataFrame:
    """The rows of the full snapshot that ``_market_snapshot(store, tickers, kinds)`` makes
    (each row depends on its own instrument only), in the same order."""
    if full.empty:
        return full
    keep = pd.Series(True, index=full.index)
    if tickers is not None:
        keep &= full["ticker"].str.upper().isin(list(tickers))
    if kinds:
        keep &= full["kind"].isin(list(kinds))
    return full[keep].reset_index(drop=True)


#: Sessions in the Market grid's sparkline (about one month of B3 sessions).
SPARK_SESSIONS = 22


def _market_snapshot(
    store: Store, tickers: Sequence[str] | None, kinds: Sequence[str] | None
) -> pd.DataFrame:
    from core.data.actions import load_actions, split_adjusted
    from core.data.sectors import UNCLASSIFIED, load_sectors

    sectors = load_sectors()

    rows = []
    meta = store.instruments()
    if tickers is not None:
        want = [t.upper() for t in tickers]
        meta = meta[meta["ticker"].isin(want)]
    if kinds:
        meta = meta[meta["kind"].isin(list(kinds))]
    acts = load_actions(store, list(meta["ticker"]) or None, include_price_factors=True)
    acts_of = {t: g for t, g in acts.groupby("ticker")} if len(acts) else {}
    start = None
    for r in meta.itertuples(index=False):
        if r.n_bars == 0:
            continue
        if pd.notna(r.last_date):
            start = r.last_date - pd.DateOffset(years=1, days=10)
        # 52-week range and volumes on today's share basis (a split is not a price move)
        bars = split_adjusted(store.bars(r.ticker, start=start), acts_of.get(r.ticker))
        last = bars.iloc[-1]
        year = bars.loc[bars.index > bars.index[-1] - pd.Timedelta(days=365)]
        hi, lo = float(year["high"].max()), float(year["low"].min())
        prev_vol = bars["volume"].iloc[-21:-1]
        avg20 = float(prev_vol.mean()) if len(prev_vol) else np.nan
        row = {
            "ticker": r.ticker,
            "name": r.name,
            "kind": r.kind,
            "last_date": bars.index[-1],
            "close": float(last["close"]),
        }
        for p in PERIODS:
            row[f"chg_{p}"] = period_change(bars["adj_close"], p)
        row.update(
            high_52w=hi,
            low_52w=lo,
            dist_high_52w=float(last["close"] / hi - 1) if hi > 0 else np.nan,
            dist_low_52w=float(last["close"] / lo - 1) if lo > 0 else np.nan,
            volume=float(last["volume"]),
            avg_volume_20=avg20,
            volume_ratio=float(last["volume"] / avg20) if avg20 and avg20 > 0 else np.nan,
            volume_unit=getattr(r, "volume_unit", "shares"),
        )
        unit = row["volume_unit"]
        row["traded_value"] = (
            float(last["close"] * last["volume"]) if unit in (None, "shares") else np.nan
        )
        sec = sectors.get(str(r.ticker).upper())
        row["sector"] = sec.sector if sec else UNCLASSIFIED
        row["subsector"] = sec.subsector if sec else ""
        row["segment"] = sec.segment if sec else ""
        row["spark_1m"] = [round(float(v), 4) for v in bars["adj_close"].iloc[-SPARK_SESSIONS:]]
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class QuoteStats:
    """KPIs of the Quotes page for one instrument at its last bar in the shown range.

    Attributes
    ----------
    last : float
        Last traded close (R$ or points).
    last_date : Timestamp
    change_1d : float
        One-session change (fraction) of the series named by ``adjusted``.
    change_range : float
        Change over the shown range (fraction) of the series named by ``adjusted``: the
        dividend-adjusted close (total return) or the traded close, as the page's toggle.
    high_52w, low_52w : float
        Traded 52-week extremes ending at ``last_date``.
    volatility : float
        Annualised volatility of the last 252 daily log returns (fraction per year).
    beta : float
        Beta vs ^BVSP over the last 252 shared sessions (NaN for ^BVSP itself if missing).
    n_volatility, n_beta : int
        Daily returns actually used for ``volatility`` and ``beta`` (fewer than 252 when the
        history is short).
    range_start : Timestamp
        First bar of the 52-week window (later than one year back when history is short).
    """

    last: float
    last_date: pd.Timestamp
    change_1d: float
    change_range: float
    high_52w: float
    low_52w: float
    volatility: float
    beta: float
    n_volatility: int = 0
    n_beta: int = 0
    range_start: pd.Timestamp | None = None
    adjusted: bool = True


def quote_stats(
    bars: pd.DataFrame,
    shown: pd.DataFrame,
    benchmark: pd.DataFrame | None,
    *,
    adjusted: bool = True,
) -> QuoteStats:
    """KPIs for the Quotes page.

    Parameters
    ----------
    bars : pandas.DataFrame
        Canonical bars of the instrument up to the end of the shown range (history before
        the range is used for 52-week, volatility and beta windows).
    shown : pandas.DataFrame
        The bars actually shown (the range); non-empty.
    benchmark : pandas.DataFrame or None
        Canonical ^BVSP bars (for beta).
    adjusted : bool
        Changes (day, range) on the adjusted close (default) or on the traded close.
        Volatility and beta always use adjusted returns (a dividend is not a price move).

    Raises
    ------
    InputError
        If ``shown`` is empty.
    """
    if shown.empty:
        raise InputError("Nenhuma barra no intervalo escolhido.")
    last_date = shown.index[-1]
    hist = bars.loc[:last_date]
    year = hist.loc[hist.index > last_date - pd.Timedelta(days=365)]
    adj = hist["adj_close"]
    b = np.nan
    n_beta = 0
    if benchmark is not None and not benchmark.empty:
        bench_adj = benchmark["adj_close"].loc[:last_date]
        b = beta(adj, bench_adj)
        shared = pd.concat([adj, bench_adj], axis=1, join="inner").dropna()
        n_beta = min(PERIODS_PER_YEAR, max(len(shared) - 1, 0)) if b == b else 0
    n_vol = min(PERIODS_PER_YEAR, max(len(adj.dropna()) - 1, 0))
    col = "adj_close" if adjusted else "close"
    # the shown frame may hold adjusted candles; the traded close comes from ``bars``
    series = hist[col].loc[shown.index[0] :]
    first = series.iloc[0]
    return QuoteStats(
        last=float(hist["close"].iloc[-1]),
        last_date=last_date,
        change_1d=period_change(hist[col], "1d"),
        change_range=float(series.iloc[-1] / first - 1) if first > 0 else np.nan,
        high_52w=float(year["high"].max()),
        low_52w=float(year["low"].min()),
        volatility=annualised_volatility(adj),
        beta=b,
        n_volatility=n_vol,
        n_beta=n_beta,
        range_start=year.index[0],
        adjusted=adjusted,
    )


def adjusted_ohlc(bars: pd.DataFrame) -> pd.DataFrame:
    """Scale open/high/low/close by ``adj_close / close`` (dividend-adjusted candles).

    Returns
    -------
    pandas.DataFrame
        Canonical bars whose ``close`` equals ``adj_close``; volume unchanged.
    """
    out = bars.copy()
    factor = (bars["adj_close"] / bars["close"]).where(bars["close"] > 0, 1.0)
    for c in ("open", "high", "low", "close"):
        out[c] = bars[c] * factor
    return out


def rebase(series: pd.Series, base: float = 100.0) -> pd.Series:
    """``series`` scaled so its first valid value equals ``base`` (e.g. 100)."""
    s = series.dropna()
    if s.empty:
        return series
    return series / s.iloc[0] * base


def resolve_range(
    index: pd.DatetimeIndex, preset: str | None, start=None, end=None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Turn a range preset or a custom range into inclusive ``(start, end)`` dates.

    A custom range (``start`` and/or ``end`` given) wins over the preset. Presets count back
    from the last bar in ``index``.

    Raises
    ------
    InputError
        On an unknown preset, an inverted range, or a range with no bars.
    """
    if len(index) == 0:
        raise InputError("Sem barras para este ticker.")
    first, last = index[0], index[-1]
    if start is not None or end is not None:
        s = pd.Timestamp(start) if start is not None else first
        e = pd.Timestamp(end) if end is not None else last
        if s > e:
            raise InputError(
                f"Intervalo invertido: início {s:%d/%m/%Y} depois do fim {e:%d/%m/%Y}."
            )
    else:
        preset = preset or "1A"
        if preset not in RANGE_PRESETS:
            raise InputError(f"Período desconhecido {preset!r}; use {', '.join(RANGE_PRESETS)}.")
        off = RANGE_PRESETS[preset]
        e = last
        if off is None:
            s = first
        elif off == "ytd":
            s = pd.Timestamp(year=last.year, month=1, day=1)
        else:
            s = last - off
    n = int(((index >= s) & (index <= e)).sum())
    if n == 0:
        raise InputError(
            f"Nenhum pregão entre {s:%d/%m/%Y} e {e:%d/%m/%Y}; os dados vão de "
            f"{first:%d/%m/%Y} a {last:%d/%m/%Y}."
        )
    return max(s, first), min(e, last)


def data_freshness(snapshot: pd.DataFrame) -> tuple[pd.Timestamp | None, dict[str, pd.Timestamp]]:
    """How fresh the stored data is.

    Parameters
    ----------
    snapshot : pandas.DataFrame
        Output of :func:`market_snapshot`.

    Returns
    -------
    (Timestamp or None, dict)
        The last date most stocks share (the date quoted as "dados até"), and the tickers whose
        last date differs from it, mapped to their own last date. ``(None, {})`` when empty.
    """
    if snapshot.empty:
        return None, {}
    stocks = snapshot[snapshot["kind"] != "index"]
    base = stocks if not stocks.empty else snapshot
    as_of = pd.Timestamp(base["last_date"].mode().max())
    others = {
        r.ticker: pd.Timestamp(r.last_date)
        for r in snapshot.itertuples(index=False)
        if pd.Timestamp(r.last_date) != as_of
    }
    return as_of, others
