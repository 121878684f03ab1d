"""Mercado (``/``): the ^BVSP header, a paginated grid and the sector treemap.

The grid shows one of the user's named watchlists (the one chosen last in this browser, a
cookie; "Minha lista" at first) or every instrument.
"""

from __future__ import annotations

import dash
import flask
from dash import (
    Input,
    Output,
    Patch,
    State,
    callback,
    clientside_callback,
    ctx,
    dcc,
    html,
    no_update,
)

from components.cards import error_alert
from components.format import fmt_date
from components.market import (
    grid_rows,
    index_header,
    market_controls,
    market_grid,
    market_placeholder,
    sector_treemap,
    watchlist_controls,
    watchlist_options,
)
from components.theme import graph_config, theme_layout
from core.data.watchlist import (
    DEFAULT_LIST,
    add_to_watchlist,
    create_watchlist,
    delete_watchlist,
    list_watchlists,
    remove_from_watchlist,
    rename_watchlist,
    watchlist,
)
from core.errors import InputError, PregaoError
from core.market import BENCHMARK, data_freshness, market_snapshot, market_snapshot_ready
from dashboard.auth import current_author
from dashboard.runtime import get_settings, get_store

dash.register_page(__name__, path="/", name="Mercado", title="Pregão · Mercado", order=0)


#: Cookie remembering which watchlist Mercado shows in this browser.
LIST_COOKIE = "pregao_market_list"


def _chosen_list(lists) -> str:
    """The list to show: the cookie's when it still exists, else the default list."""
    names = [w.name for w in lists]
    try:
        wanted = flask.request.cookies.get(LIST_COOKIE)
    except RuntimeError:  # outside a request
        wanted = None
    if wanted in names:
        return wanted
    return DEFAULT_LIST if DEFAULT_LIST in names or not names else names[0]


def _snapshot(view: str, kinds: list[str] | None, name: str = DEFAULT_LIST):
    store = get_store()
    tickers = watchlist(store, owner=current_author(), name=name) if view == "watch" else None
    return market_snapshot(store, tickers=tickers, kinds=kinds or None)


def layout(**query):
    """The page at once when the snapshot is in the read cache; else a placeholder that
    :func:`fill` replaces (no blank page while the first visit computes it: issue 11)."""
    if market_snapshot_ready(get_store()):
        return _page(**query)
    return html.Div(
        [market_placeholder(), dcc.Store(id="market-pending-query", data=query)],
        id="market-pending",
    )


@callback(
    Output("market-pending", "children"),
    Input("market-pending-query", "data"),
)
def fill(query):
    """Compute the snapshot of every instrument once (the grid's view, the ^BVSP header and
    the treemap are filters of it), then render the page in place of the placeholder."""
    try:
        market_snapshot(get_store())
    except PregaoError:
        pass  # the page shows the error
    return _page(**(query or {}))


def _page(**_query):
    """Read the snapshot per request (fresh after imports)."""
    store = get_store()
    try:
        lists = list_watchlists(store, owner=current_author())
        chosen = _chosen_list(lists)
        watch = next((list(w.tickers) for w in lists if w.name == chosen), [])
        view = "watch" if watch else "all"
        snap = _snapshot(view, None, chosen)
        idx_snap = market_snapshot(store, tickers=[BENCHMARK])
    except PregaoError as exc:
        return error_alert(str(exc), element_id="market-error")
    if snap.empty and view == "all":
        return error_alert(
            "O banco está vazio. Rode `python -m dashboard init` ou importe dados na página Dados.",
            element_id="market-error",
        )
    as_of, others = data_freshness(snap) if len(snap) else (None, {})
    fresh = f"Dados até {fmt_date(as_of)}" if as_of is not None else ""
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
                index_header(idx_snap.iloc[0].to_dict() if len(idx_snap) else None),
                id="market-index-header",
            ),
            html.Div(
                "Variações sobre o preço ajustado por proventos; máxima/mínima de 52 semanas "
                "sobre o preço negociado com desdobramentos ajustados. Clique numa linha para "
                "abrir as cotações; marque linhas para adicioná-las à sua lista ou removê-las.",
                className="text-muted small mb-2",
            ),
            watchlist_controls(lists, chosen, current_author()),
            html.Div(market_controls(view, [], len(watch), chosen), id="market-controls"),
            html.Div(id="market-watch-msg", className="small text-muted mb-1"),
            market_grid(grid_rows(snap), "market-grid"),
            # below the fold: drawn by `treemap` once the grid shows its rows (plotly.js and
            # the treemap would otherwise delay the grid's first paint: issue 11)
            html.Div(id="market-treemap-box", className="mt-3"),
            dcc.Store(id="market-grid-ready"),
        ]
    )


# The grid reports its rows (virtualRowData, None before it has rendered): flag it in the
# browser, so the rows never travel to the server for this.
clientside_callback(
    """function(rows, ready) {
        return (rows === null || rows === undefined || ready)
            ? window.dash_clientside.no_update : true;
    }""",
    Output("market-grid-ready", "data"),
    Input("market-grid", "virtualRowData"),
    State("market-grid-ready", "data"),
)


@callback(
    Output("market-treemap-box", "children"),
    Input("market-grid-ready", "data"),
    State("theme-store", "data"),
    prevent_initial_call=True,
)
def treemap(ready, theme):
    """The sector treemap of every stock, whatever the grid's view, drawn once the grid has
    rendered."""
    if not ready:
        return no_update
    try:
        stocks = market_snapshot(get_store(), kinds=["stock"])  # a filter of the cached one
    except PregaoError:
        return no_update
    graph = dcc.Graph(
        id="market-treemap",
        figure=sector_treemap(stocks, theme=theme),
        config=graph_config(),
    )
    return graph


