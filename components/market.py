"""Market page pieces: the ^BVSP header and the instruments grid."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.cards import kpi_card, kpi_row, sign_class
from components.format import fmt_date, fmt_num, fmt_pct, fmt_points
from components.grid import (
    compact_col,
    date_col,
    grid,
    num_col,
    pct_col,
    percent_values,
    text_col,
)
from components.inputs import dropdown

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
                dropdown(
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


#: Snapshot columns that are fractions; the grid shows them as percent values.
PCT_FIELDS = ("chg_1d", "chg_1w", "chg_1m", "chg_ytd", "chg_12m", "dist_high_52w", "dist_low_52w")


def grid_rows(snapshot: pd.DataFrame) -> list[dict]:
    """Rows for :func:`market_grid`: raw numbers, ISO dates, changes in percent, NaN as None.

    Changes (``chg_*``, ``dist_*``) are percent values (``12.5`` = 12,5 %) so the grid's
    number filter takes what the trader reads ("Mês > 10").
    """
    df = snapshot.copy()
    if df.empty:
        return []
    df["last_date"] = df["last_date"].dt.strftime("%Y-%m-%d")
    if "volume_unit" in df:
        df["volume_unit_label"] = df["volume_unit"].map(VOLUME_UNIT_LABELS).fillna("")
    df["kind_label"] = df["kind"].map(KIND_LABELS).fillna(df["kind"])
    df = df.astype(object).where(df.notna(), None)
    return percent_values(df.to_dict("records"), [f for f in PCT_FIELDS if f in df])


def market_grid(rows: list[dict], grid_id: str) -> dag.AgGrid:
    """The sortable, filterable instruments grid; a click on a row opens its Quotes page.

    The grid uses AG Grid's Quartz theme, which follows ``data-ag-theme-mode`` on ``<body>``
    (set by the app's light/dark switch).
    """

    def chg(field: str, header: str, tooltip: str) -> dict:
        return pct_col(field, header, signed=True, colored=True, headerTooltip=tooltip, width=115)

    cols = [
        text_col("ticker", "Ticker", pinned="left", width=100),
        text_col("name", "Nome", width=170),
        date_col("last_date", "Data", width=120),
        num_col(
            "close",
            "Último (R$/pts)",
            width=130,
            valueFormatter={
                "function": "ptNum(params.value, params.data.kind === 'index' ? 0 : 2)"
            },
        ),
        chg("chg_1d", "Dia", "Variação desde o pregão anterior (preço ajustado por proventos)"),
        chg("chg_1w", "Semana", "Variação em 7 dias corridos (ajustada)"),
        chg("chg_1m", "Mês", "Variação em 1 mês (ajustada)"),
        chg("chg_ytd", "No ano", "Variação desde o último fechamento do ano anterior (ajustada)"),
        chg("chg_12m", "12 meses", "Variação em 12 meses (ajustada)"),
        chg("dist_high_52w", "Dist. máx. 52 sem.", "Fechamento / máxima de 52 semanas − 1"),
        chg("dist_low_52w", "Dist. mín. 52 sem.", "Fechamento / mínima de 52 semanas − 1"),
        compact_col(
            "volume",
            "Volume",
            width=120,
            headerTooltip="Volume do último pregão, na unidade da série (coluna Unid.)",
        ),
        text_col("volume_unit_label", "Unid.", width=110),
        text_col("kind_label", "Tipo", width=100),
        num_col(
            "volume_ratio",
            "Vol./média 20d",
            width=130,
            headerTooltip="Volume do último pregão dividido pela média dos 20 anteriores",
            valueFormatter={"function": "ptNum(params.value, 2) + '×'"},
            cellClassRules={"pos": "params.value >= 1.5"},
        ),
    ]
    return grid(
        grid_id,
        rows,
        cols,
        no_rows="Nenhum instrumento",
        page_size=PAGE_SIZE,
        height=None,
        selection={"mode": "multiRow", "checkboxes": True, "enableClickSelection": False},
        row_id="ticker",
        floating_filters=True,
        size="autoSize",
    )
