"""Cotações (``/quotes?ticker=PETR4``): candles, volume, overlays, lower panels, KPIs.

The URL holds the whole state (see :meth:`core.quotes.QuoteRequest.to_query`), so a link
reproduces the view.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

import dash
from dash import Input, Output, Patch, State, callback, clientside_callback, dcc, html, no_update

from components.cards import error_alert
from components.charts import empty_figure, quote_figure
from components.drawings import (
    apply_shape_edits,
    dragmode_for,
    drawing_shapes,
    drawing_toolbar,
    is_drawing_shape,
    shapes_to_drawings,
)
from components.export import QUOTE_HEADERS, csv_text
from components.figcache import cached_figure
from components.inputs import data_span, ticker_options
from components.quotes import anomaly_list, quote_controls, quote_kpis
from components.theme import graph_config
from core.drawings import list_drawings, save_drawings
from core.errors import InputError, PregaoError, UnknownTickerError
from core.market import RANGE_PRESETS
from core.quotes import (
    DETAIL_LIMIT,
    INTERVALS,
    PANEL_PARAMS,
    PANELS,
    QuoteRequest,
    parse_periods,
    quote_view,
)
from dashboard.auth import current_author, current_owner
from dashboard.runtime import get_settings, get_store

dash.register_page(__name__, path="/quotes", name="Cotações", title="Pregão · Cotações", order=1)

_CONTROL_INPUTS = [
    Input("quotes-ticker", "value"),
    Input("quotes-preset", "value"),
    Input("quotes-dates", "start_date"),
    Input("quotes-dates", "end_date"),
    Input("quotes-sma", "value"),
    Input("quotes-ema", "value"),
    Input("quotes-bollinger", "value"),
    Input("quotes-panels", "value"),
    Input("quotes-adjusted", "value"),
    Input("quotes-compare", "value"),
    Input("quotes-anomalies", "value"),
    Input("quotes-interval", "value"),
    Input("quotes-log", "value"),
    Input("quotes-peers", "value"),
    Input("quotes-peer-mode", "value"),
    *[Input(f"quotes-p-{k}", "value") for k in PANEL_PARAMS],
]


def layout(**query):
    """Controls initialised from the URL query; an unknown ticker shows close matches."""
    store = get_store()
    messages = []
    try:
        req = QuoteRequest.from_query(query)
    except InputError as exc:
        messages.append(error_alert(str(exc)))
        req = QuoteRequest.from_query({"ticker": query.get("ticker", "PETR4")})
    ticker = req.ticker
    try:
        store.instrument(ticker)
    except UnknownTickerError as exc:
        links = [dcc.Link(s, href=f"/quotes?ticker={s}") for s in exc.suggestions]
        msg = f"Ticker '{exc.ticker}' não encontrado." + (" Você quis dizer:" if links else "")
        messages.append(error_alert(msg, links=links, element_id="quotes-unknown"))
        ticker = None
    state = {
        "ticker": ticker,
        "preset": None if (req.start or req.end) else req.preset,
        "start": req.start,
        "end": req.end,
        "sma": ",".join(map(str, req.sma)),
        "ema": ",".join(map(str, req.ema)),
        "bollinger": req.bollinger,
        "panels": list(req.panels),
        "adjusted": req.adjusted,
        "compare": req.compare,
        "anomalies": req.anomalies,
        "interval": req.interval,
        "log": req.log,
        "params": {k: ",".join(map(str, req.period(k))) for k in PANEL_PARAMS},
        "peers": list(req.peers),
        "peer_mode": req.peer_mode,
    }
    instruments = store.instruments()
    # The first chart comes with the page (no second round trip before the candles): the
    # controls' callbacks fire only when the user changes something.
    figure, kpis, shapes = _first_paint(store, req, ticker, messages)
    span = data_span(instruments[instruments["ticker"] == ticker], None) if ticker else None
    return html.Div(
        [
            dcc.Location(id="quotes-location", refresh=False),
            html.Div(messages, id="quotes-url-messages"),
            quote_controls(
                state,
                ticker_options(instruments),
                list(RANGE_PRESETS),
                PANELS,
                span if span and span[1] else data_span(instruments, None),
                INTERVALS,
            ),
            html.Div(id="quotes-message"),
            html.Div(kpis, id="quotes-kpis"),
            drawing_toolbar(),
            dcc.Store(id="quotes-shapes", data=shapes),
            dcc.Store(id="quotes-zoom"),
            dcc.Store(id="quotes-rebase"),
            dcc.Store(id="quotes-shape-edit"),
            html.Div(id="quotes-draw-message"),
            dcc.Loading(
                dcc.Graph(
                    id="quotes-graph",
                    figure=figure,
                    config=graph_config(
                        scrollZoom=True,
                        modeBarButtonsToAdd=["drawline", "drawrect", "eraseshape"],
                    ),
                ),
                type="default",
                delay_show=300,
            ),
        ]
    )


def _first_paint(store, req: QuoteRequest, ticker: str | None, messages: list):
    """The chart, KPI cards and shapes of the page's first paint, in the server's default
    theme (``assets/06-theme-sync.js`` restyles it when the browser's switch says otherwise).
    A request the view refuses adds its message to ``messages`` and draws nothing."""
    if not ticker:
        return None, None, []
    try:
        view = quote_view(store, dataclasses.replace(req, ticker=ticker), limit=DETAIL_LIMIT)
    except PregaoError as exc:
        messages.append(error_alert(str(exc), element_id="quotes-error"))
        return None, None, []
    fig, shapes = _figure(view, get_settings().theme, None)
    return fig, quote_kpis(view, anomaly_list(view)), shapes


def _request(
    ticker,
    preset,
    start,
    end,
    sma,
    ema,
    bb,
    panels,
    adj,
    cmp,
    anom=None,
    iv=None,
    log=None,
    peers=None,
    peer_mode=None,
    *pp,
) -> QuoteRequest:
    return QuoteRequest.from_query(
        {
            "ticker": ticker or "",
            "range": preset or "1A",
            "start": start or "",
            "end": end or "",
            "sma": sma or "",
            "ema": ema or "",
            "bb": "1" if bb else "",
            "panels": ",".join(panels or []),
            "adj": "1" if adj == "adj" else "",
            "cmp": "1" if cmp else "",
            "anom": "1" if anom else "",
            "iv": iv or "1d",
            "log": "1" if log else "",
            "vs": ",".join(peers or []),
            "vsmode": peer_mode or "overlay",
            **{f"p_{k}": (v or "") for k, v in zip(PANEL_PARAMS, pp, strict=False)},
        }
    )


@callback(
    Output("quotes-graph", "figure"),
    Output("quotes-kpis", "children"),
    Output("quotes-message", "children"),
    Output("quotes-location", "search"),
    Output("quotes-sma", "invalid"),
    Output("quotes-ema", "invalid"),
    Output("quotes-shapes", "data"),
    *_CONTROL_INPUTS,
    Input("theme-store", "data"),
    State("quotes-draw-tool", "value"),
    prevent_initial_call=True,  # the layout draws the first chart
)
def update(
    ticker, preset, start, end, sma, ema, bb, panels, adj, cmp, anom, iv, log, peers, mode, *rest
):
    """Parse the controls, compute the view in core, build the figure and KPIs.

    A typo in a periods field (MMS/MME) marks that field and shows one message; the chart
    and KPI cards of the last valid input stay.
    """
    *pp, theme, tool = rest
    if not ticker:
        return empty_figure("Escolha um ticker.", theme), None, None, no_update, False, False, []
    bad = {}
    for key, text in (("sma", sma), ("ema", ema)):
        try:
            parse_periods(text)
        except InputError as exc:
            bad[key] = str(exc)
    if bad:
        label = " ".join(f"{'MMS' if k == 'sma' else 'MME'}: {msg}" for k, msg in bad.items())
        return (
            no_update,
            no_update,
            error_alert(label, element_id="quotes-input-error"),
            no_update,
            "sma" in bad,
            "ema" in bad,
            no_update,
        )
    try:
        req = _request(
            ticker,
            preset,
            start,
            end,
            sma,
            ema,
            bb,
            panels,
            adj,
            cmp,
            anom,
            iv,
            log,
            peers,
            mode,
            *pp,
        )
        view = quote_view(get_store(), req, limit=DETAIL_LIMIT)
    except PregaoError as exc:  # one message; the last chart stays
        return (
            no_update,
            no_update,
            error_alert(str(exc), element_id="quotes-error"),
            no_update,
            False,
            False,
            no_update,
        )
    search = "?" + urlencode(req.to_query(), safe=",^")
    fig, shapes = _figure(view, theme, tool)
    return (fig, quote_kpis(view, anomaly_list(view)), None, search, False, False, shapes)


def _figure(view, theme, tool) -> tuple[dict, list[dict]]:
    """The chart of ``view`` with the drawings the user may see, and its list of shapes."""
    fig = cached_figure(quote_figure, view, theme)  # issue 15 load: same inputs, same figure
    shapes = list(fig["layout"].get("shapes", []))
    if not (view.peers and view.peer_mode == "overlay"):  # drawings are in price, not in %
        shapes += drawing_shapes(list_drawings(get_store(), view.ticker, current_owner()))
    fig = {**fig, "layout": {**fig["layout"], "shapes": shapes, "dragmode": dragmode_for(tool)}}
    return fig, shapes


def _zoom_window(zoom: dict | None) -> tuple | None | bool:
    """The x window of the ``quotes-zoom`` store (``None`` = back to the whole range,
    ``False`` = nothing to do)."""
    if not zoom:
        return False
    rng = zoom.get("window")
    if rng is None:
        return None
    if isinstance(rng, list) and len(rng) == 2:
        return rng[0], rng[1]
    return False


# Only a change of the x range goes to the server: the graph emits several relayout events per
# zoom (and Dash drops a callback's pending answer when it fires again), so the zoom is kept
# in a store that changes only when the range does.
clientside_callback(
    """function (rl) {
        if (!rl) { return window.dash_clientside.no_update; }
        if (rl['xaxis.autorange']) { return {window: null, t: Date.now()}; }
        let r = rl['xaxis.range'];
        if (!r && rl['xaxis.range[0]'] !== undefined && rl['xaxis.range[1]'] !== undefined) {
            r = [rl['xaxis.range[0]'], rl['xaxis.range[1]']];
        }
        return r ? {window: r, t: Date.now()} : window.dash_clientside.no_update;
    }""",
    Output("quotes-zoom", "data"),
    Input("quotes-graph", "relayoutData"),
    prevent_initial_call=True,
)


@callback(
    Output("quotes-graph", "figure", allow_duplicate=True),
    Output("quotes-shapes", "data", allow_duplicate=True),
    Input("quotes-zoom", "data"),
    *[State(i.component_id, i.component_property) for i in _CONTROL_INPUTS],
    State("theme-store", "data"),
    State("quotes-draw-tool", "value"),
    prevent_initial_call=True,
)
def zoom_detail(zoom, *state):
    """Intraday: load what the zoom shows — the requested interval's bars of the visible
    window when they fit :data:`core.quotes.DETAIL_LIMIT`, aggregated bars when zoomed out.

    The figure keeps its ``uirevision``, so the user's zoom stays where it is.
    """
    *controls, theme, tool = state
    window = _zoom_window(zoom)
    iv = controls[11]
    if window is False or not controls[0] or iv not in ("5min", "15min", "60min"):
        return no_update, no_update
    try:
        view = quote_view(
            get_store(), _request(*controls), window=window or None, limit=DETAIL_LIMIT
        )
    except (PregaoError, ValueError):
        return no_update, no_update
    return _figure(view, theme, tool)


@callback(
    Output("quotes-graph", "figure", allow_duplicate=True),
    Input("quotes-draw-tool", "value"),
    prevent_initial_call=True,
)
def set_draw_tool(tool):
    """A drawing tool switches the chart's drag mode (draw a line or a rectangle, or zoom)."""
    patch = Patch()
    patch["layout"]["dragmode"] = dragmode_for(tool)
    return patch


# Overlaid comparison: after a zoom or pan, re-anchor every series at 100 on the first visible
# date (the traces' customdata hold the base-100 closes; y is the % change from the anchor).
clientside_callback(
    """function (rl) {
        const gd = document.querySelector('#quotes-graph .js-plotly-plot');
        const nu = window.dash_clientside.no_update;
        if (!rl || !gd || !gd.layout || !gd.layout.meta || gd.layout.meta.mode !== 'overlay'
            || !(gd.layout.meta.peers || []).length) { return nu; }
        let r0 = null;
        if (rl['xaxis.autorange']) { r0 = null; }
        else if (rl['xaxis.range']) { r0 = rl['xaxis.range'][0]; }
        else if (rl['xaxis.range[0]'] !== undefined) { r0 = rl['xaxis.range[0]']; }
        else { return nu; }
        const traces = [], ys = [];
        const t0 = r0 === null ? -Infinity : new Date(String(r0).replace(' ', 'T')).getTime();
        gd.data.forEach((tr, i) => {
            if (!tr.customdata || !tr.x) { return; }
            let k = 0;
            while (k < tr.x.length - 1 && new Date(String(tr.x[k]).replace(' ', 'T')).getTime() < t0) { k++; }
            const base = tr.customdata[k];
            traces.push(i);
            ys.push(Array.from(tr.customdata, v => v / base * 100 - 100));
        });
        if (traces.length) {
            window.Plotly.restyle(gd, {y: ys}, traces);
            window.Plotly.relayout(gd, {'yaxis.autorange': true});
        }
        return Date.now();
    }""",
    Output("quotes-rebase", "data"),
    Input("quotes-graph", "relayoutData"),
    prevent_initial_call=True,
)


# Only shape edits go to the drawings' callback (same reason as quotes-zoom above).
clientside_callback(
    """function (rl) {
        if (!rl || !Object.keys(rl).some(k => k === 'shapes' || k.startsWith('shapes['))) {
            return window.dash_clientside.no_update;
        }
        return rl;
    }""",
    Output("quotes-shape-edit", "data"),
    Input("quotes-graph", "relayoutData"),
    prevent_initial_call=True,
)


@callback(
    Output("quotes-graph", "figure", allow_duplicate=True),
    Output("quotes-shapes", "data", allow_duplicate=True),
    Output("quotes-draw-message", "children"),
    Input("quotes-shape-edit", "data"),
    State("quotes-ticker", "value"),
    State("quotes-shapes", "data"),
    State("quotes-draw-tool", "value"),
    prevent_initial_call=True,
)
def save_chart_drawings(relayout, ticker, shapes, tool):
    """Store the user's drawings of this ticker when one is drawn, moved or erased.

    The drawings are the author's (``current_author()``); another user's drawings shown on
    the chart are never changed. The chart is redrawn from what was stored (a level spans
    the chart, a Fibonacci segment gets its levels).
    """
    new_shapes = apply_shape_edits(shapes or [], relayout or {})
    if new_shapes is None or not ticker:
        return no_update, no_update, no_update
    store = get_store()
    author = current_author()
    previous = list_drawings(store, ticker, current_owner())
    drawings = shapes_to_drawings(new_shapes, ticker, tool, previous)
    others = {d.id for d in previous if d.owner != author}
    mine = [d for d in drawings if d.id not in others]
    try:
        save_drawings(store, ticker, mine, author=author)
    except PregaoError as exc:
        return no_update, no_update, error_alert(str(exc), element_id="quotes-draw-error")
    base = [s for s in (shapes or []) if not is_drawing_shape(s)]
    full = base + drawing_shapes(list_drawings(store, ticker, current_owner()))
    patch = Patch()
    patch["layout"]["shapes"] = full
    return patch, full, None


@callback(
    Output("quotes-dates", "start_date"),
    Output("quotes-dates", "end_date"),
    Input("quotes-preset", "value"),
    prevent_initial_call=True,
)
def preset_clears_dates(preset):
    """Choosing a preset clears the custom range."""
    if preset:
        return None, None
    return no_update, no_update


@callback(
    Output("quotes-preset", "value"),
    Input("quotes-dates", "start_date"),
    Input("quotes-dates", "end_date"),
    prevent_initial_call=True,
)
def dates_clear_preset(start, end):
    """Choosing a custom range deselects the preset (clearing the dates changes nothing)."""
    if start or end:
        return None
    return no_update


@callback(
    Output("quotes-download", "data"),
    Input("quotes-export", "n_clicks"),
    *[State(i.component_id, i.component_property) for i in _CONTROL_INPUTS],
    State("quotes-export-machine", "value"),
    prevent_initial_call=True,
)
def export_csv(n, *controls):
    """Download the shown bars (date, OHLC, adj_close, volume) as CSV.

    pt-BR by default (``;``, decimal comma, dd/mm/aaaa, Portuguese headers: opens in Excel);
    the machine format when its switch is on.
    """
    *controls, machine = controls
    ticker, adj = controls[0], controls[8]
    if not n or not ticker:
        return no_update
    try:
        # the bars only: anomalies (the last control) are not part of the export
        view = quote_view(get_store(), _request(*controls[:10], None, *controls[11:]))
    except PregaoError:
        return no_update
    kind = "ajustado" if adj == "adj" else "negociado"
    name = f"{view.ticker}_{view.start:%Y%m%d}_{view.end:%Y%m%d}_{kind}.csv"
    text = csv_text(
        view.bars.reset_index(),
        headers=QUOTE_HEADERS,
        machine=bool(machine),
        decimals={
            "volume": 0,
            **dict.fromkeys(("open", "high", "low", "close", "adj_close"), 6 if machine else 2),
        },
    )
    return {"content": text, "filename": name}


@callback(
    Output("quotes-dates", "min_date_allowed"),
    Output("quotes-dates", "max_date_allowed"),
    Output("quotes-dates", "initial_visible_month"),
    Input("quotes-ticker", "value"),
    prevent_initial_call=True,  # the layout bounds the picker by the first ticker
)
def bound_dates(ticker):
    """The date picker covers the chosen ticker's data and opens on its last session."""
    if not ticker:
        return no_update, no_update, no_update
    df = get_store().instruments()
    first, last = data_span(df[df["ticker"] == ticker], None)
    if last is None:
        return no_update, no_update, no_update
    return first, last, last
