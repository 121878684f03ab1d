"""Builders of the Data page (``/data``): preview, import result, import log, instruments.

Pure functions: plain data in (DataFrames, dicts), Dash components out; no I/O, no app.
"""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.format import fmt_date, fmt_int, fmt_num, fmt_pct
from components.grid import locale_pt

__all__ = [
    "FORMAT_LABELS",
    "STATUS_LABELS",
    "preview_card",
    "report_alert",
    "import_log_table",
    "instruments_grid_rows",
    "instruments_grid",
    "common_history_table",
]

#: Display names of the file formats.
FORMAT_LABELS = {
    "auto": "Detectar automaticamente",
    "sgs": "CDI diário (BCB SGS: data;valor ou JSON)",
    "cotahist": "COTAHIST (B3)",
    "yahoo": "Yahoo / yfinance CSV",
    "investing": "investing.com (pt-BR)",
    "profit": "ProfitChart",
    "planilha": "Planilha brasileira (; e vírgula decimal)",
    "csv": "CSV genérico (mapear colunas)",
    "mt5": "MetaTrader 5",
    "actions": "Eventos corporativos (ticker,date,kind,value)",
    "intraday": "Intradiário (Data;Open;High;Low;Close, dd/mm/aaaa HH:MM)",
    "mt5bars": "MetaTrader 5: Exportar barras (<DATE> <TIME> ...)",
}
#: Display names of import statuses.
STATUS_LABELS = {"ok": "ok", "failed": "falhou", "cancelled": "cancelada"}
_STATUS_COLOR = {"ok": "success", "failed": "danger", "cancelled": "secondary"}


def preview_card(preview: dict) -> dbc.Card:
    """Card with the detected format, tickers, row count, span and the first rows.

    Parameters
    ----------
    preview : dict
        As :func:`core.data.imports.preview_file`: ``format, tickers, rows, first, last, head``.
    """
    head: pd.DataFrame = preview.get("head", pd.DataFrame())
    tickers = preview.get("tickers", [])
    shown = ", ".join(tickers[:12]) + (f" … (+{len(tickers) - 12})" if len(tickers) > 12 else "")
    rows = []
    for d, r in head.iterrows():
        rows.append(
            html.Tr(
                [
                    html.Td(r.get("ticker", "")),
                    html.Td(fmt_date(d)),
                    *[
                        html.Td(fmt_num(r[c], 2))
                        for c in ("open", "high", "low", "close", "adj_close")
                    ],
                    html.Td(fmt_int(r["volume"])),
                ]
            )
        )
    table = dbc.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th(h)
                        for h in (
                            "Ticker",
                            "Data",
                            "Abertura",
                            "Máxima",
                            "Mínima",
                            "Fechamento",
                            "Fech. ajustado",
                            "Volume",
                        )
                    ]
                )
            ),
            html.Tbody(rows),
        ],
        size="sm",
        striped=True,
        bordered=False,
        className="mb-0",
        id="data-preview-table",
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        dbc.Badge(
                            FORMAT_LABELS.get(preview.get("format"), preview.get("format")),
                            color="info",
                            className="me-2",
                            id="data-preview-format",
                        ),
                        html.Span(
                            f"{fmt_int(preview.get('rows', 0))} linhas, {len(tickers)} ativo(s): {shown}"
                        ),
                        html.Span(
                            f" — de {fmt_date(preview.get('first'))} a {fmt_date(preview.get('last'))}",
                            className="text-muted",
                        ),
                    ],
                    className="mb-2",
                ),
                table,
            ]
        ),
        className="mb-3",
    )


def report_alert(summary: dict, message: str, status: str) -> dbc.Alert:
    """Alert with the outcome of an import or update.

    Parameters
    ----------
    summary : dict
        ``files, instruments, inserted, updated, rejected, errors`` (the CLI's JSON).
    message : str
        One-sentence pt-BR summary.
    status : {"ok", "failed", "cancelled"}
    """
    errors = summary.get("errors") or []
    items = [
        html.Li(
            f"{e['file']}" + (f", linha {e['line']}" if e.get("line") else "") + f": {e['reason']}"
        )
        for e in errors[:10]
    ]
    # with errors the list says it all: the message would repeat the first one
    body = [html.Div("Nada foi gravado." if items else message)]
    if items:
        body.append(html.Ul(items, className="mb-0 mt-2"))
    return dbc.Alert(
        body, color=_STATUS_COLOR.get(status, "info"), id="data-import-alert", dismissable=True
    )


