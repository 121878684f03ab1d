"""KPI cards and message boxes."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

__all__ = ["kpi_card", "kpi_row", "error_alert", "sign_class"]


def sign_class(x) -> str:
    """CSS class for a signed number: ``"pos"``, ``"neg"`` or ``""``."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return ""
    if v != v or v == 0:
        return ""
    return "pos" if v > 0 else "neg"


def kpi_card(
    label: str,
    value: str,
    sub: str | None = None,
    *,
    value_class: str = "",
    card_id: str | None = None,
    title: str | None = None,
) -> dbc.Card:
    """One KPI: a small label, a big value (already formatted, with its unit), a subtitle."""
    body = [
        html.Div(label, className="kpi-label"),
        html.Div(value, className=f"kpi-value {value_class}".strip()),
    ]
    if sub:
        body.append(html.Div(sub, className="kpi-sub"))
    kw = {"id": card_id} if card_id else {}
    card = dbc.Card(dbc.CardBody(body, className="py-2 px-3"), className="kpi-card h-100", **kw)
    return html.Div(card, title=title, className="h-100") if title else card


def kpi_row(cards: list) -> dbc.Row:
    """Cards side by side, wrapping on small screens."""
    return dbc.Row(
        [dbc.Col(c, xs=6, md=4, lg=True, className="mb-2") for c in cards], className="g-2 mb-2"
    )


def error_alert(
    message: str,
    *,
    links: list | None = None,
    element_id: str | None = None,
    color: str = "warning",
) -> dbc.Alert:
    """An alert with a user-facing message and optional links (e.g. suggested tickers)."""
    children: list = [html.Span(message)]
    if links:
        children.append(html.Span(" "))
        for i, link in enumerate(links):
            if i:
                children.append(html.Span(" · "))
            children.append(link)
    kw = {"id": element_id} if element_id else {}
    return dbc.Alert(children, color=color, className="my-2", **kw)
