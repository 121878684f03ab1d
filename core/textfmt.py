"""The one pt-BR formatting of numbers, money, percentages and dates (no UI imports).

Every user-facing number goes through here: messages raised by ``core``, the Dash
components (``components/format.py`` re-exports these functions) and the CLI.

Conventions (how a Brazilian trader writes numbers):

- decimal comma, dot for thousands: ``num(1234.5) == "1.234,50"``;
- counts and quantities have no decimals: ``integer(33010) == "33.010"``;
- money: ``brl(1234.56) == "R$ 1.234,56"``, negatives ``"-R$ 1.234,56"``;
- percentages take a **fraction**: ``pct(0.1437, 1) == "14,4%"``;
  :func:`pct_value` takes a number already in percent (``12.5 -> "12,5%"``);
- dates ``dd/mm/aaaa``: ``date(Timestamp("2024-11-14")) == "14/11/2024"``;
- big quantities compact: ``compact(33_010_000) == "33,01 mi"`` (``mil``, ``mi``, ``bi``, ``tri``);
- missing values (None, NaN) render as :data:`MISSING` (``"–"``); infinities as ``"∞"``.

The number is formatted first and the separators swapped on that number alone, never on a
sentence (``"(recebido 150%)."`` must keep its full stop).
"""

from __future__ import annotations

import math
from datetime import date as _date
from datetime import datetime as _datetime

__all__ = [
    "MISSING",
    "num",
    "integer",
    "brl",
    "pct",
    "pct_value",
    "points",
    "compact",
    "date",
    "datetime",
    "month",
    "by_unit",
    "COUNT_UNITS",
]

#: What a missing value (None, NaN, NaT) shows.
MISSING = "–"


def _missing(x) -> bool:
    if x is None:
        return True
    try:
        return bool(x != x)  # NaN, NaT
    except (TypeError, ValueError):
        return False


def _swap(s: str) -> str:
    """``"1,234.5" -> "1.234,5"`` on one formatted number."""
    return s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def num(x, decimals: int = 2, sign: bool = False, grouping: bool = True) -> str:
    """A number in pt-BR: ``1234.5 -> "1.234,50"``.

    Parameters
    ----------
    x : float or None
    decimals : int
        Digits after the decimal comma (rounded half to even, as Python's ``format``).
    sign : bool
        Prefix positives with ``+``.
    grouping : bool
        Dots between thousands (``False`` for files: ``"1234,50"``).
    """
    if _missing(x):
        return MISSING
    v = float(x)
    if math.isinf(v):
        return ("-" if v < 0 else ("+" if sign else "")) + "∞"
    if v == 0:
        v = 0.0  # no "-0,00"
    return _swap(f"{v:{'+' if sign else ''}{',' if grouping else ''}.{decimals}f}")


def integer(x, sign: bool = False) -> str:
    """A count or quantity: ``33010 -> "33.010"``, ``586.0 -> "586"``."""
    return num(x, 0, sign)


def brl(x, decimals: int = 2, sign: bool = False) -> str:
    """Money in reais: ``1234.56 -> "R$ 1.234,56"``; negatives ``"-R$ 1.234,56"``."""
    if _missing(x):
        return MISSING
    v = float(x)
    prefix = "-" if v < 0 else ("+" if sign and v > 0 else "")
    return prefix + "R$ " + num(abs(v), decimals)


def pct(x, decimals: int = 2, sign: bool = False) -> str:
    """A **fraction** as a percentage: ``0.1437 -> "14,37%"``, ``1.5 -> "150,00%"``."""
    if _missing(x):
        return MISSING
    return num(float(x) * 100, decimals, sign) + "%"


def pct_value(x, decimals: int = 2, sign: bool = False) -> str:
    """A number already in percent: ``12.5 -> "12,50%"`` (backtest metrics, ``…_pct``)."""
    if _missing(x):
        return MISSING
    return num(x, decimals, sign) + "%"


def points(x, decimals: int = 0) -> str:
    """Index points: ``127791.6 -> "127.792 pts"``."""
    if _missing(x):
        return MISSING
    return num(x, decimals) + " pts"


_UNITS = ((1e12, "tri"), (1e9, "bi"), (1e6, "mi"), (1e3, "mil"))


def compact(x, decimals: int = 2) -> str:
    """Large quantities with Portuguese units: ``33_010_000 -> "33,01 mi"``, ``2.5e9 -> "2,50 bi"``.

    Below a thousand the number is written in full (no decimals).
    """
    if _missing(x):
        return MISSING
    v = float(x)
    for base, unit in _UNITS:
        if abs(v) >= base:
            return f"{num(v / base, 1 if unit == 'mil' else decimals)} {unit}"
    return integer(v)


def _ts(x):
    """Anything date-like to a ``datetime`` (pandas objects included, without importing pandas)."""
    if isinstance(x, _datetime | _date):
        return x
    if hasattr(x, "to_pydatetime"):
        return x.to_pydatetime()
    if isinstance(x, str):
        return _datetime.fromisoformat(x.strip().replace("Z", "+00:00")[:26])
    if hasattr(x, "astype"):  # numpy datetime64
        return _datetime.fromisoformat(str(x)[:26])
    raise TypeError(f"not a date: {x!r}")


def date(x) -> str:
    """``dd/mm/aaaa``: ``"2024-11-14" -> "14/11/2024"`` (strings, dates, Timestamps)."""
    if _missing(x) or x == "":
        return MISSING
    return _ts(x).strftime("%d/%m/%Y")


def datetime(x, seconds: bool = False) -> str:
    """``dd/mm/aaaa hh:mm`` (``:ss`` with ``seconds=True``)."""
    if _missing(x) or x == "":
        return MISSING
    return _ts(x).strftime("%d/%m/%Y %H:%M" + (":%S" if seconds else ""))


def month(x) -> str:
    """``mm/aaaa``: ``"2024-11-01" -> "11/2024"``."""
    if _missing(x) or x == "":
        return MISSING
    return _ts(x).strftime("%m/%Y")


#: Units whose values are counts (shown without decimals).
COUNT_UNITS = frozenset({"operações", "pregões", "dias", "ações", "barras", "n", "janelas"})


def by_unit(x, unit: str = "", decimals: int = 2) -> str:
    """A value formatted after its unit label (as in ``METRIC_INFO``'s ``(label, unit)``).

    ``"R$"`` -> :func:`brl`; units starting with ``"%"`` or ``"p.p."`` -> :func:`num` (the
    value is already in percent; the unit is printed beside it); counts (:data:`COUNT_UNITS`)
    -> :func:`integer` (``586`` not ``586,00``); booleans -> ``"sim"``/``"não"``; anything
    else -> :func:`num`.
    """
    if isinstance(x, bool):
        return "sim" if x else "não"
    if unit == "R$":
        return brl(x, decimals)
    if unit in COUNT_UNITS:
        return integer(x)
    if isinstance(x, int) and not unit.startswith("%"):
        return integer(x)
    return num(x, decimals)
