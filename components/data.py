"""Builders of the Data page (``/data``): preview, import result, import log, instruments.

Pure functions: plain data in (DataFrames, dicts), Dash components out; no I/O, no app.
"""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.format import fmt_date, fmt_datetime, fmt_int, fmt_num
from components.grid import date_col, grid, int_col, pct_col, text_col
from components.labels import kind_label, source_label, sources_label

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
                    html.Td(fmt_datetime(r.started_at, seconds=True)),
                    html.Td(source_label(r.source)),
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
    """Rows for :func:`instruments_grid` from :func:`core.data.quality.quality_report`.

    Raw values: ISO dates, counts as integers, coverage in percent (``98.5``).
    """
    out = []
    for r in quality.itertuples(index=False):
        out.append(
            {
                "ticker": r.ticker,
                "name": r.name,
                "kind": kind_label(r.kind),
                "first_date": _iso(r.first_date),
                "last_date": _iso(r.last_date),
                "n_bars": int(r.n_bars),
                "coverage": round(float(r.coverage) * 100, 2) if r.n_bars else None,
                "gaps": int(r.gaps),
                "zero_volume": int(r.zero_volume),
                "ohlc_violations": int(r.ohlc_violations),
                "jumps": int(r.jumps),
                "sources": sources_label(r.sources),
                "flags": "; ".join(r.flags) or "ok",
            }
        )
    return out


def _iso(d) -> str | None:
    return None if d is None or d != d else pd.Timestamp(d).strftime("%Y-%m-%d")


def instruments_grid(quality: pd.DataFrame | None, grid_id: str = "data-instruments") -> dag.AgGrid:
    """AG Grid of every instrument with its coverage and quality flags.

    ``quality=None`` draws the grid empty with a "loading" overlay: the page paints first and a
    callback fills the rows (the quality report reads every bar).
    """
    cols = [
        text_col("ticker", "Ticker", width=100, pinned="left"),
        text_col("name", "Nome", width=180),
        text_col("kind", "Tipo", width=90),
        date_col("first_date", "Início"),
        date_col("last_date", "Fim"),
        int_col("n_bars", "Barras", width=100),
        pct_col("coverage", "Cobertura", 1, width=110),
        int_col("gaps", "Lacunas", width=100),
        int_col("zero_volume", "Volume zero", width=100),
        int_col("ohlc_violations", "OHLC inválidos", width=110),
        int_col("jumps", "Saltos", width=90),
        text_col("sources", "Fontes", width=170),
        text_col("flags", "Alertas", width=260),
    ]
    return grid(
        grid_id,
        [] if quality is None else instruments_grid_rows(quality),
        cols,
        no_rows="Carregando a qualidade dos dados…" if quality is None else "Nenhum instrumento",
        page_size=25,
        height="560px",
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
