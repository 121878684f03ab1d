"""Figure factories for prices: the Quotes chart (candles, volume, overlays, lower panels).

Pure builders: plain data in (a :class:`core.quotes.QuoteView`), ``go.Figure`` out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components.figcache import memoize_plotly_paths
from components.format import (
    PLOTLY_DATE,
    PLOTLY_DATETIME,
    fmt_compact,
    fmt_date,
    fmt_datetime,
    ohlc_hovertemplate,
    price_unit,
)
from components.theme import apply_theme, template_for

memoize_plotly_paths()  # a third of the figure build time is plotly re-parsing property paths

__all__ = [
    "quote_figure",
    "empty_figure",
    "template_for",
    "compact_ticks",
    "B3_UP",
    "B3_DOWN",
    "rangebreaks",
]

B3_UP = "#26a69a"
B3_DOWN = "#ef5350"
_LINE_COLORS = ["#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
_IV_LABEL = {"1d": "1 dia", "1w": "1 semana", "1mo": "1 mês"}
_PANEL_TITLES = {
    "rsi": "IFR 14",
    "macd": "MACD",
    "stochastic": "Estocástico",
    "atr": "ATR 14",
    "adx": "ADX 14",
}


def _panel_title(key: str, periods: tuple) -> str:
    """A lower panel's title with its periods (``"IFR 9"``, ``"MACD (5, 35, 5)"``)."""
    base = {"rsi": "IFR", "atr": "ATR", "adx": "ADX"}.get(key)
    if base:
        return f"{base} {periods[0]}"
    name = "MACD" if key == "macd" else "Estocástico"
    return f"{name} ({', '.join(map(str, periods))})"


def empty_figure(message: str, theme: str | None = None) -> go.Figure:
    """A blank figure showing ``message`` in its centre."""
    fig = go.Figure()
    fig.update_layout(
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[{"text": message, "showarrow": False, "font": {"size": 16}}],
        height=300,
        margin={"l": 20, "r": 20, "t": 20, "b": 20},
    )
    return apply_theme(fig, theme)


