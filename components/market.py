"""Market page pieces: the ^BVSP header, the instruments grid (with a one-month sparkline)
and the sector treemap of the day's change."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import html

from components.cards import kpi_card, kpi_row, sign_class
from components.format import fmt_brl, fmt_compact, fmt_date, fmt_num, fmt_pct, fmt_points
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
from components.theme import apply_theme

__all__ = [
    "index_header",
    "market_grid",
    "grid_rows",
    "market_controls",
    "watchlist_controls",
    "watchlist_options",
    "VOLUME_UNIT_LABELS",
    "KIND_LABELS",
    "PAGE_SIZE",
    "sparkline_text",
    "sector_treemap",
    "market_placeholder",
]

#: Eight levels of the text sparkline, lowest to highest.
SPARK_BARS = "▁▂▃▄▅▆▇█"


def sparkline_text(values) -> str:
    """A price path as a one-line text sparkline (``"▁▃▅█"``), cheap to render in a grid cell.

    Parameters
    ----------
    values : sequence of float
        Prices, oldest first (NaN skipped).

    Returns
    -------
    str
        One block per value scaled between the minimum and the maximum; flat paths are
        mid-height; "" with fewer than two values.
    """
    v = np.asarray([x for x in (values or []) if x is not None], dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return ""
    lo, hi = float(v.min()), float(v.max())
    if hi - lo <= 0:
        return SPARK_BARS[3] * len(v)
    idx = np.rint((v - lo) / (hi - lo) * (len(SPARK_BARS) - 1)).astype(int)
    return "".join(SPARK_BARS[i] for i in idx)


def sector_treemap(snapshot: pd.DataFrame, theme: str | None = None) -> go.Figure:
    """Treemap of the day's change by B3 sector, each stock sized by its traded value.

    Parameters
    ----------
    snapshot : pandas.DataFrame
        :func:`core.market.market_snapshot` rows (``ticker, name, sector, chg_1d`` as a
        fraction, ``traded_value`` in R$); rows without a positive traded value (the index,
        a session without trades) are left out.
    theme : str, optional
        "light" or "dark".

    Returns
    -------
    plotly.graph_objects.Figure
        Sectors as parents, tickers as leaves; colour = day's change in %, red below zero and
        green above, centred on zero.
    """
    fig = go.Figure()
    need = {"ticker", "sector", "chg_1d", "traded_value"}
    df = snapshot if need <= set(snapshot.columns) else pd.DataFrame(columns=sorted(need))
    df = df[pd.to_numeric(df["traded_value"], errors="coerce") > 0]
    if not len(df):
        fig.add_annotation(text="Sem negócios no último pregão", showarrow=False)
        return apply_theme(fig, theme)
    sectors = sorted(df["sector"].unique())
    chg = pd.to_numeric(df["chg_1d"], errors="coerce")
    sec_chg = []
    for s in sectors:  # the sector's change weighted by traded value
        m = (df["sector"] == s) & chg.notna()
        w = df.loc[m, "traded_value"].astype(float)
        sec_chg.append(float((chg[m] * w).sum() / w.sum()) if w.sum() > 0 else 0.0)
    leaf_chg = chg.fillna(0.0).tolist()
    pct = [100 * c for c in sec_chg + leaf_chg]
    names = df["name"].tolist() if "name" in df else df["ticker"].tolist()
    hover = [f"{s}<br>Dia: {fmt_pct(c, sign=True)}" for s, c in zip(sectors, sec_chg)] + [
        f"{t} · {n}<br>Dia: {fmt_pct(c, sign=True)}<br>Volume financeiro: {fmt_brl(v)}"
        for t, n, c, v in zip(df["ticker"], names, chg, df["traded_value"])
    ]
    fig.add_trace(
        go.Treemap(
            ids=[f"s:{s}" for s in sectors] + [f"t:{t}" for t in df["ticker"]],
            labels=sectors + df["ticker"].tolist(),
            parents=[""] * len(sectors) + [f"s:{s}" for s in df["sector"]],
            values=[0.0] * len(sectors) + df["traded_value"].astype(float).tolist(),
            branchvalues="remainder",
            text=[fmt_pct(c, 1, sign=True) for c in sec_chg + leaf_chg],
            textinfo="label+text",
            hovertext=hover,
            hoverinfo="text",
            marker={
                "colors": pct,
                "colorscale": [[0, "#c0392b"], [0.5, "#7f8c8d"], [1, "#1e8449"]],
                "cmid": 0,
                "cmin": -3,
                "cmax": 3,
                "colorbar": {"title": {"text": "Dia (%)"}, "ticksuffix": "%"},
            },
            root_color="rgba(0,0,0,0)",
        )
    )
    fig.update_layout(margin={"l": 4, "r": 4, "t": 28, "b": 4}, height=420)
    total = float(df["traded_value"].sum())
    fig.update_layout(
        title={
            "text": "Variação do dia por setor B3 (área: volume financeiro, "
            f"R$ {fmt_compact(total)} no total)",
            "font": {"size": 13},
        }
    )
    return apply_theme(fig, theme)


def market_placeholder() -> html.Div:
    """What Mercado paints at once while its snapshot is being computed (the first visit
    after the app starts or after an import): the title, a one-line status and grey
    placeholders where the ^BVSP cards and the grid will be.

    Returns
    -------
    html.Div
        Id ``market-loading`` (``aria-busy``); the page replaces it when the data is ready.
    """
    bar = "placeholder col-12 placeholder-lg mb-2"
    return html.Div(
        [
            html.Div(
                [
                    html.H4("Mercado", className="mb-0 me-3"),
                    dbc.Spinner(size="sm", color="secondary", spinner_class_name="me-2"),
                    html.Span(
                        "Carregando as cotações: variações, faixa de 52 semanas e setores "
                        "de cada ativo…",
                        className="freshness text-muted",
                    ),
                ],
                className="d-flex align-items-baseline flex-wrap mb-2",
            ),
            dbc.Row(
                [
                    dbc.Col(html.Div(html.Span(className="placeholder col-12"), className="p-4"))
                    for _ in range(6)
                ],
                className="g-2 mb-3",
            ),
            html.Div([html.Span(className=bar) for _ in range(12)], className="w-100"),
        ],
        id="market-loading",
        className="placeholder-glow",
        **{"aria-busy": "true"},
    )


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


def watchlist_options(lists, owner: str | None = None) -> list[dict]:
    """Options of the list selector: one per :class:`core.data.watchlist.Watchlist`
    (``"Bancos (4)"``); in team mode (``owner`` = the user) a team list says "equipe"."""
    return [
        {
            "label": f"{w.name} ({len(w.tickers)})"
            + (" · equipe" if owner is not None and w.owner is None else ""),
            "value": w.name,
        }
        for w in lists
    ]


def watchlist_controls(lists, current: str, owner: str | None = None) -> dbc.Row:
    """The named-lists bar: which list Mercado shows, and new / rename / delete.

    Parameters
    ----------
    lists : list of core.data.watchlist.Watchlist
    current : str
        The list shown.
    owner : str, optional
        The user (team mode), for :func:`watchlist_options`.
    """
    return dbc.Row(
        [
            dbc.Col(dbc.Label("Lista", html_for="market-list", className="mb-0"), width="auto"),
            dbc.Col(
                dropdown(
                    id="market-list",
                    options=watchlist_options(lists, owner),
                    value=current,
                    clearable=False,
                    searchable=False,
                    style={"minWidth": "220px"},
                ),
                width="auto",
            ),
            dbc.Col(
                dbc.Input(
                    id="market-list-name",
                    placeholder="Nome da lista",
                    maxLength=40,
                    size="sm",
                    style={"width": "14rem"},
                ),
                width="auto",
            ),
            dbc.Col(
                [
                    dbc.Button(
                        "Nova lista",
                        id="market-list-create",
                        size="sm",
                        color="primary",
                        outline=True,
                        className="me-2",
                    ),
                    dbc.Button(
                        "Renomear",
                        id="market-list-rename",
                        size="sm",
                        color="secondary",
                        outline=True,
                        className="me-2",
                    ),
                    dbc.Button(
                        "Excluir lista",
                        id="market-list-delete",
                        size="sm",
                        color="danger",
                        outline=True,
                    ),
                ],
                width="auto",
            ),
        ],
        className="g-2 align-items-center mb-2",
    )


def market_controls(
    view: str, kinds: list[str], n_watch: int, list_name: str = "Minha lista"
) -> dbc.Row:
    """View switch (the chosen list / "Todos"), kind filter and watchlist buttons."""
    return dbc.Row(
        [
            dbc.Col(
                dbc.RadioItems(
                    id="market-view",
                    options=[
                        {"label": f"{list_name} ({n_watch})", "value": "watch"},
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
    if "spark_1m" in df:
        df["spark"] = df.pop("spark_1m").map(sparkline_text)
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
        text_col(
            "sector",
            "Setor B3",
            width=190,
            headerTooltip="Setor econômico na classificação setorial da B3",
            tooltipValueGetter={
                "function": "params.data.subsector"
                " ? params.data.subsector + ' › ' + params.data.segment : null"
            },
        ),
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
        text_col(
            "spark",
            "Último mês",
            width=150,
            sortable=False,
            filter=False,
            headerTooltip="Fechamentos ajustados dos últimos 22 pregões (mínimo ▁, máximo █)",
            cellStyle={"fontFamily": "monospace", "letterSpacing": "-1px"},
        ),
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
        size=None,
    )
