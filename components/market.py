"""Market page pieces: the ^BVSP header and the instruments grid."""

from __future__ import annotations

import dash_ag_grid as dag  # noqa: F401  (return type)
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.cards import kpi_card, kpi_row, sign_class
from components.format import fmt_date, fmt_pct, fmt_points
from components.grid import (
    compact_col,
    date_col,
    grid,
    num_col,
    pct_col,
    percent_values,
    text_col,
)
from components.labels import kind_label

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


#: Snapshot columns that are fractions; the grid shows them as percent values.
PCT_FIELDS = (
    "chg_1d",
    "chg_1w",
    "chg_1m",
    "chg_ytd",
    "chg_12m",
    "dist_high_52w",
    "dist_low_52w",
)


def grid_rows(snapshot: pd.DataFrame) -> list[dict]:
    """Rows for :func:`market_grid`: raw numbers, ISO dates, changes in percent, NaN as None.

    Changes (``chg_*``, ``dist_*``) are percent values (``12.5`` = 12,5 %) so the grid's
    number filter takes what the trader reads ("Mês > 10").
    """
    df = snapshot.copy()
    df["last_date"] = df["last_date"].dt.strftime("%Y-%m-%d")
    df["kind_label"] = df["kind"].map(kind_label) if "kind" in df else None
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
        text_col("kind_label", "Tipo", width=100),
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
        compact_col("volume", "Volume (ações)", width=130),
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
        height=None,
        selection={"mode": "singleRow", "checkboxes": False},
        row_id="ticker",
        floating_filters=True,
        size="autoSize",
    )