@callback(
    Output("market-grid", "rowData"),
    Output("market-watch-msg", "children"),
    Output("market-view", "options"),
    Output("market-view", "value"),
    Output("market-list", "options"),
    Input("market-view", "value"),
    Input("market-kinds", "value"),
    Input("market-watch-add", "n_clicks"),
    Input("market-watch-remove", "n_clicks"),
    Input("market-list", "value"),
    State("market-grid", "selectedRows"),
    prevent_initial_call=True,
)
def refresh(view, kinds, _add, _remove, name, selected):
    """Switch view / kinds / list, or add the selected rows to (remove them from) the list
    shown."""
    store = get_store()
    msg = ""
    name = name or DEFAULT_LIST
    picked = [r["ticker"] for r in (selected or []) if r and r.get("ticker")]
    if ctx.triggered_id == "market-list":
        _remember(name)
        view = "watch"
    try:
        if ctx.triggered_id in ("market-watch-add", "market-watch-remove"):
            from dashboard.authz import current_role
            from dashboard.users import has_role

            if not has_role(current_role(), "trader"):  # viewers read the grid, never edit
                return no_update, "Seu perfil é somente leitura.", *[no_update] * 3
            if not picked:
                msg = "Marque uma ou mais linhas primeiro."
            elif ctx.triggered_id == "market-watch-add":
                add_to_watchlist(store, picked, owner=current_author(), name=name)
                msg = f"Adicionados à lista {name}: {', '.join(picked)}."
            else:
                remove_from_watchlist(store, picked, owner=current_author(), name=name)
                msg = f"Removidos da lista {name}: {', '.join(picked)}."
        snap = _snapshot(view, kinds, name)
    except PregaoError as exc:
        return no_update, str(exc), no_update, no_update, no_update
    lists = list_watchlists(store, owner=current_author())
    n = next((len(w.tickers) for w in lists if w.name == name), 0)
    options = [
        {"label": f"{name} ({n})", "value": "watch"},
        {"label": "Todos", "value": "all"},
    ]
    if view == "watch" and n == 0:
        msg = msg or "A lista está vazia: escolha Todos e marque os ativos que quer seguir."
    return (
        grid_rows(snap),
        msg,
        options,
        view,
        watchlist_options(lists, current_author()),
    )


def _remember(name: str) -> None:
    """Keep the chosen list in a cookie of this browser (a year), read by :func:`layout`."""
    try:
        ctx.response.set_cookie(
            LIST_COOKIE, name, max_age=365 * 86400, samesite="Lax", httponly=True
        )
    except (AttributeError, RuntimeError):  # outside a Dash request (tests)
        pass


@callback(
    Output("market-list", "options", allow_duplicate=True),
    Output("market-list", "value"),
    Output("market-list-name", "value"),
    Output("market-watch-msg", "children", allow_duplicate=True),
    Input("market-list-create", "n_clicks"),
    Input("market-list-rename", "n_clicks"),
    Input("market-list-delete", "n_clicks"),
    State("market-list-name", "value"),
    State("market-list", "value"),
    prevent_initial_call=True,
)
def manage_lists(_create, _rename, _delete, new_name, current):
    """Create a list (from the name field, empty), rename the shown one, or delete it.

    A user creates, renames and deletes only their own lists (core.ownership); viewers
    change nothing.
    """
    from dashboard.authz import current_role
    from dashboard.users import has_role

    if not has_role(current_role(), "trader"):
        return no_update, no_update, no_update, "Seu perfil é somente leitura."
    store, owner = get_store(), current_author()
    current = current or DEFAULT_LIST
    try:
        if ctx.triggered_id == "market-list-create":
            shown = create_watchlist(store, new_name or "", owner=owner).name
            msg = f"Lista {shown} criada: marque linhas em Todos e clique em Adicionar à lista."
        elif ctx.triggered_id == "market-list-rename":
            shown = rename_watchlist(store, current, new_name or "", owner=owner).name
            msg = f"Lista {current} renomeada para {shown}."
        else:
            delete_watchlist(store, current, owner=owner)
            msg = f"Lista {current} excluída."
            shown = None
    except (InputError, PregaoError) as exc:
        return no_update, no_update, no_update, str(exc)
    lists = list_watchlists(store, owner=owner)
    names = [w.name for w in lists]
    if shown not in names:
        shown = DEFAULT_LIST if DEFAULT_LIST in names else (names[0] if names else None)
    return watchlist_options(lists, owner), shown, "", msg


@callback(
    Output("url", "href", allow_duplicate=True),
    Input("market-grid", "cellClicked"),
    State("market-grid", "virtualRowData"),
    prevent_initial_call=True,
)
def open_quotes(cell, _rows):
    """A click on a data cell of a row navigates to that ticker's Quotes page."""
    if not cell or not cell.get("rowId"):
        return no_update
    if str(cell.get("colId") or "").startswith("ag-Grid"):
        return no_update  # the selection checkbox
    return f"/quotes?ticker={cell['rowId']}"


@callback(
    Output("market-treemap", "figure"),
    Input("theme-store", "data"),
)
def treemap_theme(theme):
    """The treemap follows the theme switch (the page draws it in the server's default theme;
    on the first call nothing is sent when the browser is in that theme)."""
    if ctx.triggered_id is None and (theme or "light") == (get_settings().theme or "light"):
        return no_update
    patch = Patch()
    for key, value in theme_layout(theme).items():
        patch["layout"][key] = value
    return patch
