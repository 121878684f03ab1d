"""Dados (``/data``): import files, update from online sources, check data quality.

Thin page: parses inputs, calls :mod:`core.data.imports` / :mod:`core.data.quality`, hands
the results to :mod:`components.data` (the import and update panels: :mod:`components.data_import`). Imports and updates run as background callbacks with
progress and cancel; a cancelled or failed import writes nothing.
"""

from __future__ import annotations

import time

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from components.data import (
    common_history_table,
    import_log_table,
    instruments_grid,
    instruments_grid_rows,
    preview_card,
    report_alert,
)
from components.data_import import MAP_FIELDS, import_panel, update_panel
from components.inputs import dropdown
from components.seed import seed_props
from core.data.imports import ImportCancelled, import_log, preview_file
from core.data.quality import common_history_summary, quality_report, ready_quality_report
from core.errors import PregaoError
from core.requests import (
    build_import_request,
    build_update_request,
    run_import_request,
    run_update_request,
)
from dashboard.authz import current_role
from dashboard.background import job_callback
from dashboard.runtime import get_settings, get_store
from dashboard.uploads import discard, resolve_targets, save_upload, server_path_allowed

dash.register_page(__name__, path="/data", name="Dados", title="Pregão – Dados", order=5)


def layout(**_kwargs):
    """The Data page (data read per request)."""
    store = get_store()
    settings = get_settings()
    team = settings.is_team
    try:
        log = import_log(store, 20)
        err = None
    except PregaoError as exc:  # pragma: no cover - defensive
        log, err = None, str(exc)
    tickers = store.tickers()
    report = ready_quality_report(store)
    root = dbc.Container(
        [
            dcc.Store(id="data-files", data=[]),
            dcc.Store(id="data-refresh", data=0),
            # one tick right after the first paint when the quality report is not ready yet
            # (then _refresh computes it); none when the layout already holds the rows
            dcc.Interval(
                id="data-refresh-once", interval=1, max_intervals=1, disabled=report is not None
            ),
            html.H3("Dados", className="mb-3"),
            dbc.Alert(err, color="danger") if err else None,
            dbc.Row(
                [
                    dbc.Col(
                        import_panel(
                            team,
                            settings.max_upload_mb * 1024 * 1024,
                            server_path_allowed(settings, current_role()),
                        ),
                        lg=8,
                    ),
                    dbc.Col(
                        [
                            update_panel(settings.update_time),
                            dbc.Card(
                                [
                                    dbc.CardHeader("Histórico comum"),
                                    dbc.CardBody(
                                        [
                                            dropdown(
                                                id="data-common-tickers",
                                                options=tickers,
                                                multi=True,
                                                placeholder="Escolha os ativos",
                                            ),
                                            dbc.Button(
                                                "Alinhar",
                                                id="data-common-btn",
                                                size="sm",
                                                className="mt-2",
                                            ),
                                            html.Div(id="data-common-result", className="mt-2"),
                                        ]
                                    ),
                                ]
                            ),
                        ],
                        lg=4,
                    ),
                ]
            ),
            html.H5("Registro de importações", className="mt-2"),
            html.Div(import_log_table(log) if log is not None else None, id="data-log"),
            html.H5("Instrumentos e qualidade dos dados", className="mt-3"),
            # the report if it is ready; otherwise _refresh fills the rows right after the
            # first paint (quality reads every bar)
            dcc.Loading(instruments_grid(report), type="dot", delay_show=300),
        ],
        fluid=True,
    )
    seed_props(root, _MAPPING_OUT, [_toggle_mapping(root["data-format"].value)])
    return root


# -- callbacks ----------------------------------------------------------------------------
#: Output of :func:`_toggle_mapping` (the layout seeds the first answer).
_MAPPING_OUT = [("data-mapping", "style")]


@callback(
    Output("data-mapping", "style"),
    Input("data-format", "value"),
    prevent_initial_call=True,  # the layout holds the first answer
)
def _toggle_mapping(fmt):
    return {"display": "block"} if fmt == "csv" else {"display": "none"}


@callback(
    Output("data-files", "data"),
    Output("data-upload-name", "children"),
    Input("data-upload", "contents"),
    State("data-upload", "filename"),
    prevent_initial_call=True,
)
def _store_upload(contents, filenames):
    if not contents:
        return no_update, no_update
    if isinstance(contents, str):
        contents, filenames = [contents], [filenames]
    try:  # the browser keeps only tokens, never server paths (dashboard.uploads)
        files = [save_upload(c, n, get_settings()) for c, n in zip(contents, filenames)]
    except PregaoError as exc:
        return [], dbc.Alert(str(exc), color="danger", className="py-1 mb-0")
    label = "Arquivo(s): " + ", ".join(f["name"] for f in files)
    return files, dbc.Badge(label, color="light", text_color="dark", id="data-upload-badge")


def _targets(files, path_text) -> tuple[list, list[str]]:
    """Checked files to read: upload tokens or allowed server paths (dashboard.uploads)."""
    return resolve_targets(files, path_text, get_settings(), current_role())


def _mapping(fmt, values, decimal, dayfirst):
    if fmt != "csv":
        return None
    m = {f: (v or "").strip() for f, v in zip(MAP_FIELDS, values) if v and v.strip()}
    m.update(decimal=decimal or ".", dayfirst=bool(dayfirst))
    return m


_MAP_STATES = [State(f"data-map-{f.replace('_', '-')}", "value") for f in MAP_FIELDS]


