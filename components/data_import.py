"""Import and update panels of the Data page (``/data``).

Pure builders (no I/O): the page composes them and wires their callbacks; ids are prefixed
``data-`` as the page's.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.data import FORMAT_LABELS
from components.inputs import dropdown
from components.jobs import job_progress
from components.market import KIND_LABELS
from core.data.imports import FORMATS

__all__ = ["MAP_FIELDS", "MAP_LABELS", "import_panel", "update_panel"]

#: Canonical fields of the generic-CSV column mapping, in form order.
MAP_FIELDS = ("date", "open", "high", "low", "close", "adj_close", "volume", "ticker")
#: pt-BR placeholder of each mapping field.
MAP_LABELS = {
    "date": "Data",
    "open": "Abertura",
    "high": "Máxima",
    "low": "Mínima",
    "close": "Fechamento",
    "adj_close": "Fech. ajustado",
    "volume": "Volume",
    "ticker": "Ticker",
}


def import_panel(team: bool, max_upload_bytes: int, server_paths: bool) -> dbc.Card:
    """The import card: upload or server path, format, ticker, kinds and "todos", strict
    mode, the generic-CSV column mapping, preview, import/cancel and progress.

    Parameters
    ----------
    team : bool
        Team mode (the page's wording for uploads and server paths).
    max_upload_bytes : int
        Largest upload the browser accepts (the server checks it again).
    server_paths : bool
        Whether this user may type a server path (admins, configured import folders).
    """
    mapping = html.Div(
        [
            html.Small("Colunas do arquivo (CSV genérico):", className="text-muted"),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Input(
                            id=f"data-map-{f.replace('_', '-')}",
                            placeholder=MAP_LABELS[f],
                            size="sm",
                        ),
                        md=3,
                        className="mb-1",
                    )
                    for f in MAP_FIELDS
                ],
                className="g-1",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Select(
                            id="data-map-decimal",
                            size="sm",
                            value=".",
                            options=[
                                {"label": "decimal .", "value": "."},
                                {"label": "decimal ,", "value": ","},
                            ],
                        ),
                        md=3,
                    ),
                    dbc.Col(
                        dbc.Checkbox(id="data-map-dayfirst", label="dia/mês/ano", value=True), md=3
                    ),
                ],
                className="g-1",
            ),
        ],
        id="data-mapping",
        style={"display": "none"},
        className="mb-2",
    )
    return dbc.Card(
        [
            dbc.CardHeader("Importar arquivo"),
            dbc.CardBody(
                [
                    dcc.Upload(
                        id="data-upload",
                        multiple=True,
                        max_size=max_upload_bytes,
                        children=html.Div(
                            [
                                "Arraste arquivos aqui ou ",
                                html.A("escolha no computador"),
                                html.Small(
                                    " (COTAHIST .TXT/.ZIP, CSV do Yahoo, investing.com, "
                                    "ProfitChart)",
                                    className="text-muted",
                                ),
                            ]
                        ),
                        className="border border-2 rounded p-3 text-center mb-2",
                        style={"borderStyle": "dashed"},
                    ),
                    html.Div(id="data-upload-name", className="small mb-2"),
                    dbc.Input(
                        id="data-path",
                        placeholder="…ou o caminho de um arquivo no servidor "
                        "(vários separados por ;)",
                        disabled=not server_paths,
                        className="mb-2",
                        debounce=True,
                    ),
                    dbc.Row(
                        [
                            dbc.Col(
                                dbc.Select(
                                    id="data-format",
                                    value="auto",
                                    options=[
                                        {"label": FORMAT_LABELS[f], "value": f} for f in FORMATS
                                    ],
                                ),
                                md=4,
                            ),
                            dbc.Col(
                                dbc.Input(
                                    id="data-ticker", placeholder="Ticker (se o arquivo não disser)"
                                ),
                                md=4,
                            ),
                            dbc.Col(
                                dbc.Checkbox(
                                    id="data-fractional",
                                    label="COTAHIST: incluir fracionário",
                                    value=False,
                                ),
                                md=4,
                                className="pt-2",
                            ),
                        ],
                        className="g-2 mb-2",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(
                                html.Small(
                                    "Arquivo do mercado inteiro (COTAHIST): entram os ativos que "
                                    "você já segue, mais",
                                    className="text-muted",
                                ),
                                md=12,
                            ),
                            dbc.Col(
                                dbc.Input(
                                    id="data-sel-tickers",
                                    placeholder="estes tickers (ex.: VALE3, BOVA11)",
                                ),
                                md=4,
                            ),
                            dbc.Col(
                                dropdown(
                                    id="data-sel-kinds",
                                    options=[
                                        {"label": v, "value": k} for k, v in KIND_LABELS.items()
                                    ],
                                    multi=True,
                                    placeholder="estes tipos (ETFs, FIIs...)",
                                ),
                                md=4,
                            ),
                            dbc.Col(
                                dbc.Checkbox(
                                    id="data-sel-all",
                                    label="todos os ativos do arquivo",
                                    value=False,
                                ),
                                md=4,
                                className="pt-2",
                            ),
                        ],
                        className="g-2 mb-2",
                    ),
                    mapping,
                    html.Div(
                        [
                            dbc.Button(
                                "Pré-visualizar",
                                id="data-preview-btn",
                                color="secondary",
                                outline=True,
                                className="me-2",
                            ),
                            dbc.Button(
                                "Importar", id="data-import-btn", color="primary", className="me-2"
                            ),
                            dbc.Button(
                                "Cancelar",
                                id="data-cancel-btn",
                                color="danger",
                                outline=True,
                                disabled=True,
                            ),
                        ],
                        className="mb-2",
                    ),
                    job_progress("data", className="mb-2"),
                    html.Div(id="data-preview"),
                    html.Div(id="data-import-result"),
                ]
            ),
        ],
        className="mb-3",
    )


def update_panel(update_time: str) -> dbc.Card:
    """The "Atualizar cotações" card (online update of the followed instruments);
    ``update_time`` is the daily automatic update ("HH:MM", Brasília time)."""
    return dbc.Card(
        [
            dbc.CardHeader("Atualizar cotações"),
            dbc.CardBody(
                [
                    html.P(
                        f"Busca o que falta desde a última data de cada ativo. Atualização automática "
                        f"nos dias úteis às {update_time} (horário de Brasília) com o app "
                        "aberto.",
                        className="small text-muted",
                    ),
                    dbc.Button(
                        "Atualizar (Yahoo)",
                        id="data-update-yahoo",
                        color="primary",
                        outline=True,
                        className="me-2",
                    ),
                    dbc.Button(
                        "Atualizar (MetaTrader 5)",
                        id="data-update-mt5",
                        color="primary",
                        outline=True,
                        className="me-2",
                    ),
                    dbc.Button(
                        "Cancelar",
                        id="data-update-cancel",
                        color="danger",
                        outline=True,
                        disabled=True,
                    ),
                    job_progress("data-update"),
                    html.Div(id="data-update-result", className="mt-2"),
                ]
            ),
        ],
        className="mb-3",
    )
