"""Mercado (``/``): the ^BVSP header and a grid of every instrument; a click opens its quotes."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, html, no_update

from components.cards import error_alert
from components.format import fmt_date
from components.market import grid_rows, index_header, market_grid
from core.errors import PregaoError
from core.market import BENCHMARK, data_freshness, market_snapshot
from dashboard.runtime import get_store

dash.register_page(__name__, path="/", name="Mercado", title="Pregão · Mercado", order=0)


def layout(**_query):
    """Read the snapshot per request (fresh after imports)."""
    try:
        snap = market_snapshot(get_store())
    except PregaoError as exc:
        return error_alert(str(exc), element_id="market-error")
    if snap.empty:
        return error_alert(
            "O banco está vazio. Rode `python -m dashboard init` ou importe dados na página Dados.",
            element_id="market-error",
        )
    idx = snap[snap["ticker"] == BENCHMARK]
    as_of, others = data_freshness(snap)
    fresh = f"Dados até {fmt_date(as_of)}"
    if others:
        fresh += " (" + ", ".join(f"{t} até {fmt_date(d)}" for t, d in sorted(others.items())) + ")"
    return html.Div(
        [
            html.Div(
                [
                    html.H4("Mercado", className="mb-0 me-3"),
                    html.Span(fresh, id="market-freshness", className="freshness"),
                ],
                className="d-flex align-items-baseline flex-wrap mb-2",
            ),
            html.Div(
                index_header(idx.iloc[0].to_dict() if len(idx) else None), id="market-index-header"
            ),
            html.Div(
                "Variações sobre o preço ajustado por proventos; máxima/mínima de 52 semanas sobre "
                "o preço negociado. Clique numa linha para abrir as cotações.",
                className="text-muted small mb-2",
            ),
            market_grid(grid_rows(snap), "market-grid"),
        ]
    )


@callback(
    Output("url", "href", allow_duplicate=True),
    Input("market-grid", "cellClicked"),
    State("market-grid", "virtualRowData"),
    prevent_initial_call=True,
)
def open_quotes(cell, _rows):
    """A click on any cell of a row navigates to that ticker's Quotes page."""
    if not cell or not cell.get("rowId"):
        return no_update
    return f"/quotes?ticker={cell['rowId']}"
