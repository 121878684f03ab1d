"""Market page pieces: the ^BVSP header and the instruments grid."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.cards import kpi_card, kpi_row, sign_class
from components.format import fmt_date, fmt_pct, fmt_points
from components.grid import locale_pt

__all__ = ["index_header", "market_grid", "grid_rows"]


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
        ]
    )


def grid_rows(snapshot: pd.DataFrame) -> list[dict]:
    """Rows for :func:`market_grid` (dates as ISO strings, NaN as None)."""
    df = snapshot.copy()
    df["last_date"] = df["last_date"].dt.strftime("%Y-%m-%d")
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
            "headerName": "Volume (ações)",
            "type": "numericColumn",
            "width": 130,
            "filter": "agNumberColumnFilter",
            "valueFormatter": {"function": "ptCompact(params.value)"},
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
            "rowSelection": {"mode": "singleRow", "checkboxes": False},
        },
        getRowId="params.data.ticker",
        style={"width": "100%"},
        columnSize="autoSize",
    )
