"""Shared AG Grid settings: Portuguese texts (pagination, filters, empty grid)."""

from __future__ import annotations

__all__ = ["LOCALE_PT", "locale_pt"]

LOCALE_PT = {
    "page": "Página",
    "of": "de",
    "to": "a",
    "pageSizeSelectorLabel": "Linhas:",
    "firstPage": "Primeira",
    "lastPage": "Última",
    "nextPage": "Próxima",
    "previousPage": "Anterior",
    "filterOoo": "Filtrar...",
    "contains": "Contém",
    "equals": "Igual a",
    "selectAll": "Selecionar tudo",
}


def locale_pt(no_rows: str = "Nenhuma linha") -> dict:
    """AG Grid ``localeText`` in Portuguese with a custom empty-grid message."""
    return {**LOCALE_PT, "noRowsToShow": no_rows}
