"""B3 rules of orders: sessions and holidays, settlement, lots and the price tick.

* Sessions: exchange_calendars ``"BVMF"`` through :mod:`core.data.calendar` (beyond the
  calendar's span, weekdays count as sessions).
* Settlement: D+2 in B3 sessions (cash equities).
* Lots: a quantity is routed as round lots in the standard book plus the remainder in the
  fractional book (``PETR4F``).
* Tick: R$ 0,01 for cash equities.
"""

from __future__ import annotations

import datetime as _dt
import math
from functools import lru_cache

import numpy as np
import pandas as pd

from core.errors import InputError
from core.textfmt import brl

__all__ = ["TICK", "FUTURES_CLOSE", "order_session", "settle_date", "split_order", "is_session"]

#: Price tick of B3 cash equities, R$.
TICK = 0.01


@lru_cache(maxsize=4096)
def _session_info(day: pd.Timestamp) -> tuple[bool, pd.Timestamp | None]:
    """(is a session, São Paulo close time) of a date (beyond the calendar's span: a
    weekday, close unknown). The calendar's sessions and closes are searched as arrays
    (its own ``is_session`` and ``session_close`` cost ~0.5 ms per new date)."""
    days = _session_days()
    v = day.as_unit("ns").value
    if v < days[0] or v > days[-1]:
        return day.weekday() < 5, None
    k = int(np.searchsorted(days, v))
    if days[k] != v:
        return False, None
    return True, pd.Timestamp(int(_session_closes()[k]))


@lru_cache(maxsize=1)
def _session_closes() -> np.ndarray:
    """São Paulo close time (tz-naive int64 ns) of every session of :func:`_session_days`."""
    from core.data.calendar import b3_calendar

    cal = b3_calendar()
    closes = pd.DatetimeIndex(cal.closes.reindex(cal.sessions))
    closes = closes.tz_convert("America/Sao_Paulo").tz_localize(None)
    return closes.as_unit("ns").asi8.copy()


@lru_cache(maxsize=4096)
def _next_session(day: pd.Timestamp) -> pd.Timestamp:
    """The first B3 session strictly after ``day``'s date (beyond the calendar's last
    session: the next weekday). Within the calendar, the session list is searched (the same
    answer as :func:`core.data.calendar.next_session`, at a fraction of its cost)."""
    days = _session_days()
    v = pd.Timestamp(day).normalize().as_unit("ns").value
    if v >= days[-1]:
        d = day + pd.Timedelta(days=1)
        while d.weekday() >= 5:
            d += pd.Timedelta(days=1)
        return d
    if v < days[0]:  # before the calendar: its own answer (or its error)
        from core.data.calendar import next_session

        return next_session(day)
    return pd.Timestamp(int(days[int(np.searchsorted(days, v, side="right"))]))


#: End of the B3 futures session (index and dollar futures trade until about 18:25 São
#: Paulo time, after the cash equities' close; the bundled WINFUT has bars up to 18:20).
FUTURES_CLOSE = "18:30"


def order_session(time, close: str | None = None) -> pd.Timestamp:
    """The session an order sent at ``time`` (São Paulo wall time) works in.

    A time inside a session's day before its close is that session; after the close, on a
    weekend or a holiday it is the next session. Midnight stands for a daily bar's close
    (the runner's clock on daily bars), so it maps to the next session too. ``close``
    (``"HH:MM"``) replaces the cash equities' close of the calendar: futures use
    :data:`FUTURES_CLOSE`, so an order sent at 17:50 still works in that day's session.

    >>> str(order_session("2024-03-28 11:00").date()), str(order_session("2024-03-28").date())
    ('2024-03-28', '2024-04-01')
    >>> str(order_session("2024-03-27 18:10", close=FUTURES_CLOSE).date())
    '2024-03-27'
    """
    ts = pd.Timestamp(time)
    day = ts.normalize()
    ok, close_ts = _session_info(day)
    close = close_ts if close is None or not ok else day + pd.Timedelta(f"{close}:00")
    if ok and ts != day and (close is None or ts < close):
        return day
    return _next_session(day)


def settle_date(time, days: int = 2) -> pd.Timestamp:
    """Settlement date D+``days`` in B3 sessions of a trade at ``time``."""
    d = pd.Timestamp(time).normalize()
    ok = is_session(d)
    if not ok:
        d = _next_session(d)
    for _ in range(days):
        d = _next_session(d)
    return d


def split_order(qty: int, lot: int) -> tuple[int, int]:
    """``(round-lot shares, fractional shares)`` of a quantity (B3 routing).

    >>> split_order(150, 100), split_order(200, 100), split_order(57, 100)
    ((100, 50), (200, 0), (0, 57))
    """
    lot = max(1, int(lot))
    whole = (int(qty) // lot) * lot
    return whole, int(qty) - whole


def on_tick(p: float) -> bool:
    return abs(round(p / TICK) - p / TICK) < 1e-6


def parse_money(name: str, v) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InputError(f"{name} inválido: {v!r} (use um valor em R$).") from None
    if not math.isfinite(f) or f <= 0:
        raise InputError(f"{name} deve ser positivo (recebido {v}).")
    if not on_tick(f):
        raise InputError(f"{name} {brl(f, 4)} fora do tick de R$ 0,01: use {brl(round(f, 2))}.")
    return round(f, 2)


def parse_tif(tif) -> str:
    if isinstance(tif, _dt.date):
        return pd.Timestamp(tif).strftime("%Y-%m-%d")
    t = str(tif or "day").strip().lower()
    if t in ("day", "dia"):
        return "day"
    if t in ("gtc", "vac"):
        return "gtc"
    try:
        return pd.Timestamp(t).strftime("%Y-%m-%d")
    except (ValueError, TypeError):
        raise InputError(
            f"Validade inválida {tif!r}: use day, gtc ou uma data AAAA-MM-DD."
        ) from None


@lru_cache(maxsize=1)
def _session_days() -> np.ndarray:
    """Every session of the B3 calendar, sorted int64 nanoseconds (tz-naive dates)."""
    from core.data.calendar import b3_calendar

    s = pd.DatetimeIndex(b3_calendar().sessions)
    s = s.tz_localize(None) if s.tz is not None else s
    return s.as_unit("ns").asi8.copy()


def is_session(day) -> bool:
    """True when ``day`` (any time of the day) is a B3 session.

    The calendar's session list searched once (a paper replay asks at every bar; the
    calendar's own ``is_session`` cost about half a millisecond per new date); beyond the
    calendar's span, a weekday counts as a session (as :func:`order_session`).
    """
    d = pd.Timestamp(day).normalize()
    days = _session_days()
    v = d.as_unit("ns").value
    if v < days[0] or v > days[-1]:
        return d.weekday() < 5
    k = int(np.searchsorted(days, v))
    return bool(days[k] == v)
