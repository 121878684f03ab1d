"""Página não encontrada (any unknown path): a Portuguese message and a way back."""

from __future__ import annotations

import dash
from dash import dcc, html

dash.register_page(__name__, path="/404", title="Pregão · Página não encontrada")


def layout(**_query):
    """The 404 page."""
    return html.Div(
        [
            html.H4("Página não encontrada"),
            html.P("O endereço não corresponde a nenhuma página do Pregão."),
            dcc.Link("Voltar ao Mercado", href="/"),
        ],
        id="not-found",
        className="py-4",
    )
