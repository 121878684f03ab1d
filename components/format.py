"""pt-BR formatting of numbers, money, percentages and dates for display.

``fmt_brl(1234.56) == "R$ 1.234,56"``, ``fmt_pct(0.0123) == "1,23%"``,
``fmt_date(Timestamp("2024-11-14")) == "14/11/2024"``. Missing values render as ``"–"``.
Plotly figures use :data:`PLOTLY_SEPARATORS` and :data:`PLOTLY_DATE` for the same style.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = [
    "fmt_num",
    "fmt_brl",
    "fmt_pct",
    "fmt_date",
    "fmt_points",
    "fmt_int",
    "PLOTLY_SEPARATORS",
    "PLOTLY_DATE",
    "MISSING",
]

#: Plotly ``layout.separators``: decimal comma, thousands dot.
PLOTLY_SEPARATORS = ",."
#: d3 date format for hovers and ticks: dd/mm/aaaa.
PLOTLY_DATE = "%d/%m/%Y"
MISSING = "–"


def _bad(x) -> bool:
    try:
        return x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x)
    except (TypeError, ValueError):
        return False


def fmt_num(x, decimals: int = 2, sign: bool = False) -> str:
    """``1234.5 -> "1.234,50"`` (``sign=True`` adds ``+`` to positives)."""
    if _bad(x):
        return MISSING
    s = f"{float(x):{'+' if sign else ''},.{decimals}f}"
    return s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def fmt_int(x) -> str:
    """``1234567 -> "1.234.567"``."""
    return fmt_num(x, 0)


def fmt_brl(x, decimals: int = 2) -> str:
    """``1234.56 -> "R$ 1.234,56"``; negatives ``"-R$ 1.234,56"``."""
    if _bad(x):
        return MISSING
    v = float(x)
    return ("-" if v < 0 else "") + "R$ " + fmt_num(abs(v), decimals)


def fmt_points(x, decimals: int = 0) -> str:
    """Index points: ``127791.6 -> "127.792 pts"``."""
    if _bad(x):
        return MISSING
    return fmt_num(x, decimals) + " pts"


def fmt_pct(x, decimals: int = 2, sign: bool = False) -> str:
    """A fraction as a percentage: ``0.0123 -> "1,23%"``."""
    if _bad(x):
        return MISSING
    return fmt_num(float(x) * 100, decimals, sign) + "%"


def fmt_date(x) -> str:
    """``Timestamp("2024-11-14") -> "14/11/2024"``."""
    if _bad(x):
        return MISSING
    return pd.Timestamp(x).strftime("%d/%m/%Y")
