"""Market page pieces: the ^BVSP header and the instruments grid."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from components.cards import kpi_card, kpi_row, sign_class
from components.format import fmt_date, fmt_num, fmt_pct, fmt_points
from components.grid import locale_pt

__all__ = [
    "index_header",
    "market_grid",
    "grid_rows",
    "market_controls",
    "VOLUME_UNIT_LABELS",
    "KIND_LABELS",
    "PAGE_SIZE",
]

#: How each volume unit reads in the UI.
VOLUME_UNIT_LABELS = {
    "shares": "ações",
    "contracts": "contratos",
    "brl": "R$",
    "points": "unid. do índice (Yahoo)",
    "unknown": "unidade desconhecida",
}
#: Instrument kinds in Portuguese.
KIND_LABELS = {
    "stock": "Ações",
    "etf": "ETFs",
    "fii": "FIIs",
    "bdr": "BDRs",
    "index": "Índices",
    "fund": "Fundos",
    "future": "Futuros",
    "option": "Opções",
    "other": "Outros",
}
#: Rows per page of the instruments grid.
PAGE_SIZE = 50


def index_header(row: dict | None) -> dbc.Row | html.Div:
    """KPI cards for the index row of the market snapshot (last, day change, YTD, 12 m)."""
    if row is None:
        return html.Div("Sem dados do ^BVSP.", className="text-muted")
    return kpi_row(
        [
            kpi_card(
                "Ibovespa (^BVSP)", fmt_points(row["close"]), f"em {fmt_date(row['last_date'])}"
            ),
            kpi_card(
                "Variação no dia",
                fmt_pct(row["chg_1d"], sign=True),
                value_class=sign_class(row["chg_1d"]),
            ),
            kpi_card(
                "No ano (YTD)",
                fmt_pct(row["chg_ytd"], sign=True),
                value_class=sign_class(row["chg_ytd"]),
            ),
            kpi_card(
                "12 meses",
                fmt_pct(row["chg_12m"], sign=True),
                value_class=sign_class(row["chg_12m"]),
            ),
            kpi_card(
                "Máx./mín. 52 semanas",
                f"{fmt_points(row['high_52w'])}",
                f"mín. {fmt_points(row['low_52w'])}",
            ),
            kpi_card(
                "Volume",
                fmt_num(row.get("volume"), 0),
                VOLUME_UNIT_LABELS.get(row.get("volume_unit") or "points", "unidade desconhecida"),
                card_id="market-index-volume",
            ),
        ]
    )


def market_controls(view: str, kinds: list[str], n_watch: int) -> dbc.Row:
    """View switch ("Minha lista" / "Todos"), kind filter and watchlist buttons."""
    return dbc.Row(
        [
            dbc.Col(
                dbc.RadioItems(
                    id="market-view",
                    options=[
                        {"label": f"Minha lista ({n_watch})", "value": "watch"},
                        {"label": "Todos", "value": "all"},
                    ],
                    value=view,
                    inline=True,
                ),
                width="auto",
            ),
            dbc.Col(
                dcc.Dropdown(
                    id="market-kinds",
                    options=[{"label": v, "value": k} for k, v in KIND_LABELS.items()],
                    value=kinds,
                    multi=True,
                    placeholder="Todos os tipos",
                    style={"minWidth": "260px"},
                ),
                width="auto",
            ),
            dbc.Col(
                [
                    dbc.Button(
                        "Adicionar à lista",
                        id="market-watch-add",
                        size="sm",
                        color="secondary",
                        className="me-2",
                    ),
                    dbc.Button(
                        "Remover da lista", id="market-watch-remove", size="sm", color="secondary"
                    ),
                ],
                width="auto",
            ),
        ],
        className="g-2 align-items-center mb-2",
    )


def grid_rows(snapshot: pd.DataFrame) -> list[dict]:
    """Rows for :func:`market_grid` (dates as ISO strings, NaN as None)."""
    df = snapshot.copy()
    if df.empty:
        return []
    df["last_date"] = df["last_date"].dt.strftime("%Y-%m-%d")
    if "volume_unit" in df:
        df["volume_unit_label"] = df["volume_unit"].map(VOLUME_UNIT_LABELS).fillna("")
    df["kind_label"] = df["kind"].map(KIND_LABELS).fillna(df["kind"])
    df = df.astype(object).where(df.notna(), None)
    return df.to_dict("records")


def _pct_col(field: str, header: str, tooltip: str) -> dict:
    return {
        "field": field,
        "headerName": header,
        "headerTooltip": tooltip,
        "type": "numericColumn",
        "filter": "agNumberColumnFilter",
        "valueFormatter": {"function": "ptPct(params.value, 2)"},
        "cellClassRules": {"pos": "params.value > 0", "neg": "params.value < 0"},
        "width": 110,
    }


def market_grid(rows: list[dict], grid_id: str) -> dag.AgGrid:
    """The sortable, filterable instruments grid; a click on a row opens its Quotes page.

    The grid uses AG Grid's Quartz theme, which follows ``data-ag-theme-mode`` on ``<body>``
    (set by the app's light/dark switch).
    """
    cols = [
        {
            "field": "ticker",
            "headerName": "Ticker",
            "pinned": "left",
            "width": 100,
            "filter": "agTextColumnFilter",
        },
        {"field": "name", "headerName": "Nome", "width": 170, "filter": "agTextColumnFilter"},
        {
            "field": "last_date",
            "headerName": "Data",
            "width": 110,
            "valueFormatter": {"function": "ptDate(params.value)"},
        },
        {
            "field": "close",
            "headerName": "Último (R$/pts)",
            "type": "numericColumn",
            "width": 130,
            "filter": "agNumberColumnFilter",
            "valueFormatter": {
                "function": "ptNum(params.value, params.data.kind === 'index' ? 0 : 2)"
            },
        },
        _pct_col(
            "chg_1d", "Dia", "Variação desde o pregão anterior (preço ajustado por proventos)"
        ),
        _pct_col("chg_1w", "Semana", "Variação em 7 dias corridos (ajustada)"),
        _pct_col("chg_1m", "Mês", "Variação em 1 mês (ajustada)"),
        _pct_col(
            "chg_ytd", "No ano", "Variação desde o último fechamento do ano anterior (ajustada)"
        ),
        _pct_col("chg_12m", "12 meses", "Variação em 12 meses (ajustada)"),
        _pct_col("dist_high_52w", "Dist. máx. 52s", "Fechamento / máxima de 52 semanas − 1"),
        _pct_col("dist_low_52w", "Dist. mín. 52s", "Fechamento / mínima de 52 semanas − 1"),
        {
            "field": "volume",
            "headerName": "Volume",
            "headerTooltip": "Volume do último pregão, na unidade da série (coluna Unid.)",
            "type": "numericColumn",
            "width": 120,
            "filter": "agNumberColumnFilter",
            "valueFormatter": {"function": "ptCompact(params.value)"},
        },
        {
            "field": "volume_unit_label",
            "headerName": "Unid.",
            "width": 110,
            "filter": "agTextColumnFilter",
        },
        {
            "field": "kind_label",
            "headerName": "Tipo",
            "width": 100,
            "filter": "agTextColumnFilter",
        },
        {
            "field": "volume_ratio",
            "headerName": "Vol./média 20d",
            "type": "numericColumn",
            "width": 130,
            "filter": "agNumberColumnFilter",
            "headerTooltip": "Volume do último pregão dividido pela média dos 20 anteriores",
            "valueFormatter": {"function": "ptNum(params.value, 2) + '×'"},
            "cellClassRules": {"pos": "params.value >= 1.5"},
        },
    ]
    return dag.AgGrid(
        id=grid_id,
        rowData=rows,
        columnDefs=cols,
        defaultColDef={"sortable": True, "resizable": True, "floatingFilter": True},
        dashGridOptions={
            "localeText": locale_pt("Nenhum instrumento"),
            "animateRows": False,
            "domLayout": "autoHeight",
            "rowSelection": {"mode": "multiRow", "checkboxes": True, "enableClickSelection": False},
            "pagination": True,
            "paginationPageSize": PAGE_SIZE,
            "paginationPageSizeSelector": [25, 50, 100],
        },
        getRowId="params.data.ticker",
        style={"width": "100%"},
        columnSize="autoSize",
    )
