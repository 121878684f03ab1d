"""pt-BR number formatting for user-facing messages raised by ``core`` (no UI imports).

``pct(0.1437, 1) == "14,4%"``. The UI layer has its own richer formatters
(``components/format.py``); this one exists so error messages written in ``core`` read
the way a Brazilian trader writes numbers.
"""

from __future__ import annotations

__all__ = ["pct", "num"]


def pct(x: float, decimals: int = 2) -> str:
    """A fraction as a pt-BR percentage: decimal comma, dot for thousands."""
    s = f"{float(x) * 100:,.{decimals}f}"
    return s.replace(",", "\x00").replace(".", ",").replace("\x00", ".") + "%"


def num(x, decimals: int = 2, sign: bool = False) -> str:
    """A number in pt-BR: ``1234.5 -> "1.234,50"`` ("—" for None/NaN)."""
    if x is None or x != x:
        return "—"
    s = f"{float(x):{'+' if sign else ''},.{decimals}f}"
    return s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
