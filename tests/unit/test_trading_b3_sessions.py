"""``core.trading.b3`` sessions (issue 12, replay speed): the session-list lookups (is a
session, its close, the next session, D+2) give the exchange calendar's own answers on every
date, holidays and the calendar's edges included."""

from __future__ import annotations

import pandas as pd

from core.data.calendar import b3_calendar
from core.trading.b3 import _session_info, is_session


def _calendar_info(cal, day):
    """(is a session, São Paulo close) from the calendar's own calls (the slow path)."""
    lo, hi = cal.first_session.tz_localize(None), cal.last_session.tz_localize(None)
    if day < lo or day > hi:
        return day.weekday() < 5, None
    if not cal.is_session(day):
        return False, None
    return True, cal.session_close(day).tz_convert("America/Sao_Paulo").tz_localize(None)


def test_is_session_equals_the_calendar_on_every_date():
    cal = b3_calendar()
    lo, hi = cal.first_session.tz_localize(None), cal.last_session.tz_localize(None)
    days = list(pd.date_range("2024-01-01", "2024-06-30"))  # Carnaval, Good Friday, Corpus Christi
    days += list(pd.date_range(lo - pd.Timedelta(days=6), lo + pd.Timedelta(days=6)))
    days += list(pd.date_range(hi - pd.Timedelta(days=6), hi + pd.Timedelta(days=6)))
    got = {d: is_session(d + pd.Timedelta(hours=13, minutes=5)) for d in days}
    assert got == {d: _calendar_info(cal, d)[0] for d in days}
    assert {d: _session_info(d) for d in days} == {d: _calendar_info(cal, d) for d in days}
    assert not is_session("2024-02-12") and not is_session("2024-12-25")  # Carnaval, Christmas
    assert is_session("2024-02-14 10:00") and not is_session("2024-06-01")  # Quarta, sábado


def test_next_session_and_settlement_equal_the_calendar():
    """The session-list search gives the calendar's next session (strictly after the date)
    on every date, and D+2 settlement counts sessions across holidays."""
    from core.data.calendar import next_session
    from core.trading.b3 import _next_session, settle_date

    cal = b3_calendar()
    hi = cal.last_session.tz_localize(None)
    days = list(pd.date_range("2024-01-01", "2024-06-30"))
    days += list(pd.date_range(hi - pd.Timedelta(days=8), hi - pd.Timedelta(days=1)))
    assert [_next_session(d) for d in days] == [next_session(d) for d in days]
    assert _next_session(pd.Timestamp("2024-02-09")) == pd.Timestamp("2024-02-14")  # Carnaval
    assert settle_date("2024-02-08 15:00") == pd.Timestamp("2024-02-14")
    assert settle_date("2024-03-27") == pd.Timestamp("2024-04-01")  # 28/03, Good Friday, 01/04
    assert _next_session(hi) == hi + pd.Timedelta(days=1 if hi.weekday() < 4 else 7 - hi.weekday())
