"""The one AG Grid factory: Portuguese texts, raw values with pt-BR formatters, no truncation.

Every grid of the app is built by :func:`grid` from column helpers (:func:`text_col`,
:func:`date_col`, :func:`num_col`, :func:`int_col`, :func:`brl_col`, :func:`pct_col`,
:func:`compact_col`). Cells hold **raw values** — numbers as numbers, dates as ISO
``YYYY-MM-DD`` strings — and a ``valueFormatter`` from ``assets/dashAgGridFunctions.js`` shows
them in pt-BR, so sorting is numeric/chronological and the number and date filters work.

Percent columns hold **percent values** (``12.5`` means 12,5 %), so a trader filtering
"Mês > 10" types 10, as displayed. Builders that have fractions multiply by 100 once
(:func:`percent_values`).
"""

from __future__ import annotations

import dash_ag_grid as dag

__all__ = [
    "LOCALE_PT",
    "locale_pt",
    "grid",
    "text_col",
    "date_col",
    "num_col",
    "int_col",
    "brl_col",
    "pct_col",
    "compact_col",
    "percent_values",
]

#: AG Grid ``localeText`` in Portuguese (pagination, filter menus, column menu, overlays).
LOCALE_PT: dict[str, str] = {
    # overlays
    "loadingOoo": "Carregando...",
    "noRowsToShow": "Nenhuma linha",
    "noMatchingRows": "Nenhuma linha corresponde ao filtro",
    "loadingError": "ERRO",
    # pagination: "1 a 25 de 1.087"
    "page": "Página",
    "of": "de",
    "to": "a",
    "more": "mais",
    "pageLastRowUnknown": "?",
    "pageSizeSelectorLabel": "Linhas por página:",
    "firstPage": "Primeira página",
    "lastPage": "Última página",
    "nextPage": "Próxima página",
    "previousPage": "Página anterior",
    "thousandSeparator": ".",
    "decimalSeparator": ",",
    # filters
    "applyFilter": "Aplicar",
    "clearFilter": "Limpar",
    "resetFilter": "Redefinir",
    "cancelFilter": "Cancelar",
    "textFilter": "Filtro de texto",
    "numberFilter": "Filtro numérico",
    "bigintFilter": "Filtro numérico",
    "dateFilter": "Filtro de data",
    "setFilter": "Filtro de conjunto",
    "filterOoo": "Filtrar...",
    "empty": "Escolha uma opção",
    "equals": "Igual a",
    "notEqual": "Diferente de",
    "lessThan": "Menor que",
    "greaterThan": "Maior que",
    "inRange": "Entre",
    "inRangeStart": "De",
    "inRangeEnd": "Até",
    "lessThanOrEqual": "Menor ou igual a",
    "greaterThanOrEqual": "Maior ou igual a",
    "contains": "Contém",
    "notContains": "Não contém",
    "startsWith": "Começa com",
    "endsWith": "Termina com",
    "blank": "Vazio",
    "notBlank": "Preenchido",
    "before": "Antes de",
    "after": "Depois de",
    "andCondition": "E",
    "orCondition": "OU",
    "dateFormatOoo": "dd/mm/aaaa",
    "invalidDate": "Data inválida",
    "invalidNumber": "Número inválido",
    "filterSummaryInactive": "é (todos)",
    "filterSummaryContains": "contém",
    "filterSummaryNotContains": "não contém",
    "filterSummaryTextEquals": "igual a",
    "filterSummaryTextNotEqual": "diferente de",
    "filterSummaryStartsWith": "começa com",
    "filterSummaryEndsWith": "termina com",
    "filterSummaryBlank": "é vazio",
    "filterSummaryNotBlank": "não é vazio",
    "filterSummaryInRange": "entre",
    "searchOoo": "Buscar...",
    "selectAll": "(Selecionar tudo)",
    "selectAllSearchResults": "(Selecionar todos os resultados)",
    "blanks": "(Vazios)",
    "noMatches": "Nenhum resultado",
    "yesterday": "Ontem",
    "today": "Hoje",
    "tomorrow": "Amanhã",
    "last7Days": "Últimos 7 dias",
    "last30Days": "Últimos 30 dias",
    "last90Days": "Últimos 90 dias",
    "lastWeek": "Semana passada",
    "thisWeek": "Esta semana",
    "nextWeek": "Próxima semana",
    "lastMonth": "Mês passado",
    "thisMonth": "Este mês",
    "nextMonth": "Próximo mês",
    "lastQuarter": "Trimestre passado",
    "thisQuarter": "Este trimestre",
    "nextQuarter": "Próximo trimestre",
    "lastYear": "Ano passado",
    "thisYear": "Este ano",
    "yearToDate": "No ano",
    "nextYear": "Próximo ano",
    "last6Months": "Últimos 6 meses",
    "last12Months": "Últimos 12 meses",
    "last24Months": "Últimos 24 meses",
    # column menu
    "pinColumn": "Fixar coluna",
    "pinLeft": "Fixar à esquerda",
    "pinRight": "Fixar à direita",
    "noPin": "Não fixar",
    "autosizeThisColumn": "Ajustar esta coluna",
    "autosizeAllColumns": "Ajustar todas as colunas",
    "resetColumns": "Restaurar colunas",
    "sortAscending": "Ordem crescente",
    "sortDescending": "Ordem decrescente",
    "sortUnSort": "Sem ordenação",
    "columnFilter": "Filtro da coluna",
    "columnChooser": "Escolher colunas",
    "chooseColumns": "Escolher colunas",
    "columns": "Colunas",
    "filters": "Filtros",
    "hideColumn": "Ocultar coluna",
    "copy": "Copiar",
    "copyWithHeaders": "Copiar com cabeçalhos",
    "export": "Exportar",
    "csvExport": "Exportar CSV",
    # accessibility
    "ariaChecked": "marcado",
    "ariaUnchecked": "desmarcado",
    "ariaIndeterminate": "indeterminado",
    "ariaFilterValue": "Valor do filtro",
    "ariaFilterFromValue": "Filtrar a partir do valor",
    "ariaFilterToValue": "Filtrar até o valor",
    "ariaFilterMenuOpen": "Abrir menu de filtro",
    "ariaDateFilterInput": "Data do filtro",
    "ariaLabelColumnFilter": "Filtro da coluna",
    "ariaLabelColumnMenu": "Menu da coluna",
    "ariaPageSizeSelectorLabel": "Linhas por página",
    "ariaRowSelectAll": "Pressione Espaço para selecionar todas as linhas",
    "ariaSortableColumn": "Pressione Enter para ordenar",
    "ariaSearch": "Buscar",
    "ariaSearchFilterValues": "Buscar valores do filtro",
}