def compact_ticks(vmax: float, n: int = 3) -> tuple[list[float], list[str]]:
    """Tick values and pt-BR labels for a quantity axis from 0 to ``vmax``.

    Labels use Portuguese units (``"20 mi"``, ``"1,5 bi"``) instead of Plotly's SI suffixes
    (``"20M"``, ``"1.5G"``). Returns ``([], [])`` for a non-positive or missing ``vmax``.
    """
    if not vmax or vmax != vmax or vmax <= 0:
        return [], []
    raw = vmax / n
    mag = 10 ** np.floor(np.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    vals = [float(step * k) for k in range(int(vmax // step) + 1)]
    texts = [fmt_compact(v, 1).replace(",0 ", " ") if v else "0" for v in vals]
    return vals, texts


def rangebreaks(breaks: list, hours: tuple[float, float] | None = None) -> list[dict]:
    """Plotly rangebreaks hiding weekends, the given non-session weekdays and, for intraday
    bars, the hours outside ``hours = (open, close)`` (decimal hours, from the data's own
    sessions: :func:`core.quotes.session_hours`), so nights, weekends and holidays leave
    no gaps."""
    rb: list[dict] = [{"bounds": ["sat", "mon"]}]
    if hours is not None:
        rb.append({"pattern": "hour", "bounds": [hours[1], hours[0]]})
    if breaks:
        rb.append({"values": [pd.Timestamp(d).strftime("%Y-%m-%d") for d in breaks]})
    return rb


def _margins(intraday: bool, y_title: bool = False) -> dict:
    """Figure margins wide enough for what the axes and legends put there.

    Plotly's ``automargin`` (on in every template) grows a margin that is too small for the
    tick labels or a legend above the plot, and then draws the whole figure **again**: on
    the whole WINFUT file at 5 min that second pass was about half of the browser's draw time
    (issue 14). These margins already hold the two-line intraday date ticks (``dd/mm`` over
    ``HH:MM``, also half of one at the right edge after a zoom), the legend row above the
    price panel and a y-axis title, so the first pass is the only one; ``automargin`` stays
    on for anything larger (a long tick label)."""
    return {
        "l": 72 if y_title else 60,
        "r": 30 if intraday else 20,
        "t": 42,
        "b": 46 if intraday else 30,
    }


def _arr(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype="float64")


_PANEL_LABELS = {
    "rsi": "IFR",
    "k": "%K",
    "d": "%D",
    "atr": "ATR",
    "adx": "ADX",
    "plus_di": "+DI",
    "minus_di": "−DI",
}


def _line(
    x, y: pd.Series, name: str, color: str, width: float = 1.2, dash: str | None = None, **kw
) -> go.Scatter:
    """A plain line trace."""
    line = {"width": width, "color": color}
    if dash:
        line["dash"] = dash
    return go.Scatter(x=x, y=_arr(y), name=name, mode="lines", line=line, **kw)


#: Above this many bars a histogram has more bars than pixels: draw it as one filled area.
MAX_BARS_AS_BARS = 1500


def _histogram(x, y: pd.Series, name: str, up: np.ndarray, legend_shown: bool = False, **kw):
    """Volume/MACD histogram: coloured bars, or one filled area when bars would be sub-pixel.

    With thousands of sessions (15 years ≈ 3,700) each bar is narrower than a pixel and its
    colour unreadable, while drawing one SVG path per bar dominates the browser's render time.
    """
    if len(y) > MAX_BARS_AS_BARS:
        return go.Scatter(
            x=x,
            y=_arr(y),
            name=name,
            mode="lines",
            fill="tozeroy",
            line={"width": 0.6, "color": "#7f8c9a"},
            fillcolor="rgba(127,140,154,0.45)",
            showlegend=legend_shown,
            **kw,
        )
    return go.Bar(
        x=x, y=_arr(y), name=name, marker=_updown_marker(up), showlegend=legend_shown, **kw
    )


def _session_broken(series: pd.Series) -> tuple[pd.DatetimeIndex, pd.Series]:
    """``series`` with a NaN point one minute after each session's last bar, so a line of a
    per-session quantity (the session VWAP) is not drawn across the night."""
    if series.empty:
        return series.index, series
    idx = series.index
    last = np.flatnonzero(idx.normalize()[1:] != idx.normalize()[:-1])
    if not len(last):
        return idx, series
    gaps = pd.Series(np.nan, index=idx[last] + pd.Timedelta(minutes=1))
    out = pd.concat([series, gaps]).sort_index()
    return out.index, out


def _updown_marker(up: np.ndarray) -> dict:
    """Bar colours from a boolean array, one colour string per bar.

    Not a numeric array with a two-colour scale: plotly.js draws such bars before it has
    mapped the numbers to colours and logs ``Invalid color specifier`` with a stack trace
    (``console.trace``) twice per bar — on a zoom into one WINFUT morning that was most of
    the redraw (issue 14). The server validates both forms in about the same time."""
    return {"color": np.where(np.asarray(up, dtype=bool), B3_UP, B3_DOWN), "line": {"width": 0}}


def quote_figure(view, theme: str | None = None, height_main: int = 460) -> go.Figure:
    """The Quotes chart for a :class:`core.quotes.QuoteView`.

    Rows: candles with overlays (price in R$, or points for indices), volume (shares), one
    row per lower panel in ``view.panels``, and the ^BVSP comparison (base 100) if present.
    The x axis hides weekends and ``view.breaks`` so B3 holidays leave no gaps.

    With compared tickers (``view.peers``) the chart is the comparison instead:
    ``view.peer_mode == "overlay"`` draws one line per ticker, the closes rebased to 100 at
    the first common date shown and plotted as the change in % from it (each trace's
    ``customdata`` holds the base-100 values, so the browser re-anchors at the first visible
    date after a zoom); ``"side"`` draws the candles of each ticker in its own row (small
    multiples, one shared time axis; the overlays on the first ticker's row). The price basis
    (``view.basis``) is named in the title.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace names: ``view.ticker`` (candlestick), ``"Volume"``, overlay names, panel
        series names; ``layout.meta`` holds ``{"ticker", "panels"}``.
    """
    if getattr(view, "peers", None):
        return _compare_figure(view, theme, height_main)
    panels = list(view.panels)
    rows = ["price", "volume", *panels] + (["compare"] if view.compare is not None else [])
    heights = {"price": 0.5, "volume": 0.12, "compare": 0.2}
    row_h = [heights.get(r, 0.16) for r in rows]
    total = sum(row_h)
    unit = price_unit(view.kind)
    shown_iv = getattr(view, "interval", "1d")
    requested_iv = getattr(view, "requested", shown_iv)
    lod = f" · barras de {_IV_LABEL.get(shown_iv, shown_iv)} (aproxime para ver {_IV_LABEL.get(requested_iv, requested_iv)})"
    # a series without volume (the bundled WINFUT) says so instead of an empty, silent panel
    no_volume = len(view.bars) > 0 and not bool((_arr(view.bars["volume"]) > 0).any())
    titles = {
        "price": f"{view.ticker} ({unit})" + (lod if shown_iv != requested_iv else ""),
        "volume": "Volume: a série não tem volume" if no_volume else "Volume",
        "compare": "Comparação com ^BVSP (base 100)",
        **_PANEL_TITLES,
        **{k: _panel_title(k, v) for k, v in (getattr(view, "periods", None) or {}).items()},
    }
    fig = make_subplots(
        rows=len(rows),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        row_heights=[h / total for h in row_h],
        subplot_titles=[titles[r] for r in rows],
    )
    b = view.bars
    x = b.index
    price_fmt = ",.0f" if unit == "pts" else ",.2f"
    intraday = getattr(view, "hours", None) is not None
    date_fmt = PLOTLY_DATETIME if intraday else PLOTLY_DATE
    fig.add_trace(
        go.Candlestick(
            x=x,
            open=_arr(b["open"]),
            high=_arr(b["high"]),
            low=_arr(b["low"]),
            close=_arr(b["close"]),
            name=view.ticker,
            increasing={"line": {"color": B3_UP}, "fillcolor": B3_UP},
            decreasing={"line": {"color": B3_DOWN}, "fillcolor": B3_DOWN},
            showlegend=False,
            yhoverformat=price_fmt,
            xhoverformat=date_fmt,
            hovertemplate=ohlc_hovertemplate(price_fmt, "" if unit == "pts" else "R$ "),
        ),
        row=1,
        col=1,
    )
    for k, (name, series) in enumerate(view.overlays.items()):
        fig.add_trace(
            _line(
                x,
                series,
                name,
                _LINE_COLORS[k % len(_LINE_COLORS)],
                width=1.3,
                hovertemplate=f"{name}: %{{y:{price_fmt}}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    vwap = getattr(view, "vwap", None)
    if vwap is not None:
        vx, vy = _session_broken(vwap)
        fig.add_trace(
            _line(
                vx,
                vy,
                "VWAP (sem volume: pesos iguais)" if no_volume else "VWAP",
                "#f2994a",
                width=1.4,
                dash="dot",
                hovertemplate=f"VWAP: %{{y:{price_fmt}}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    if view.bands is not None:
        band = "rgba(120,120,200,0.8)"
        for col, name, extra in (
            ("upper", "Bollinger sup.", {}),
            ("lower", "Bollinger inf.", {"fill": "tonexty", "fillcolor": "rgba(120,120,200,0.08)"}),
            ("middle", "Bollinger média", {"dash": "dot"}),
        ):
            dash = extra.pop("dash", None)
            fig.add_trace(
                _line(x, view.bands[col], name, band, width=1, dash=dash, **extra), row=1, col=1
            )
    fig.add_trace(
        _histogram(
            x,
            b["volume"],
            "Volume",
            _arr(b["close"]) >= _arr(b["open"]),
            hovertemplate="Volume: %{y:,.0f}<extra></extra>",
        ),
        row=2,
        col=1,
    )
    for i, key in enumerate(panels, start=3):
        df = view.panels[key]
        if key == "macd":
            fig.add_trace(
                _histogram(x, df["hist"], "Histograma", _arr(df["hist"]) >= 0, legend_shown=True),
                row=i,
                col=1,
            )
            series = [("macd", "MACD", "#1f77b4"), ("signal", "Sinal", "#ff7f0e")]
        else:
            series = [
                (col, _PANEL_LABELS.get(col, col), _LINE_COLORS[j % len(_LINE_COLORS)])
                for j, col in enumerate(df.columns)
            ]
        for col, label, color in series:
            fig.add_trace(_line(x, df[col], label, color), row=i, col=1)
        if key in ("rsi", "stochastic"):
            lo, hi = (30, 70) if key == "rsi" else (20, 80)
            for level in (lo, hi):
                fig.add_hline(
                    y=level, line={"width": 1, "dash": "dash", "color": "gray"}, row=i, col=1
                )
            fig.update_yaxes(range=[0, 100], row=i, col=1)
    anomalies = getattr(view, "anomalies", None)
    if anomalies is not None and len(anomalies):
        sev_color = {"baixa": "#f2c94c", "média": "#f2994a", "alta": "#eb5757"}
        highs = b["high"].reindex(anomalies.index)
        fig.add_trace(
            go.Scatter(
                x=anomalies.index,
                y=_arr(highs) * 1.02,
                mode="markers",
                name="Anomalias",
                marker={
                    "symbol": "triangle-down",
                    "size": 10,
                    "color": [sev_color.get(s, "#eb5757") for s in anomalies["severity"]],
                    "line": {"width": 0.5, "color": "#333"},
                },
                customdata=np.column_stack(
                    [anomalies["severity"].astype(str), np.expm1(_arr(anomalies["ret_1"])) * 100]
                ),
                hovertemplate="Anomalia %{customdata[0]}<br>retorno do dia %{customdata[1]:.2f}%"
                "<extra></extra>",
            ),
            row=1,
            col=1,
        )
    if view.compare is not None:
        for j, col in enumerate(view.compare.columns):
            fig.add_trace(
                _line(
                    view.compare.index,
                    view.compare[col],
                    f"{col} (base 100)",
                    ["#1f77b4", "#ff7f0e"][j % 2],
                    width=1.5,
                ),
                row=len(rows),
                col=1,
            )
    fig.update_xaxes(
        rangebreaks=rangebreaks(view.breaks, getattr(view, "hours", None)),
        showspikes=True,
        spikemode="across",
        spikesnap="cursor",
        spikethickness=1,
        spikedash="dot",
        tickformat="%d/%m\n%H:%M" if intraday else PLOTLY_DATE,
        hoverformat=date_fmt,
    )
    fig.update_xaxes(rangeslider_visible=False)
    fig.update_yaxes(
        tickformat=price_fmt,
        showspikes=True,  # the crosshair's horizontal hair, with the price on the axis
        spikemode="across+toaxis",
        spikesnap="cursor",
        spikethickness=1,
        spikedash="dot",
        type="log" if getattr(view, "log", False) else "linear",
        row=1,
        col=1,
    )
    vals, texts = compact_ticks(float(np.nanmax(_arr(b["volume"]))) if len(b) else 0.0)
    if vals:
        fig.update_yaxes(tickvals=vals, ticktext=texts, row=2, col=1)
    fig.update_layout(
        height=height_main + 170 * (len(rows) - 2) + 80,
        margin=_margins(intraday),
        hovermode="x unified",
        meta={
            "ticker": view.ticker,
            "panels": panels,
            "interval": requested_iv,
            "shown_interval": shown_iv,
            "log": bool(getattr(view, "log", False)),
        },
        uirevision=f"{view.ticker}|{requested_iv}",
        hoverdistance=-1,
        spikedistance=-1,
        newshape={"line": {"color": "#2f80ed", "width": 1.5}, "fillcolor": "rgba(47,128,237,0.12)"},
    )
    _panel_legends(fig, len(rows))
    return apply_theme(fig, theme)


def _compare_figure(view, theme: str | None, height_main: int) -> go.Figure:
    """The comparison chart of :func:`quote_figure` (``view.peers`` set)."""
    tickers = [view.ticker, *view.peers]
    intraday = getattr(view, "hours", None) is not None
    date_fmt = PLOTLY_DATETIME if intraday else PLOTLY_DATE
    units = getattr(view, "units", {}) or {}
    meta = {
        "ticker": view.ticker,
        "peers": list(view.peers),
        "mode": view.peer_mode,
        "panels": [],
        "interval": getattr(view, "requested", view.interval),
        "shown_interval": view.interval,
        "log": False,
        "basis": view.basis,
    }
    if view.peer_mode == "side":
        bars = {view.ticker: view.bars, **view.peers}
        fig = make_subplots(
            rows=len(tickers),
            cols=1,
            shared_xaxes=True,
            vertical_spacing=0.05,
            subplot_titles=[f"{t} ({price_unit(units.get(t))}) · {view.basis}" for t in tickers],
        )
        for r, t in enumerate(tickers, start=1):
            b = bars[t]
            pts = price_unit(units.get(t)) == "pts"
            fmt = ",.0f" if pts else ",.2f"
            fig.add_trace(
                go.Candlestick(
                    x=b.index,
                    open=_arr(b["open"]),
                    high=_arr(b["high"]),
                    low=_arr(b["low"]),
                    close=_arr(b["close"]),
                    name=t,
                    increasing={"line": {"color": B3_UP}, "fillcolor": B3_UP},
                    decreasing={"line": {"color": B3_DOWN}, "fillcolor": B3_DOWN},
                    showlegend=False,
                    xhoverformat=date_fmt,
                    hovertemplate=f"<b>{t}</b><br>" + ohlc_hovertemplate(fmt, "" if pts else "R$ "),
                ),
                row=r,
                col=1,
            )
            fig.update_yaxes(
                tickformat=fmt, type="log" if getattr(view, "log", False) else "linear", row=r
            )
        for k, (name, series) in enumerate(view.overlays.items()):
            fig.add_trace(
                _line(view.bars.index, series, name, _LINE_COLORS[k % len(_LINE_COLORS)]),
                row=1,
                col=1,
            )
        height = 80 + max(height_main // 2, 220) * len(tickers)
    else:
        rb = view.rebased
        base_date = rb.index[0]
        title = (
            f"Comparação: variação desde {(fmt_datetime if intraday else fmt_date)(base_date)} "
            f"(base 100 na primeira data visível) · {view.basis}"
        )
        fig = make_subplots(rows=1, cols=1, subplot_titles=[title])
        for k, t in enumerate(rb.columns):
            y = rb[t]
            fig.add_trace(
                go.Scatter(
                    x=rb.index,
                    # plain lists, not typed arrays: the browser re-anchors them after a zoom
                    y=(_arr(y) - 100.0).tolist(),
                    customdata=_arr(y).tolist(),
                    name=t,
                    mode="lines",
                    line={"width": 1.6, "color": _LINE_COLORS[k % len(_LINE_COLORS)]},
                    xhoverformat=date_fmt,
                    hovertemplate=f"{t}: %{{y:+,.2f}}%  (base 100: %{{customdata:,.2f}})"
                    "<extra></extra>",
                )
            )
        fig.add_hline(y=0, line={"width": 1, "dash": "dot", "color": "gray"})
        fig.update_yaxes(ticksuffix="%", tickformat="+,.0f", title_text="variação (%)")
        height = height_main + 80
    fig.update_xaxes(
        rangebreaks=rangebreaks(view.breaks, getattr(view, "hours", None)),
        rangeslider_visible=False,
        showspikes=True,
        spikemode="across",
        spikesnap="cursor",
        spikethickness=1,
        spikedash="dot",
        tickformat="%d/%m\n%H:%M" if intraday else PLOTLY_DATE,
        hoverformat=date_fmt,
    )
    fig.update_layout(
        height=height,
        margin=_margins(intraday, y_title=view.peer_mode != "side"),
        hovermode="x unified",
        meta=meta,
        uirevision=f"{view.ticker}|{meta['interval']}|{','.join(view.peers)}|{view.peer_mode}",
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1, "yanchor": "bottom"},
    )
    for ann in fig.layout.annotations:
        ann.update(x=0, xanchor="left", font={"size": 12})
    return apply_theme(fig, theme)


def _panel_legends(fig: go.Figure, n_rows: int) -> None:
    """One horizontal legend per panel, at its top right; panel titles at its top left.

    Titles (subplot annotations) are left-aligned and legends right-aligned on the same line
    above each panel, so a legend never covers its title. Traces without a name to show
    (candles, volume) stay out of the legends.
    """
    for ann in fig.layout.annotations:
        ann.update(x=0, xanchor="left", font={"size": 12})
    tops = {}
    for r in range(1, n_rows + 1):
        axis = fig.layout["yaxis" if r == 1 else f"yaxis{r}"]
        tops[r] = axis.domain[1]
        name = "legend" if r == 1 else f"legend{r}"
        fig.update_layout(
            {
                name: {
                    "orientation": "h",
                    "x": 1,
                    "xanchor": "right",
                    "y": tops[r],
                    "yanchor": "bottom",
                    "bgcolor": "rgba(0,0,0,0)",
                    "font": {"size": 11},
                }
            }
        )
    for tr in fig.data:
        ref = tr.yaxis or "y"
        r = 1 if ref == "y" else int(ref[1:])
        tr.legend = "legend" if r == 1 else f"legend{r}"