@callback(
    Output("data-preview", "children"),
    Input("data-preview-btn", "n_clicks"),
    State("data-files", "data"),
    State("data-path", "value"),
    State("data-format", "value"),
    State("data-ticker", "value"),
    State("data-fractional", "value"),
    State("data-map-decimal", "value"),
    State("data-map-dayfirst", "value"),
    *_MAP_STATES,
    prevent_initial_call=True,
)
def _preview(_n, files, path_text, fmt, ticker, fractional, decimal, dayfirst, *map_values):
    try:
        paths, names = _targets(files, path_text)
    except PregaoError as exc:
        return dbc.Alert(str(exc), color="danger", id="data-preview-error")
    if not paths:
        return dbc.Alert("Envie um arquivo ou informe um caminho.", color="warning")
    try:
        pv = preview_file(
            paths[0],
            fmt or "auto",
            ticker=(ticker or None),
            name=names[0],
            mapping=_mapping(fmt, map_values, decimal, dayfirst),
            include_fractional=bool(fractional),
        )
    except PregaoError as exc:
        return dbc.Alert(str(exc), color="danger", id="data-preview-error")
    except OSError:
        return dbc.Alert(f"{names[0]}: não foi possível ler o arquivo.", color="danger")
    return preview_card(pv)


@job_callback(
    "data-import",
    Output("data-import-result", "children"),
    Output("data-refresh", "data"),
    State("data-files", "data"),
    State("data-path", "value"),
    State("data-format", "value"),
    State("data-ticker", "value"),
    State("data-fractional", "value"),
    State("data-map-decimal", "value"),
    State("data-map-dayfirst", "value"),
    State("data-sel-tickers", "value"),
    State("data-sel-kinds", "value"),
    State("data-sel-all", "value"),
    *_MAP_STATES,
    run="data-import-btn",
    cancel="data-cancel-btn",
    progress="data",
    clear=[("data-import-result", "children", None)],
    adopt=Output("data-refresh", "data"),
    writes=True,
)
def _import(
    job,
    files,
    path_text,
    fmt,
    ticker,
    fractional,
    decimal,
    dayfirst,
    sel_tickers,
    sel_kinds,
    sel_all,
    *map_values,
):
    try:
        paths, names = _targets(files, path_text)
    except PregaoError as exc:
        job.fail(str(exc))
        return dbc.Alert(str(exc), color="danger"), no_update
    if not paths:
        job.fail("nenhum arquivo.")
        return dbc.Alert("Envie um arquivo ou informe um caminho.", color="warning"), no_update

    try:
        req = build_import_request(
            paths,
            format=fmt,
            ticker=ticker,
            names=names,
            mapping=_mapping(fmt, map_values, decimal, dayfirst),
            fractional=bool(fractional),
            tickers=sel_tickers,
            kinds=sel_kinds,
            everything=bool(sel_all),
        )
        rep = run_import_request(
            get_store(), req, progress=job.progress, cancel=job.cancel_requested
        )
    except ImportCancelled as exc:
        job.cancelled()
        return dbc.Alert(str(exc), color="secondary"), time.time()
    except PregaoError as exc:
        job.fail(str(exc))
        return dbc.Alert(str(exc), color="danger"), time.time()
    finally:
        discard(paths, get_settings())  # uploads are deleted after every import attempt
    if rep.status == "ok":
        job.done(rep.message(), result=time.time())
    else:
        job.fail(rep.message())
    return report_alert(rep.summary(), rep.message(), rep.status), time.time()


@job_callback(
    "data-update",
    Output("data-update-result", "children"),
    Output("data-refresh", "data", allow_duplicate=True),
    run=["data-update-yahoo", "data-update-mt5"],
    cancel="data-update-cancel",
    clear=[("data-update-result", "children", None)],
    adopt=Output("data-refresh", "data"),
    writes=True,
)
def _update(job):
    source = "mt5" if job.trigger == "data-update-mt5" else "yahoo"
    try:
        rep = run_update_request(
            get_store(),
            build_update_request(source),
            progress=job.progress,
            cancel=job.cancel_requested,
        )
    except ImportCancelled as exc:
        job.cancelled()
        return dbc.Alert(str(exc), color="secondary", id="data-update-alert"), time.time()
    except PregaoError as exc:
        job.fail(str(exc))
        return dbc.Alert(str(exc), color="warning", id="data-update-alert"), time.time()
    msg = rep.message() if rep.files else "Tudo atualizado: nada a buscar."
    if rep.status == "failed":
        job.fail(msg)
    else:
        job.done(msg, result=time.time())
    return report_alert(rep.summary(), msg, rep.status), time.time()


@callback(
    Output("data-log", "children"),
    Output("data-instruments", "rowData"),
    Output("data-common-tickers", "options"),
    Input("data-refresh", "data"),
    Input("data-refresh-once", "n_intervals"),
    prevent_initial_call=True,  # the layout holds them (issue 11), or its one tick asks
)
def _refresh(_token, _tick):
    """Import log, instruments grid and ticker list: right after the first paint when the
    layout had no quality report ready, and after every import or update (the quality
    report is served from the store's read cache until the data changes)."""
    store = get_store()
    return (
        import_log_table(import_log(store, 20)),
        instruments_grid_rows(quality_report(store)),
        store.tickers(),
    )


@callback(
    Output("data-common-result", "children"),
    Input("data-common-btn", "n_clicks"),
    State("data-common-tickers", "value"),
    prevent_initial_call=True,
)
def _common(_n, tickers):
    try:
        ch, table = common_history_summary(get_store(), tickers or [])
    except PregaoError as exc:
        return dbc.Alert(str(exc), color="warning")
    return common_history_table(table, ch.n_sessions, ch.start, ch.end)
