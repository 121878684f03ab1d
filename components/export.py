"""CSV exports a Brazilian opens in Excel, and the machine format on request.

By default (``machine=False``): ``;`` between fields, decimal comma, dates ``dd/mm/aaaa``,
Portuguese headers and a UTF-8 byte-order mark, which Excel in pt-BR needs to read accents
and split columns. ``machine=True``: ``,`` separator, decimal point, ISO dates
(``YYYY-MM-DD``), code-name headers, no BOM — what pandas, R or a script expects.
"""

from __future__ import annotations

import io

import dash_bootstrap_components as dbc
import pandas as pd

from core import textfmt

__all__ = ["csv_text", "machine_switch", "BOM", "QUOTE_HEADERS"]

BOM = "\ufeff"


def csv_text(
    df: pd.DataFrame,
    *,
    headers: dict[str, str] | None = None,
    machine: bool = False,
    decimals: int | dict[str, int] = 2,
    index: bool = False,
) -> str:
    """The CSV text of ``df`` in the pt-BR (default) or machine format.

    Parameters
    ----------
    df : pandas.DataFrame
        Raw values: numbers as numbers, dates as datetimes or ISO strings (datetime columns,
        columns named ``*date``/``*data``/``*_at`` and text columns of ``YYYY-MM-DD`` values
        are dates).
    headers : dict, optional
        Code name -> pt-BR header, used in the pt-BR format only.
    machine : bool
        The machine format (see the module docstring).
    decimals : int or dict
        Digits after the decimal mark, for every float column or per column.
    index : bool
        Write the index as a first column (after ``reset_index``).

    Returns
    -------
    str
        The file's text (with a leading BOM in the pt-BR format).
    """
    out = df.reset_index() if index else df.copy()
    for c in out.columns:
        s = out[c]
        is_date = (
            pd.api.types.is_datetime64_any_dtype(s)
            or str(c).lower().endswith(("date", "data", "_at"))
            or _iso_dates(s)
        )
        if is_date:
            ts = pd.to_datetime(s, errors="coerce")
            if ts.notna().any():
                out[c] = ts.dt.strftime("%Y-%m-%d" if machine else "%d/%m/%Y")
                continue
        if pd.api.types.is_float_dtype(s):
            d = decimals.get(c, 2) if isinstance(decimals, dict) else decimals
            out[c] = s.round(d).map(lambda v, d=d: _number(v, d, machine))
    if not machine and headers:
        out = out.rename(columns=headers)
    buf = io.StringIO()
    out.to_csv(buf, sep="," if machine else ";", index=False, lineterminator="\n")
    return buf.getvalue() if machine else BOM + buf.getvalue()


def _iso_dates(s: pd.Series) -> bool:
    """True for a text column whose values are all ISO dates (``YYYY-MM-DD``)."""
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return False
    vals = s.dropna().astype(str)
    return len(vals) > 0 and bool(vals.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all())


def _number(v, d: int, machine: bool) -> str:
    if v is None or v != v:
        return ""
    return f"{float(v):.{d}f}" if machine else textfmt.num(v, d, grouping=False)


#: pt-BR headers of the canonical bar columns.
QUOTE_HEADERS = {
    "date": "Data",
    "open": "Abertura",
    "high": "Máxima",
    "low": "Mínima",
    "close": "Fechamento",
    "adj_close": "Fechamento ajustado",
    "volume": "Volume",
}


def machine_switch(element_id: str) -> dbc.Checklist:
    """The "machine format" switch next to an export button (value ``["on"]`` or ``[]``)."""
    return dbc.Checklist(
        id=element_id,
        options=[
            {"label": "CSV para programas (vírgula, ponto decimal, AAAA-MM-DD)", "value": "on"}
        ],
        value=[],
        switch=True,
        className="small mt-1",
    )
