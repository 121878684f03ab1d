"""Resampling canonical bars to a coarser interval without crossing a session boundary.

One function, :func:`resample_bars`, for every consumer (CLI ``bars --interval``, charts,
backtests):

* intraday → intraday (``5min`` → ``15min``/``30min``/``60min``): bins aligned to the clock
  (09:00, 09:15 ...) and labelled by the bin's opening minute, as every intraday bar is;
  a B3 session lies inside one calendar day, so a bin never spans two sessions (the last
  bin of a session holds only that session's bars, even when it is short);
* intraday → ``1d``: one bar per session, labelled by the session date; it is exactly the
  session's OHLC (first open, highest high, lowest low, last close, summed volume);
* daily (or intraday) → ``1w`` / ``1mo``: one bar per calendar week (Monday-Sunday) or
  month of sessions, labelled by the **first session present** in it (the bar's opening).

Bins without any source bar produce no output bar (no filling). ``adj_close`` is the last
``adj_close`` of the bin, ``volume`` the sum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.intraday import INTERVAL_MINUTES, INTRADAY_INTERVALS, normalize_interval
from core.data.schema import BAR_COLUMNS, empty_bars, validate_bars
from core.errors import InputError

__all__ = ["resample_bars", "bars_at", "RESAMPLE_TARGETS"]

#: Intervals :func:`resample_bars` can produce.
RESAMPLE_TARGETS: tuple[str, ...] = (*INTRADAY_INTERVALS, "1d", "1w", "1mo")

_DAY = 86_400_000_000_000
_MIN = 60_000_000_000


def resample_bars(bars: pd.DataFrame, interval: str, *, source: str | None = None) -> pd.DataFrame:
    """Aggregate canonical bars to ``interval`` inside session boundaries.

    Parameters
    ----------
    bars : pandas.DataFrame
        Canonical bars (:mod:`core.data.schema`), shape ``(n, 6)``, sorted ascending.
    interval : str
        Target: ``15min``, ``30min``, ``60min`` (from a finer intraday interval), ``1d``,
        ``1w``, ``1mo`` (aliases of :func:`core.data.intraday.normalize_interval` accepted).
    source : str, optional
        The bars' own interval (``5min``, ``1d`` ...). When given, the target must be
        coarser and (intraday) a multiple of it; equal intervals return a copy.

    Returns
    -------
    pandas.DataFrame
        Canonical bars at ``interval``: shape ``(m, 6)`` with ``m <= n``, labelled by each
        bin's opening (see the module docstring).

    Raises
    ------
    InputError
        Unknown interval, a target finer than the source, or a target that is not a
        multiple of the source (pt-BR message).
    """
    target = normalize_interval(interval)
    bars = validate_bars(bars)
    if source is not None:
        src = normalize_interval(source)
        if src == target:
            return bars.copy()
        order = list(RESAMPLE_TARGETS)
        if order.index(target) < order.index(src):
            raise InputError(f"Não é possível passar de barras {src} para {target} (mais fino).")
        if target in INTERVAL_MINUTES and INTERVAL_MINUTES[target] % INTERVAL_MINUTES[src]:
            raise InputError(f"{target} não é múltiplo de {src}.")
    if bars.empty:
        return empty_bars()
    d8 = bars.index.asi8
    if target in INTERVAL_MINUTES:
        step = INTERVAL_MINUTES[target] * _MIN
        key = d8 - (d8 - (d8 - d8 % _DAY)) % step  # floor inside the day: never crosses it
        label = key
    elif target == "1d":
        key = d8 - d8 % _DAY
        label = key
    else:
        days = pd.DatetimeIndex(d8 - d8 % _DAY)
        if target == "1w":
            key = (days - pd.to_timedelta(days.day_of_week, unit="D")).asi8
        else:
            key = (days.year * 12 + days.month - 1).to_numpy(dtype=np.int64)
        label = None
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], len(key)] - 1
    o, h, lo, c, adj, v = (bars[k].to_numpy() for k in BAR_COLUMNS)
    out = pd.DataFrame(
        {
            "open": o[starts],
            "high": np.maximum.reduceat(h, starts),
            "low": np.minimum.reduceat(lo, starts),
            "close": c[ends],
            "adj_close": adj[ends],
            "volume": np.add.reduceat(v, starts),
        },
        index=pd.DatetimeIndex(
            (label[starts] if label is not None else (d8 - d8 % _DAY)[starts]).astype(
                "datetime64[ns]"
            ),
            name="date",
        ),
    )
    return out[list(BAR_COLUMNS)]


def bars_at(store, ticker: str, interval: str = "1d", start=None, end=None) -> pd.DataFrame:
    """Bars of ``ticker`` at ``interval``: stored ones, else resampled from a finer series.

    Parameters
    ----------
    store : core.data.store.Store
    ticker : str
        Stored ticker.
    interval : str
        Any of :data:`RESAMPLE_TARGETS` (aliases accepted). ``1w``/``1mo`` come from the
        daily bars (or, when the ticker has none, from its intraday bars via ``1d``).
    start, end : date-like, optional
        Inclusive bounds on the source bars (``end`` as a date covers the whole day).

    Returns
    -------
    pandas.DataFrame
        Canonical bars, possibly empty (no series of ``ticker`` can produce ``interval``).

    Raises
    ------
    UnknownTickerError
        If the ticker is not stored.
    InputError
        Unknown interval.
    """
    target = normalize_interval(interval)
    order = list(RESAMPLE_TARGETS)
    if target in ("1w", "1mo"):
        daily = bars_at(store, ticker, "1d", start, end)
        return resample_bars(daily, target, source="1d")
    own = store.bars(ticker, start, end, interval=target)
    if len(own):
        return own
    for src in reversed(order[: order.index(target)]):  # the coarsest finer series first
        if src not in INTRADAY_INTERVALS:
            continue
        if target in INTERVAL_MINUTES and INTERVAL_MINUTES[target] % INTERVAL_MINUTES[src]:
            continue
        finer = store.bars(ticker, start, end, interval=src)
        if len(finer):
            return resample_bars(finer, target, source=src)
    return own