def locale_pt(no_rows: str = "Nenhuma linha") -> dict:
    """AG Grid ``localeText`` in Portuguese with a custom empty-grid message."""
    return {**LOCALE_PT, "noRowsToShow": no_rows}


def text_col(field: str, header: str, **kw) -> dict:
    """A text column with a text filter ("Contém", "Começa com"...)."""
    return {"field": field, "headerName": header, "filter": "agTextColumnFilter", **kw}


def date_col(field: str, header: str, **kw) -> dict:
    """Dates held as ISO ``YYYY-MM-DD`` strings (sort chronologically), shown ``dd/mm/aaaa``.

    The date filter compares calendar days (``isoDateComparator``).
    """
    return {
        "field": field,
        "headerName": header,
        "filter": "agDateColumnFilter",
        "filterParams": {"comparator": {"function": "isoDateComparator"}},
        "valueFormatter": {"function": "ptDate(params.value)"},
        "width": 120,
        **kw,
    }


def _numeric(field: str, header: str, formatter: str, **kw) -> dict:
    return {
        "field": field,
        "headerName": header,
        "type": "numericColumn",
        "filter": "agNumberColumnFilter",
        "valueFormatter": {"function": formatter},
        **kw,
    }


def num_col(field: str, header: str, decimals: int = 2, **kw) -> dict:
    """A number (``1.234,56``); filters on the raw value."""
    return _numeric(field, header, f"ptNum(params.value, {int(decimals)})", **kw)


def int_col(field: str, header: str, **kw) -> dict:
    """A count or quantity (``33.010``)."""
    return _numeric(field, header, "ptNum(params.value, 0)", **kw)


def brl_col(field: str, header: str, decimals: int = 2, **kw) -> dict:
    """Money (``R$ 1.234,56``)."""
    return _numeric(field, header, f"ptBRL(params.value, {int(decimals)})", **kw)


