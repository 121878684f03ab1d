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
    "fmt_int",
    "fmt_compact",
    "PLOTLY_SEPARATORS",
    "PLOTLY_DATE",
    "PLOTLY_LOCALE",
    "MISSING",
]

#: Plotly ``layout.separators``: decimal comma, thousands dot.
PLOTLY_SEPARATORS = ",."
#: d3 date format for hovers and ticks: dd/mm/aaaa.
PLOTLY_DATE = "%d/%m/%Y"
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
