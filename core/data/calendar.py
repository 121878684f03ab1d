"""The B3 trading calendar (exchange_calendars ``"BVMF"``).

All functions take and return tz-naive session dates (midnight timestamps).
"""

from __future__ import annotations

from functools import lru_cache

import exchange_calendars as xcals
import numpy as np
import pandas as pd

__all__ = ["b3_calendar", "b3_sessions", "non_sessions", "missing_sessions", "next_session"]


@lru_cache(maxsize=1)
def b3_calendar() -> xcals.ExchangeCalendar:
    """Return the cached exchange_calendars B3 calendar (``"BVMF"``).

    Its first session is in 2002 (``first_session``) and it runs about a year ahead.
    """
    return xcals.get_calendar("BVMF", start="2000-01-03")


def b3_sessions(start, end) -> pd.DatetimeIndex:
    """B3 sessions between ``start`` and ``end`` inclusive.

    Parameters
    ----------
    start, end : date-like
        Bounds; clipped to the calendar's own span.

    Returns
    -------
    pandas.DatetimeIndex
        tz-naive session dates, ascending (empty if ``start > end``).
    """
    cal = b3_calendar()
    s = max(pd.Timestamp(start).normalize(), cal.first_session.tz_localize(None))
    e = min(pd.Timestamp(end).normalize(), cal.last_session.tz_localize(None))
    if s > e:
        return pd.DatetimeIndex([], name="date")
    out = cal.sessions_in_range(s, e)
    return pd.DatetimeIndex(out.tz_localize(None) if out.tz is not None else out, name="date")


def non_sessions(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Return the dates in ``dates`` that are not B3 sessions (weekends, holidays).

    Dates outside the calendar's span are not judged and never returned.
    """
    dates = pd.DatetimeIndex(dates).normalize()
    if len(dates) == 0:
        return dates
    sessions = _session_ns()
    d8 = dates.as_unit("ns").asi8
    judged = (d8 >= sessions[0]) & (d8 <= sessions[-1])
    pos = np.minimum(np.searchsorted(sessions, d8), len(sessions) - 1)
    return dates[judged & (sessions[pos] != d8)]


@lru_cache(maxsize=1)
def _session_ns() -> np.ndarray:
    """Every session of :func:`b3_calendar` as sorted int64 nanoseconds (tz-naive)."""
    s = pd.DatetimeIndex(b3_calendar().sessions)
    s = s.tz_localize(None) if s.tz is not None else s
    return s.as_unit("ns").asi8.copy()


def missing_sessions(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """B3 sessions between the first and last of ``dates`` that ``dates`` lacks (gaps)."""
    dates = pd.DatetimeIndex(dates).normalize()
    if len(dates) == 0:
        return dates
    sessions = b3_sessions(dates.min(), dates.max())
    return sessions[~sessions.isin(dates)]


def next_session(date) -> pd.Timestamp:
    """The first B3 session strictly after ``date``."""
    cal = b3_calendar()
    ts = pd.Timestamp(date).normalize()
    return (
        cal.date_to_session(ts, direction="next").tz_localize(None)
        if not cal.is_session(ts)
        else cal.next_session(ts).tz_localize(None)
    )
