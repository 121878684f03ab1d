"""pt-BR formatting for the UI: the functions of :mod:`core.textfmt` under UI names.

There is one implementation (``core/textfmt.py``, which ``core`` messages and the CLI use
too); this module only re-exports it with the ``fmt_*`` names the components use, and adds
the Plotly constants. ``fmt_brl(1234.56) == "R$ 1.234,56"``, ``fmt_pct(0.0123) == "1,23%"``,
``fmt_int(33010) == "33.010"``, ``fmt_date(Timestamp("2024-11-14")) == "14/11/2024"``.
Missing values render as ``"–"``.
"""

from __future__ import annotations

from core import textfmt as _t

__all__ = [
    "fmt_num",
    "fmt_brl",
    "fmt_pct",
    "fmt_pct_value",
    "fmt_date",
    "fmt_datetime",
    "fmt_month",
    "fmt_points",
    "fmt_price",
    "price_unit",
    "POINT_KINDS",
    "fmt_int",
    "fmt_compact",
    "PLOTLY_SEPARATORS",
    "PLOTLY_DATE",
    "PLOTLY_LOCALE",
    "PLOTLY_DATETIME",
    "ohlc_hovertemplate",
    "MISSING",
]

#: Plotly ``layout.separators``: decimal comma, thousands dot.
PLOTLY_SEPARATORS = ",."
#: d3 date format for hovers and ticks: dd/mm/aaaa.
PLOTLY_DATE = "%d/%m/%Y"
#: d3 date-time format for intraday hovers and ticks: dd/mm/aaaa HH:MM.
PLOTLY_DATETIME = "%d/%m/%Y %H:%M"
#: ``dcc.Graph(config={"locale": ...})``: registered by ``assets/plotly-locale-pt-br.js``.
PLOTLY_LOCALE = "pt-BR"
MISSING = _t.MISSING

fmt_num = _t.num
fmt_int = _t.integer
fmt_brl = _t.brl
fmt_pct = _t.pct
fmt_pct_value = _t.pct_value
fmt_points = _t.points
fmt_compact = _t.compact
fmt_date = _t.date
fmt_datetime = _t.datetime
fmt_month = _t.month

#: Instrument kinds quoted in index points, not R$: indices and futures on an index (the
#: contract spec of WIN says R$ 0,20 *per point*, :mod:`core.data.futures`; B3's "Contrato
#: Futuro Mini de Ibovespa" specification). Their prices are never shown as money.
POINT_KINDS = ("index", "future")


def price_unit(kind: str | None) -> str:
    """Unit of a price of an instrument of ``kind``: ``"pts"`` (index, future) or ``"R$"``."""
    return "pts" if kind in POINT_KINDS else "R$"


def fmt_price(x, kind: str | None) -> str:
    """A price in its instrument's unit: ``fmt_price(127791.6, "future") == "127.792 pts"``,
    ``fmt_price(38.5, "stock") == "R$ 38,50"`` (see :data:`POINT_KINDS`)."""
    return fmt_points(x) if kind in POINT_KINDS else fmt_brl(x)


def ohlc_hovertemplate(number_format: str = ",.2f", unit: str = "") -> str:
    """Plotly ``hovertemplate`` of a candlestick: the pt-BR OHLC readout of the bar under the
    cursor (*Abertura, Máxima, Mínima, Fechamento*).

    The numbers use d3 ``number_format`` with the figure's ``separators`` (``",."``, set by
    :func:`components.theme.apply_theme`), so ``123456.5`` reads ``123.456,50``; ``unit``
    (``"R$ "``) prefixes each value. The date comes from the axis ``hoverformat``.
    """
    fields = (("Abertura", "open"), ("Máxima", "high"), ("Mínima", "low"), ("Fechamento", "close"))
    return "<br>".join(f"{label}: {unit}%{{{key}:{number_format}}}" for label, key in fields) + (
        "<extra></extra>"
    )
