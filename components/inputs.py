"""Form inputs in Portuguese: dropdown texts, date pickers bounded by the data, ticker search.

``dcc.Dropdown`` and ``dcc.DatePickerRange`` speak English by default ("10 selected",
"Search", English month names) and open on the machine's month. These builders give every
page the same pt-BR inputs: :data:`DROPDOWN_LABELS` for dropdowns, :func:`date_range` that
opens on the data's last session and refuses dates outside the data, and
:func:`ticker_options` whose search ignores accents and case ("itau" finds Itaú).
Month and weekday names come from ``assets/05-locale-pt-br.js``.
"""

from __future__ import annotations

import unicodedata

import pandas as pd
from dash import dcc

__all__ = [
    "DROPDOWN_LABELS",
    "DATE_FORMAT",
    "MONTH_FORMAT",
    "fold",
    "ticker_options",
    "data_span",
    "date_range",
    "dropdown",
]

#: ``dcc.Dropdown(labels=...)`` in Portuguese.
DROPDOWN_LABELS = {
    "select_all": "Selecionar todos",
    "deselect_all": "Desmarcar todos",
    "selected_count": "{num_selected} selecionados",
    "search": "Buscar",
    "clear_search": "Limpar busca",
    "clear_selection": "Limpar seleção",
    "no_options_found": "Nenhuma opção encontrada",
}
#: Date picker display format (dd/mm/aaaa) and calendar caption ("novembro 2024").
DATE_FORMAT = "DD/MM/YYYY"
MONTH_FORMAT = "MMMM YYYY"


def fold(text: str) -> str:
    """Lower case without accents: ``"Itaú Unibanco" -> "itau unibanco"``."""
    norm = unicodedata.normalize("NFKD", str(text))
    return "".join(c for c in norm if not unicodedata.combining(c)).lower()


def ticker_options(instruments: pd.DataFrame) -> list[dict]:
    """Dropdown options ``"PETR4 · Petrobras PN"`` searchable without accents or case.

    Parameters
    ----------
    instruments : pandas.DataFrame
        Columns ``ticker`` and ``name`` (as :meth:`core.data.store.Store.instruments`).
    """
    out = []
    for r in instruments.itertuples(index=False):
        label = f"{r.ticker} · {r.name}" if r.name else r.ticker
        out.append({"label": label, "value": r.ticker, "search": f"{fold(label)} {label}"})
    return out


def dropdown(**kw) -> dcc.Dropdown:
    """``dcc.Dropdown`` with the Portuguese texts (``labels``) unless given."""
    kw.setdefault("labels", DROPDOWN_LABELS)
    return dcc.Dropdown(**kw)


def data_span(
    instruments: pd.DataFrame, kinds: tuple[str, ...] | None = ("stock",), *, common: bool = False
) -> tuple[str | None, str | None]:
    """First and last session (``YYYY-MM-DD``) of the stored data of ``kinds`` (None = all).

    The last session is the latest last date among those instruments, or with
    ``common=True`` the last date most of them share (the session the data is "as of"), so a
    picker defaults to the data's last session, not to today.
    """
    df = instruments if kinds is None else instruments[instruments["kind"].isin(kinds)]
    df = df.dropna(subset=["first_date", "last_date"]) if len(df) else df
    if not len(df):
        return None, None
    first = pd.Timestamp(df["first_date"].min()).strftime("%Y-%m-%d")
    lasts = pd.to_datetime(df["last_date"])
    last = lasts.mode().max() if common else lasts.max()
    return first, pd.Timestamp(last).strftime("%Y-%m-%d")


def date_range(
    element_id: str,
    start: str | None = None,
    end: str | None = None,
    *,
    span: tuple[str | None, str | None] = (None, None),
    **kw,
) -> dcc.DatePickerRange:
    """A pt-BR date range picker limited to ``span`` and opening on its last session.

    Parameters
    ----------
    element_id : str
    start, end : str, optional
        Initial values (``YYYY-MM-DD``), kept as given (a URL may ask for a range outside the
        data: the page then says so).
    span : (first, last)
        The data's range (:func:`data_span`): dates outside it cannot be picked.
    """
    first, last = span
    opts = {
        "display_format": DATE_FORMAT,
        "month_format": MONTH_FORMAT,
        "first_day_of_week": 0,
        "start_date_placeholder_text": "início",
        "end_date_placeholder_text": "fim",
        "min_date_allowed": first,
        "max_date_allowed": last,
        "initial_visible_month": end or last,
    }
    opts.update(kw)
    return dcc.DatePickerRange(
        id=element_id,
        start_date=start,
        end_date=end,
        **{k: v for k, v in opts.items() if v is not None},
    )