def pct_col(
    field: str, header: str, decimals: int = 2, *, signed: bool = False, colored: bool = False, **kw
) -> dict:
    """A **percent value** (``12.5`` -> ``12,50%``); the number filter takes what is shown.

    ``signed`` adds ``+`` to positives; ``colored`` paints positives green, negatives red.
    """
    fn = f"ptPctValue(params.value, {int(decimals)}, {'true' if signed else 'false'})"
    col = _numeric(field, header, fn, **kw)
    if colored:
        col["cellClassRules"] = {"pos": "params.value > 0", "neg": "params.value < 0"}
    return col


def compact_col(field: str, header: str, **kw) -> dict:
    """A large quantity shown compactly (``33,01 mi``); sorts and filters on the full number."""
    return _numeric(field, header, "ptCompact(params.value)", **kw)


def percent_values(rows: list[dict], fields: list[str] | tuple[str, ...]) -> list[dict]:
    """Rows with ``fields`` turned from fractions into percent values (``0.125 -> 12.5``)."""
    out = []
    for r in rows:
        r = dict(r)
        for f in fields:
            v = r.get(f)
            if v is not None and v == v:
                r[f] = float(v) * 100.0
        out.append(r)
    return out


#: Approximate header font metrics (px) for :func:`_fit_header`.
_CHAR_PX, _HEADER_PAD_PX = 8, 60


def _fit_header(col: dict) -> dict:
    """Widen a column so its longest header word fits (headers wrap between words, never
    inside one: "Cobertura", not "Cobe…" or "Cobertur-a"); the sort and filter icons count."""
    words = str(col.get("headerName", "")).split()
    need = max((len(w) for w in words), default=0) * _CHAR_PX + _HEADER_PAD_PX
    col = dict(col)
    col["minWidth"] = max(int(col.get("minWidth", 0)), need)
    if "width" in col and col["width"] < need:
        col["width"] = need
    return col


def grid(
    grid_id: str,
    rows: list[dict] | None,
    columns: list[dict],
    *,
    no_rows: str = "Nenhuma linha",
    page_size: int | None = None,
    height: str | None = "360px",
    selection: dict | None = None,
    row_id: str | None = None,
    floating_filters: bool = False,
    size: str | None = None,
    options: dict | None = None,
    **kw,
) -> dag.AgGrid:
    """An AG Grid with the house defaults.

    Parameters
    ----------
    grid_id : str
        The component id.
    rows : list of dict
        Raw values (numbers, ISO date strings); ``None`` for an empty grid.
    columns : list of dict
        Column definitions, usually from the ``*_col`` helpers.
    no_rows : str
        Text of the empty grid.
    page_size : int, optional
        Paginate with this many rows per page ("1 a 25 de 1.087").
    height : str or None
        CSS height; ``None`` lets the grid grow with its rows (``domLayout="autoHeight"``).
    selection : dict, optional
        AG Grid ``rowSelection`` (e.g. ``{"mode": "singleRow", "checkboxes": False}``).
    row_id : str, optional
        Field that identifies a row (``getRowId``).
    floating_filters : bool
        Show a filter box under each header.
    size : str, optional
        dash-ag-grid ``columnSize`` (``"autoSize"``, ``"sizeToFit"``, ``"responsiveSizeToFit"``).
    options : dict, optional
        More ``dashGridOptions``.

    Every column is sortable, resizable and filterable; headers wrap instead of being cut
    ("Cobertura", not "Cobe…").
    """
    grid_options: dict = {
        "localeText": locale_pt(no_rows),
        "animateRows": False,
        "tooltipShowDelay": 300,
    }
    if page_size:
        grid_options |= {
            "pagination": True,
            "paginationPageSize": page_size,
            "paginationPageSizeSelector": sorted({page_size, 25, 50, 100}),
        }
    if height is None:
        grid_options["domLayout"] = "autoHeight"
    if selection:
        grid_options["rowSelection"] = selection
    grid_options |= options or {}
    columns = [_fit_header(c) for c in columns]
    extra: dict = {}
    if row_id:
        extra["getRowId"] = f"params.data.{row_id}"
    if size:
        extra["columnSize"] = size
    return dag.AgGrid(
        id=grid_id,
        rowData=rows or [],
        columnDefs=columns,
        defaultColDef={
            "sortable": True,
            "resizable": True,
            "filter": True,
            "floatingFilter": floating_filters,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
            "minWidth": 80,
        },
        dashGridOptions=grid_options,
        style={"width": "100%", **({"height": height} if height else {})},
        **extra,
        **kw,
    )
