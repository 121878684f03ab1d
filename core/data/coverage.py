"""Which bars the store holds: per ticker and interval, the first and last bar.

:meth:`core.data.store.Store.instruments` reports the *daily* coverage only; an instrument
stored only intraday (the bundled ``WINFUT``: 5-minute bars, 2021-08-23..2022-05-18) shows
no dates there. :func:`bar_coverage` answers for every interval, and :func:`replay_window`
turns it into the default window of a replay of chosen tickers (the Operações automation
panel), so a replay of WINFUT opens on WINFUT's sessions and bars, not on the stocks'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select

from core.data.intraday import INTRADAY_INTERVALS
from core.data.models import Bar, Instrument

__all__ = ["bar_coverage", "ReplayWindow", "replay_window"]

_COLUMNS = ["ticker", "interval", "first", "last", "n_bars"]


def bar_coverage(store) -> pd.DataFrame:
    """The stored bars of every instrument, per interval.

    Parameters
    ----------
    store : core.data.store.Store

    Returns
    -------
    pandas.DataFrame
        One row per (ticker, interval) with bars, columns ``ticker, interval, first, last,
        n_bars`` (``first``/``last`` Timestamps: the session date of daily bars, the opening
        minute of intraday bars, America/Sao_Paulo wall time). Cached per data version; the
        caller gets its own copy.
    """
    return store.cached(("coverage.bars",), lambda: _coverage(store)).copy()


def _coverage(store) -> pd.DataFrame:
    b, i = Bar.__table__.c, Instrument.__table__.c
    q = (
        select(
            i.ticker,
            b.interval,
            func.min(b.date),
            func.max(b.date),
            func.count(),
        )
        .select_from(Bar.__table__.join(Instrument.__table__, b.instrument_id == i.id))
        .group_by(i.ticker, b.interval)
        .order_by(i.ticker, b.interval)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    df = pd.DataFrame.from_records(rows, columns=_COLUMNS)
    df["first"] = pd.to_datetime(df["first"])
    df["last"] = pd.to_datetime(df["last"])
    df["n_bars"] = df["n_bars"].astype(int)
    return df


@dataclass(frozen=True)
class ReplayWindow:
    """A replay's default window and bar interval.

    Attributes
    ----------
    start, end : str
        First and last session of the window (``YYYY-MM-DD``).
    interval : str
        ``1d`` or one of :data:`core.data.intraday.INTRADAY_INTERVALS`.
    changed : bool
        False when the window and interval given were kept (every chosen ticker has bars of
        that interval inside the window).
    """

    start: str
    end: str
    interval: str
    changed: bool


def replay_window(
    coverage: pd.DataFrame,
    tickers: Sequence[str],
    start: str | None,
    end: str | None,
    interval: str,
    *,
    months_daily: int = 6,
    months_intraday: int = 1,
) -> ReplayWindow | None:
    """The window a replay of ``tickers`` should open on.

    The window and interval given are kept when every ticker has bars of ``interval``
    overlapping them (a trader's own choice is never overridden). Otherwise the interval
    becomes the coarsest one all tickers share (daily first, then 60min … 1min) and the
    window the last ``months_daily`` (daily) or ``months_intraday`` (intraday: a month of
    5-minute bars is ~2 000 bars a ticker) months of their common coverage.

    Parameters
    ----------
    coverage : pandas.DataFrame
        :func:`bar_coverage`.
    tickers : sequence of str
        The chosen tickers (empty: nothing to suggest).
    start, end : str or None
        The current window (``YYYY-MM-DD``).
    interval : str
        The current bar interval.

    Returns
    -------
    ReplayWindow or None
        None when no interval is shared by all tickers (the page keeps its values and the
        runner says what is missing when started).
    """
    tickers = [t for t in tickers if t]
    if not tickers:
        return None
    cov = coverage[coverage["ticker"].isin(tickers)]

    def common(iv: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        rows = cov[cov["interval"] == iv]
        if set(rows["ticker"]) != set(tickers):
            return None
        first, last = rows["first"].max(), rows["last"].min()
        return (first, last) if first <= last else None

    span = common(interval)
    if span is not None and start and end:
        s, e = pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1)
        if s < span[1] and e > span[0]:
            return ReplayWindow(start, end, interval, False)
    for iv in ("1d", *reversed(INTRADAY_INTERVALS)):
        span = common(iv)
        if span is None:
            continue
        months = months_daily if iv == "1d" else months_intraday
        last = span[1].normalize()
        first = max(span[0].normalize(), last - pd.DateOffset(months=months))
        return ReplayWindow(first.strftime("%Y-%m-%d"), last.strftime("%Y-%m-%d"), iv, True)
    return None