def import_log_table(log: pd.DataFrame) -> dbc.Table | html.Div:
    """The import log (newest first): when, source, file, counts, duration, status."""
    if log is None or log.empty:
        return html.Div("Nenhuma importação ainda.", className="text-muted", id="data-log-empty")
    head = (
        "Quando",
        "Fonte",
        "Arquivo",
        "Instr.",
        "Novas",
        "Atualizadas",
        "Iguais",
        "Rejeitadas",
        "Duração",
        "Situação",
    )
    rows = []
    for r in log.itertuples(index=False):
        rows.append(
            html.Tr(
                [
                    html.Td(pd.Timestamp(r.started_at).strftime("%d/%m/%Y %H:%M:%S")),
                    html.Td(r.source),
                    html.Td(
                        r.file,
                        style={
                            "maxWidth": "22rem",
                            "overflow": "hidden",
                            "textOverflow": "ellipsis",
                        },
                        title=r.file,
                    ),
                    html.Td(fmt_int(r.instruments)),
                    html.Td(fmt_int(r.inserted)),
                    html.Td(fmt_int(r.updated)),
                    html.Td(fmt_int(r.unchanged)),
                    html.Td(fmt_int(r.rejected)),
                    html.Td(f"{fmt_num(r.duration_s, 1)} s"),
                    html.Td(
                        dbc.Badge(
                            STATUS_LABELS.get(r.status, r.status),
                            color=_STATUS_COLOR.get(r.status, "info"),
                        ),
                        title=r.message,
                    ),
                ],
                className="data-log-row",
            )
        )
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)],
        size="sm",
        striped=True,
        hover=True,
        responsive=True,
        id="data-log-table",
    )


def instruments_grid_rows(quality: pd.DataFrame) -> list[dict]:
    """Rows for :func:`instruments_grid` from :func:`core.data.quality.quality_report`."""
    out = []
    for r in quality.itertuples(index=False):
        out.append(
            {
                "ticker": r.ticker,
                "name": r.name,
                "kind": r.kind,
                "first_date": fmt_date(r.first_date),
                "last_date": fmt_date(r.last_date),
                "n_bars": int(r.n_bars),
                "coverage": fmt_pct(r.coverage, 1) if r.n_bars else "–",
                "gaps": int(r.gaps),
                "zero_volume": int(r.zero_volume),
                "ohlc_violations": int(r.ohlc_violations),
                "jumps": int(r.jumps),
                "sources": r.sources,
                "flags": "; ".join(r.flags) or "ok",
            }
        )
    return out


def instruments_grid(quality: pd.DataFrame, grid_id: str = "data-instruments") -> dag.AgGrid:
    """AG Grid of every instrument with its coverage and quality flags."""
    cols = [
        ("ticker", "Ticker", 100),
        ("name", "Nome", 180),
        ("kind", "Tipo", 80),
        ("first_date", "Início", 110),
        ("last_date", "Fim", 110),
        ("n_bars", "Barras", 90),
        ("coverage", "Cobertura", 100),
        ("gaps", "Lacunas", 90),
        ("zero_volume", "Vol. zero", 90),
        ("ohlc_violations", "OHLC inválidos", 110),
        ("jumps", "Saltos", 80),
        ("sources", "Fontes", 140),
        ("flags", "Alertas", 260),
    ]
    return dag.AgGrid(
        id=grid_id,
        rowData=instruments_grid_rows(quality),
        columnDefs=[
            {"field": f, "headerName": h, "width": w, "filter": True, "sortable": True}
            for f, h, w in cols
        ],
        defaultColDef={"resizable": True},
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": 25,
            "paginationPageSizeSelector": [25, 50, 100],
            "animateRows": False,
            "localeText": locale_pt("Nenhum instrumento"),
        },
        style={"height": "520px"},
        className="ag-theme-alpine",
    )


def common_history_table(table: pd.DataFrame, n_sessions: int, start, end) -> html.Div:
    """Per-ticker first/last dates of a common history and the shared window."""
    rows = [
        html.Tr(
            [
                html.Td(r.ticker),
                html.Td(fmt_date(r.first_date)),
                html.Td(fmt_date(r.last_date)),
                html.Td("limita o início" if r.limiting else ""),
            ]
        )
        for r in table.itertuples(index=False)
    ]
    return html.Div(
        [
            html.P(
                f"{fmt_int(n_sessions)} pregões em comum, de {fmt_date(start)} a {fmt_date(end)}.",
                id="data-common-summary",
            ),
            dbc.Table(
                [
                    html.Thead(
                        html.Tr(
                            [html.Th(h) for h in ("Ticker", "Primeira data", "Última data", "")]
                        )
                    ),
                    html.Tbody(rows),
                ],
                size="sm",
                striped=True,
            ),
        ]
    )
