"""Cotações (``/quotes?ticker=PETR4``): candles, volume, overlays, lower panels, KPIs.

The URL holds the whole state (see :meth:`core.quotes.QuoteRequest.to_query`), so a link
reproduces the view.
"""

from __future__ import annotations

from urllib.parse import urlencode

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from components.cards import error_alert
from components.charts import empty_figure, quote_figure
from components.export import QUOTE_HEADERS, csv_text
from components.figcache import cached_figure
from components.inputs import data_span, ticker_options
from components.quotes import anomaly_list, quote_controls, quote_kpis
from components.theme import graph_config
from core.errors import InputError, PregaoError, UnknownTickerError
from core.market import RANGE_PRESETS
from core.quotes import INTERVALS, PANELS, QuoteRequest, parse_periods, quote_view
from dashboard.runtime import get_store

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
    }
    instruments = store.instruments()
    return html.Div(
        [
            dcc.Location(id="quotes-location", refresh=False),
            html.Div(messages, id="quotes-url-messages"),
            quote_controls(
                state,
                ticker_options(instruments),
                list(RANGE_PRESETS),
                PANELS,
                data_span(instruments, None),
                INTERVALS,
            ),
            html.Div(id="quotes-message"),
            html.Div(id="quotes-kpis"),
            dcc.Loading(
                dcc.Graph(id="quotes-graph", config=graph_config(scrollZoom=True)),
                type="default",
                delay_show=300,
            ),
        ]
    )


def _request(
    ticker, preset, start, end, sma, ema, bb, panels, adj, cmp, anom=None, iv=None, log=None
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
        }
    )


@callback(
    Output("quotes-graph", "figure"),
    Output("quotes-kpis", "children"),
    Output("quotes-message", "children"),
    Output("quotes-location", "search"),
    Output("quotes-sma", "invalid"),
    Output("quotes-ema", "invalid"),
    *_CONTROL_INPUTS,
    Input("theme-store", "data"),
)
def update(ticker, preset, start, end, sma, ema, bb, panels, adj, cmp, anom, iv, log, theme):
    """Parse the controls, compute the view in core, build the figure and KPIs.

    A typo in a periods field (MMS/MME) marks that field and shows one message; the chart
    and KPI cards of the last valid input stay.
    """
    if not ticker:
        return empty_figure("Escolha um ticker.", theme), None, None, no_update, False, False
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
        )
    try:
        req = _request(ticker, preset, start, end, sma, ema, bb, panels, adj, cmp, anom, iv, log)
        view = quote_view(get_store(), req)
    except PregaoError as exc:  # one message; the last chart stays
        return (
            no_update,
            no_update,
            error_alert(str(exc), element_id="quotes-error"),
            no_update,
            False,
            False,
        )
    search = "?" + urlencode(req.to_query(), safe=",^")
    return (
        cached_figure(quote_figure, view, theme),  # issue 15 load: same inputs, same figure
        quote_kpis(view, anomaly_list(view)),
        None,
        search,
        False,
        False,
    )


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
        view = quote_view(get_store(), _request(*controls[:10], None, *controls[11:13]))
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
