"""Everything the Quotes page shows for one ticker, computed in one call.

:func:`quote_view` reads the bars, computes indicators on the **whole** history (so the
shown range never starts inside an indicator's warm-up), cuts the range, and returns plain
data for the figure and KPI builders. The page, the CLI and the benchmark call the same
function.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from core import indicators as ind
from core.data.actions import load_actions, split_adjusted
from core.data.intraday import INTERVAL_MINUTES, normalize_interval
from core.data.resample import bars_at, resample_bars
from core.data.store import Store
from core.errors import InputError, UnknownTickerError
from core.market import (
    BENCHMARK,
    QuoteStats,
    adjusted_ohlc,
    quote_stats,
    rebase,
    resolve_range,
)
from core.strategies.vwap_reversion import session_vwap

__all__ = [
    "PANELS",
    "QuoteRequest",
    "QuoteView",
    "quote_view",
    "parse_periods",
    "non_session_weekdays",
    "INTERVALS",
    "session_hours",
    "display_interval",
    "DETAIL_LIMIT",
    "PANEL_PARAMS",
    "parse_panel_params",
    "MAX_PEERS",
    "COMPARE_MODES",
    "parse_peers",
]

#: Most tickers compared with the chart's own (four side by side or overlaid in all).
MAX_PEERS = 3
#: How compared tickers are drawn: rebased lines on one % axis, or candles in small multiples.
COMPARE_MODES = ("overlay", "side")


def parse_peers(value, ticker: str = "") -> tuple[str, ...]:
    """Tickers to compare with ``ticker`` from ``"VALE3,ITUB4"`` or a list (upper-cased,
    B3 syntax checked, duplicates and ``ticker`` itself dropped, order kept).

    Raises
    ------
    InputError
        A malformed ticker, or more than :data:`MAX_PEERS` (pt-BR message).
    """
    from core.data.tickers import validate_ticker

    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        t = str(item).strip()
        if not t:
            continue
        t = validate_ticker(t)
        if t != ticker.strip().upper() and t not in out:
            out.append(t)
    if len(out) > MAX_PEERS:
        raise InputError(
            f"Compare com no máximo {MAX_PEERS} tickers (quatro no gráfico); recebidos {len(out)}."
        )
    return tuple(out)


#: Default periods of the lower panels (URL ``p_<panel>``, e.g. ``p_macd=12,26,9``).
PANEL_PARAMS: dict[str, tuple[int, ...]] = {
    "rsi": (14,),
    "macd": (12, 26, 9),
    "stochastic": (14, 3),
    "atr": (14,),
    "adx": (14,),
}


def parse_panel_params(panel: str, text: str | None) -> tuple[int, ...]:
    """Periods of lower panel ``panel`` from ``"12, 26, 9"`` (empty = the defaults).

    Raises
    ------
    InputError
        Unknown panel, a wrong count of periods, a period outside 2–500, or (MACD) a fast
        period not below the slow one (pt-BR message).
    """
    if panel not in PANEL_PARAMS:
        raise InputError(f"Painel desconhecido: {panel}.")
    default = PANEL_PARAMS[panel]
    if text is None or not str(text).strip():
        return default
    tokens = [t for t in str(text).replace(";", ",").replace(" ", ",").split(",") if t.strip()]
    out: list[int] = []
    for t in tokens:
        try:
            p = int(t)
        except ValueError as exc:
            raise InputError(f"{PANELS[panel]}: período inválido {t!r}.") from exc
        if not 2 <= p <= 500:
            raise InputError(f"{PANELS[panel]}: período {p} fora do intervalo 2–500.")
        out.append(p)
    if len(out) != len(default):
        raise InputError(
            f"{PANELS[panel]}: informe {len(default)} período(s), ex.: "
            f"{', '.join(map(str, default))}."
        )
    if panel == "macd" and out[0] >= out[1]:
        raise InputError("MACD: a média rápida precisa ser menor que a lenta.")
    return tuple(out)


#: Interval buttons of the Quotes page: label -> canonical interval
#: (:func:`core.data.intraday.normalize_interval`). S (semanal) and M (mensal) are built from
#: the daily bars by :func:`core.data.resample.resample_bars`.
INTERVALS: dict[str, str] = {
    "5min": "5min",
    "15min": "15min",
    "60min": "60min",
    "D": "1d",
    "S": "1w",
    "M": "1mo",
}

#: Lower panels offered on the Quotes page, in display order, with their labels.
PANELS: dict[str, str] = {
    "rsi": "IFR (RSI 14)",
    "macd": "MACD (12, 26, 9)",
    "stochastic": "Estocástico (14, 3)",
    "atr": "ATR (14)",
    "adx": "ADX (14)",
}


def parse_periods(text: str | Sequence[int] | None, *, maximum: int = 500) -> list[int]:
    """Parse ``"20, 50 200"`` into ``[20, 50, 200]`` (sorted, unique).

    Raises
    ------
    InputError
        On a token that is not an integer between 2 and ``maximum``.
    """
    if text is None or text == "":
        return []
    tokens = (
        text if not isinstance(text, str) else text.replace(";", ",").replace(" ", ",").split(",")
    )
    out: set[int] = set()
    for t in tokens:
        t = str(t).strip()
        if not t:
            continue
        try:
            p = int(t)
        except ValueError as exc:
            raise InputError(f"Período inválido {t!r}: use números inteiros, ex.: 20, 50.") from exc
        if not 2 <= p <= maximum:
            raise InputError(f"Período {p} fora do intervalo 2–{maximum}.")
        out.add(p)
    return sorted(out)


@dataclass(frozen=True)
class QuoteRequest:
    """The state of the Quotes page (also what the URL holds).

    Attributes
    ----------
    ticker : str
    preset : str
        One of :data:`core.market.RANGE_PRESETS` (ignored when ``start``/``end`` are set).
    start, end : str or None
        Custom range, ``YYYY-MM-DD``.
    sma, ema : tuple of int
        Moving-average periods to overlay.
    bollinger : bool
        Overlay Bollinger bands (20, 2).
    panels : tuple of str
        Lower panels, keys of :data:`PANELS`.
    adjusted : bool
        Dividend-adjusted candles instead of traded prices.
    compare : bool
        Add a panel comparing the ticker with ^BVSP, both rebased to 100.
    anomalies : bool
        Mark anomalous sessions (IsolationForest, :func:`core.ml.anomalies.detect_anomalies`;
        daily interval only).
    interval : str
        Canonical bar interval, a value of :data:`INTERVALS` (URL ``iv``, default ``1d``).
    log : bool
        Logarithmic price axis (URL ``log=1``).
    params : tuple of (str, tuple of int)
        Lower-panel periods changed from :data:`PANEL_PARAMS` (URL ``p_<panel>``).
    peers : tuple of str
        Up to :data:`MAX_PEERS` tickers drawn with ``ticker`` (URL ``vs=VALE3,ITUB4``).
    peer_mode : str
        ``"overlay"`` (closes rebased to 100 at the first common date shown, one % axis) or
        ``"side"`` (candles of each ticker in its own row, shared time axis); URL ``vsmode``.
    """

    ticker: str
    preset: str = "1A"
    start: str | None = None
    end: str | None = None
    sma: tuple[int, ...] = ()
    ema: tuple[int, ...] = ()
    bollinger: bool = False
    panels: tuple[str, ...] = ()
    adjusted: bool = False
    compare: bool = False
    anomalies: bool = False
    interval: str = "1d"
    log: bool = False
    params: tuple[tuple[str, tuple[int, ...]], ...] = ()
    peers: tuple[str, ...] = ()
    peer_mode: str = "overlay"

    def period(self, panel: str) -> tuple[int, ...]:
        """The periods of lower panel ``panel`` (:data:`PANEL_PARAMS` unless changed)."""
        return dict(self.params).get(panel, PANEL_PARAMS[panel])

    def to_query(self) -> dict[str, str]:
        """The request as URL query parameters (only non-default values)."""
        q: dict[str, str] = {"ticker": self.ticker}
        if self.start or self.end:
            if self.start:
                q["start"] = self.start
            if self.end:
                q["end"] = self.end
        elif self.preset != "1A":
            q["range"] = self.preset
        if self.sma:
            q["sma"] = ",".join(map(str, self.sma))
        if self.ema:
            q["ema"] = ",".join(map(str, self.ema))
        if self.bollinger:
            q["bb"] = "1"
        if self.panels:
            q["panels"] = ",".join(self.panels)
        if self.adjusted:
            q["adj"] = "1"
        if self.compare:
            q["cmp"] = "1"
        if self.anomalies:
            q["anom"] = "1"
        if self.interval != "1d":
            q["iv"] = self.interval
        if self.log:
            q["log"] = "1"
        for panel, values in self.params:
            if values != PANEL_PARAMS[panel]:
                q[f"p_{panel}"] = ",".join(map(str, values))
        if self.peers:
            q["vs"] = ",".join(self.peers)
            if self.peer_mode != "overlay":
                q["vsmode"] = self.peer_mode
        return q

    @classmethod
    def from_query(cls, query: dict[str, str], default_ticker: str = "PETR4") -> QuoteRequest:
        """Parse URL query parameters (as written by :meth:`to_query`).

        Unknown panels and malformed periods raise :class:`InputError`; dates must be
        ``YYYY-MM-DD``.
        """

        def flag(k: str) -> bool:
            return str(query.get(k, "")).lower() in ("1", "true", "sim", "on")

        def date(k: str) -> str | None:
            v = (query.get(k) or "").strip()
            if not v:
                return None
            try:
                return pd.Timestamp(pd.to_datetime(v, format="%Y-%m-%d")).strftime("%Y-%m-%d")
            except (ValueError, TypeError) as exc:
                raise InputError(f"Data inválida {v!r} na URL: use AAAA-MM-DD.") from exc

        panels = tuple(p for p in (query.get("panels") or "").split(",") if p)
        unknown = [p for p in panels if p not in PANELS]
        if unknown:
            raise InputError(f"Painel desconhecido na URL: {', '.join(unknown)}.")
        ticker = (query.get("ticker") or default_ticker).strip().upper()
        mode = (query.get("vsmode") or "overlay").strip().lower()
        if mode not in COMPARE_MODES:
            raise InputError(f"Modo de comparação {mode!r} desconhecido; use overlay ou side.")
        interval = normalize_interval(query.get("iv") or "1d")
        if interval not in INTERVALS.values():
            raise InputError(f"Intervalo {interval!r} indisponível; use {', '.join(INTERVALS)}.")
        return cls(
            ticker=ticker,
            peers=parse_peers(query.get("vs"), ticker),
            peer_mode=mode,
            preset=query.get("range") or "1A",
            start=date("start"),
            end=date("end"),
            sma=tuple(parse_periods(query.get("sma"))),
            ema=tuple(parse_periods(query.get("ema"))),
            bollinger=flag("bb"),
            panels=panels,
            adjusted=flag("adj"),
            compare=flag("cmp"),
            anomalies=flag("anom"),
            interval=interval,
            log=flag("log"),
            params=tuple(
                (k, parse_panel_params(k, query.get(f"p_{k}")))
                for k in PANEL_PARAMS
                if query.get(f"p_{k}")
                and parse_panel_params(k, query.get(f"p_{k}")) != PANEL_PARAMS[k]
            ),
        )


@dataclass
class QuoteView:
    """Result of :func:`quote_view` (plain data; see attribute docs).

    Attributes
    ----------
    ticker, name, kind : str
    bars : pandas.DataFrame
        Canonical bars of the shown range (adjusted candles if requested).
    overlays : dict of str -> pandas.Series
        Lines over the price (``"MMS 20"``, ``"MME 9"``), aligned to ``bars``.
    bands : pandas.DataFrame or None
        Bollinger ``lower, middle, upper`` aligned to ``bars``.
    panels : dict of str -> pandas.DataFrame
        Lower panels by key of :data:`PANELS`, aligned to ``bars``.
    compare : pandas.DataFrame or None
        Columns ``[ticker, "^BVSP"]`` rebased to 100 on the range's sessions both have.
    stats : QuoteStats
    breaks : list of Timestamp
        Weekdays inside the range that have no bar (B3 holidays or data gaps), for the
        chart's rangebreaks.
    start, end : Timestamp
        The resolved range.
    anomalies : pandas.DataFrame or None
        Anomalous sessions inside the range (index ``date``; ``score``, ``severity``,
        ``ret_1``), detected on the whole history up to ``end``.
    interval : str
        Canonical interval of ``bars`` (coarser than ``requested`` when zoomed out).
    requested : str
        The interval the user asked for.
    hours : tuple of float or None
        Intraday only: ``(open, close)`` session hours of the shown bars in decimal hours
        (``(9.0, 18.5)``), for the chart's overnight rangebreak; see :func:`session_hours`.
    vwap : pandas.Series or None
        Intraday only: the session VWAP aligned to ``bars``
        (:func:`core.strategies.vwap_reversion.session_vwap`).
    log : bool
        Logarithmic price axis.
    periods : dict of str -> tuple of int
        The periods of each shown lower panel (for its title).
    peers : dict of str -> pandas.DataFrame
        The compared tickers' bars over the shown range, at ``interval``, on the same price
        basis as ``bars`` (adjusted candles when requested).
    rebased : pandas.DataFrame or None
        With peers: closes of ``ticker`` and each peer (columns in that order) on the dates all
        of them have in the shown range, rebased to 100 at the first one — adjusted closes, or
        traded closes on today's share basis (splits adjusted, no dividends): see
        ``basis``.
    peer_mode : str
        ``"overlay"`` or ``"side"`` (:data:`COMPARE_MODES`).
    basis : str
        Which prices the chart shows, in Portuguese (``"preços ajustados por proventos"`` or
        ``"preços negociados"``), for labels.
    units : dict of str -> str
        Instrument kind of each ticker shown (``ticker`` and peers), for price units.
    """

    ticker: str
    name: str
    kind: str
    bars: pd.DataFrame
    overlays: dict = field(default_factory=dict)
    bands: pd.DataFrame | None = None
    panels: dict = field(default_factory=dict)
    compare: pd.DataFrame | None = None
    stats: QuoteStats | None = None
    breaks: list = field(default_factory=list)
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    anomalies: pd.DataFrame | None = None
    interval: str = "1d"
    requested: str = "1d"
    hours: tuple[float, float] | None = None
    vwap: pd.Series | None = None
    log: bool = False
    periods: dict = field(default_factory=dict)
    peers: dict = field(default_factory=dict)
    rebased: pd.DataFrame | None = None
    peer_mode: str = "overlay"
    basis: str = "preços negociados"
    units: dict = field(default_factory=dict)


#: Memo of anomaly detections: a pure function of the bars, keyed by what identifies them.
_ANOMALY_MEMO: dict[tuple, pd.DataFrame] = {}


def _anomalies(ticker: str, hist: pd.DataFrame) -> pd.DataFrame:
    from core.ml.anomalies import detect_anomalies

    key = (ticker, hist.index[-1], len(hist), float(hist["close"].iloc[-1]))
    if key not in _ANOMALY_MEMO:
        if len(_ANOMALY_MEMO) >= 64:
            _ANOMALY_MEMO.clear()
        _ANOMALY_MEMO[key] = detect_anomalies(hist)
    return _ANOMALY_MEMO[key]


def non_session_weekdays(index: pd.DatetimeIndex) -> list[pd.Timestamp]:
    """Weekdays between the first and last date of ``index`` that are not in it."""
    if len(index) == 0:
        return []
    days = pd.bdate_range(index[0], index[-1])
    return list(days[~days.isin(index)])


def session_hours(index: pd.DatetimeIndex, interval: str) -> tuple[float, float] | None:
    """The trading hours covered by intraday bars, as decimal hours ``(open, close)``.

    ``open`` is the earliest opening minute of any bar, ``close`` the latest bar's opening
    minute plus ``interval`` (a 5-minute bar opening at 18:20 closes at 18:25 → 18.4167).
    Outside ``[open, close)`` no bar exists, so a chart may hide those hours.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Bar opening times (naive America/Sao_Paulo), shape ``(n,)``.
    interval : str
        Intraday interval (``5min`` ...).

    Returns
    -------
    tuple of float or None
        ``None`` for an empty index or a non-intraday interval.
    """
    iv = normalize_interval(interval)
    if len(index) == 0 or iv not in INTERVAL_MINUTES:
        return None
    minutes = index.hour * 60 + index.minute
    lo = int(minutes.min())
    hi = int(minutes.max()) + INTERVAL_MINUTES[iv]
    return lo / 60.0, min(hi, 24 * 60) / 60.0


#: Most candles the Quotes chart draws at once; beyond it intraday bars are shown aggregated
#: (see :func:`quote_view`'s ``limit``). The price panel of a 1,400-px screen is ~1,300 px
#: wide: at 1,000 candles each gets ~1.3 px, below what shows a body and a wick, and every
#: candle costs the browser one SVG path (issue 14: the whole WINFUT file drawn as 1,725
#: hourly candles of 0.75 px: drawing them was most of the browser's work; as 183 daily candles
#: it is readable and fast). Ranges up to ~5 months of 5-min bars still open hourly.
DETAIL_LIMIT = 1000
#: Coarser intervals an intraday chart falls back to when zoomed out, finest first.
_COARSER: tuple[str, ...] = ("5min", "15min", "30min", "60min", "1d")


def display_interval(index: pd.DatetimeIndex, interval: str, limit: int) -> str:
    """The finest interval, from ``interval`` up (:data:`_COARSER`), showing ``index``'s
    span in at most ``limit`` bars (estimated: ``n × minutes / target minutes``, sessions
    for ``1d``).

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Bar times at ``interval``, shape ``(n,)``.
    interval : str
        Intraday interval of ``index``.
    limit : int
        Most bars to draw (>= 1).
    """
    iv = normalize_interval(interval)
    if iv not in INTERVAL_MINUTES or len(index) <= limit:
        return iv
    for cand in _COARSER[_COARSER.index(iv) + 1 if iv in _COARSER else 0 :]:
        if cand == "1d":
            return "1d"
        if INTERVAL_MINUTES[cand] % INTERVAL_MINUTES[iv]:
            continue
        if len(index) * INTERVAL_MINUTES[iv] / INTERVAL_MINUTES[cand] <= limit:
            return cand
    return "1d"


def quote_view(
    store: Store,
    req: QuoteRequest,
    *,
    window: tuple | None = None,
    limit: int | None = None,
) -> QuoteView:
    """The Quotes page for ``req``, computed once per market-data version (:meth:`Store.cached`).

    A desk looks at the same few tickers and ranges over and over: the view (bars,
    indicators, KPIs, beta against the ^BVSP) is a pure function of the request and the
    stored market data, so it is served from the store's read cache until a write to the
    market tables (scope ``market``: instruments, bars, rates, corporate actions, data
    flags) — and only such a write: a saved backtest run or an audit row keeps it (issue 15,
    load: about two thirds of the Quotes callback's CPU time). Each caller gets its own copy
    of the frames. Parameters, result and errors as :func:`compute_quote_view`; errors are
    never cached. A view that comes to read anything else (a model's forecast) must name
    that scope too.
    """
    win = None if window is None else tuple(str(pd.Timestamp(w)) for w in window)
    lim = None if limit is None else int(limit)
    view = store.cached(
        ("core.quotes.quote_view", req, win, lim),
        lambda: compute_quote_view(store, req, window=win, limit=lim),
        scope="market",
    )
    return _fresh_view(view)


def _fresh_view(view: QuoteView) -> QuoteView:
    """A copy of ``view`` whose frames, dicts and lists the caller may change freely
    (pandas' copy-on-write: the shallow copies share data until one is modified)."""

    def fresh(v):
        if isinstance(v, pd.DataFrame | pd.Series):
            return v.copy(deep=False)
        if isinstance(v, dict):
            return {k: fresh(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fresh(x) for x in v]
        return v

    return dataclasses.replace(
        view, **{f.name: fresh(getattr(view, f.name)) for f in dataclasses.fields(view)}
    )


def compute_quote_view(
    store: Store,
    req: QuoteRequest,
    *,
    window: tuple | None = None,
    limit: int | None = None,
) -> QuoteView:
    """Compute the Quotes page for ``req`` (uncached: :func:`quote_view` caches it).

    Parameters
    ----------
    store : Store
    req : QuoteRequest
    window : (start, end), optional
        Intraday only: the times the chart shows after a zoom. The view then covers the
        window plus one window width on each side (so a small pan needs no reload), clipped
        to the request's range.
    limit : int, optional
        Intraday only: most bars to return (the page uses :data:`DETAIL_LIMIT`). When the
        shown span holds more, the bars (and every indicator, computed on the whole
        history at that interval) are at :func:`display_interval` instead:
        ``QuoteView.interval`` says which, ``QuoteView.requested`` what was asked.

    Returns
    -------
    QuoteView

    Raises
    ------
    UnknownTickerError
        Unknown ticker (with close matches).
    InputError
        Unknown panel or preset, inverted or empty range, bad periods.
    """
    return _quote_view(store, req, window=window, limit=limit)


def _quote_view(
    store: Store, req: QuoteRequest, *, window: tuple | None, limit: int | None
) -> QuoteView:
    """:func:`quote_view` without the cache."""
    inst = store.instrument(req.ticker)
    unknown = [p for p in req.panels if p not in PANELS]
    if unknown:
        raise InputError(f"Painel desconhecido: {', '.join(unknown)}.")
    interval = normalize_interval(req.interval)
    intraday = interval in INTERVAL_MINUTES
    full = bars_at(store, inst["ticker"], interval)
    if full.empty:
        if interval == "1d":
            raise InputError(f"{inst['ticker']} não tem barras no banco.")
        label = next((k for k, v in INTERVALS.items() if v == interval), interval)
        raise InputError(f"{inst['ticker']} não tem barras de {label} no banco.")
    req_end = req.end
    if intraday and req_end:  # a date as the end covers that whole session
        req_end = str(pd.Timestamp(req_end) + pd.Timedelta(days=1) - pd.Timedelta(minutes=1))
    start, end = resolve_range(full.index, req.preset, req.start, req_end)
    if intraday:  # a preset counts back whole sessions: never start inside one
        start = max(start.normalize(), full.index[0])
    requested = interval
    if intraday and (limit is not None or window is not None):
        if window is not None:
            w0, w1 = sorted(pd.Timestamp(w) for w in window)
            span = w1 - w0
            start, end = max(start, w0 - span), min(end, w1 + span)
            if start > end:
                raise InputError("A janela do zoom está fora do período escolhido.")
        if limit is not None:
            shown_idx = full.index[(full.index >= start) & (full.index <= end)]
            coarse = display_interval(shown_idx, interval, max(int(limit), 1))
            if coarse != interval:
                full = resample_bars(full, coarse, source=interval)
                interval, intraday = coarse, coarse in INTERVAL_MINUTES
                start = start.normalize()  # the first coarse bin opens at or before it
    daily_or_finer = interval == "1d" or intraday
    hist = full.loc[:end]
    price = adjusted_ohlc(hist) if req.adjusted else hist
    close = price["close"]
    mask = (hist.index >= start) & (hist.index <= end)

    overlays: dict[str, pd.Series] = {}
    for p in parse_periods(list(req.sma)):
        overlays[f"MMS {p}"] = ind.sma(close, p)[mask]
    for p in parse_periods(list(req.ema)):
        overlays[f"MME {p}"] = ind.ema(close, p)[mask]
    bands = ind.bollinger(close)[mask] if req.bollinger else None

    panels: dict[str, pd.DataFrame] = {}
    for key in PANELS:
        if key not in req.panels:
            continue
        per = req.period(key)
        if key == "rsi":
            panels[key] = ind.rsi(close, per[0]).to_frame("rsi")[mask]
        elif key == "macd":
            panels[key] = ind.macd(close, per[0], per[1], per[2])[mask]
        elif key == "stochastic":
            panels[key] = ind.stochastic(price, per[0], per[1])[mask]
        elif key == "atr":
            panels[key] = ind.atr(price, per[0]).to_frame("atr")[mask]
        elif key == "adx":
            panels[key] = ind.adx(price, per[0])[mask]

    shown = price[mask]
    # KPIs (day change, 52 weeks, volatility, beta) are daily quantities at every interval
    if interval == "1d":
        daily_hist, daily_shown = hist, shown
    else:
        daily = bars_at(store, inst["ticker"], "1d").loc[: end.normalize()]
        daily_hist = daily
        daily_shown = daily.loc[start.normalize() :]
        if req.adjusted:
            daily_shown = adjusted_ohlc(daily_shown)
    bench = None
    if inst["ticker"] == BENCHMARK:
        bench = hist
    else:
        try:
            bench = store.bars(BENCHMARK, end=end)
        except UnknownTickerError:
            bench = None  # a store without the index: no beta, no comparison
    compare = None
    if req.compare and requested in ("1d", "1w", "1mo"):
        if bench is None or bench.empty:
            raise InputError("Sem dados do ^BVSP para comparar.")
        bench_adj = bench if interval == "1d" else resample_bars(bench, interval, source="1d")
        both = pd.concat(
            [
                hist["adj_close"][mask].rename(inst["ticker"]),
                bench_adj["adj_close"].rename(BENCHMARK),
            ],
            axis=1,
            join="inner",
        ).dropna()
        if both.empty:
            raise InputError("O ^BVSP não tem pregões em comum com este intervalo.")
        compare = both.apply(rebase)

    anomalies = None
    if req.anomalies and requested == "1d":
        # The forest is fitted on the whole history up to the end of the range (descriptive, not
        # a forecast); cached per (ticker, end, bar count, last close) as it takes ~1 s.
        found = _anomalies(inst["ticker"], hist)
        anomalies = found.loc[(found.index >= start) & (found.index <= end)]

    peers, rebased, units = _peers(store, req, inst, price, mask, interval, requested, start, end)
    return QuoteView(
        ticker=inst["ticker"],
        name=inst["name"],
        kind=inst["kind"],
        bars=shown,
        overlays=overlays,
        bands=bands,
        panels=panels,
        compare=compare,
        stats=quote_stats(
            split_adjusted(
                daily_hist, load_actions(store, [inst["ticker"]], include_price_factors=True)
            ),
            daily_shown if len(daily_shown) else shown,
            bench,
            adjusted=req.adjusted,
        ),
        breaks=non_session_weekdays(shown.index.normalize().unique()) if daily_or_finer else [],
        start=start,
        end=end,
        anomalies=anomalies,
        interval=interval,
        requested=requested,
        hours=session_hours(shown.index, interval) if intraday else None,
        vwap=session_vwap(price)[mask] if intraday else None,
        log=req.log,
        periods={k: req.period(k) for k in panels},
        peers=peers,
        rebased=rebased,
        peer_mode=req.peer_mode,
        basis=_basis_label(req),
        units=units,
    )


def _peers(store, req, inst, price, mask, interval, requested, start, end):
    """Bars of the compared tickers over the shown range and the rebased closes
    (see :class:`QuoteView`); ``({}, None, {ticker: kind})`` without peers."""
    units = {inst["ticker"]: inst["kind"]}
    if not req.peers:
        return {}, None, units
    main_close = _basis_close(store, inst["ticker"], price, req.adjusted)[mask]
    closes = {inst["ticker"]: main_close}
    peers: dict[str, pd.DataFrame] = {}
    for t in req.peers:
        pi = store.instrument(t)
        units[pi["ticker"]] = pi["kind"]
        bars = bars_at(store, pi["ticker"], interval)
        if bars.empty:
            label = next((k for k, v in INTERVALS.items() if v == requested), requested)
            raise InputError(f"{pi['ticker']} não tem barras de {label} no banco para comparar.")
        p = adjusted_ohlc(bars) if req.adjusted else bars
        shown = p.loc[(p.index >= start) & (p.index <= end)]
        if shown.empty:
            raise InputError(f"{pi['ticker']} não tem pregões no período escolhido.")
        peers[pi["ticker"]] = shown
        closes[pi["ticker"]] = _basis_close(store, pi["ticker"], shown, req.adjusted)
    both = pd.concat(closes, axis=1, join="inner").dropna()
    if both.empty:
        raise InputError("Os tickers comparados não têm pregões em comum no período.")
    return peers, both.apply(rebase), units


def _basis_label(req: QuoteRequest) -> str:
    """The price basis of the chart, in Portuguese (the traded/adjusted toggle)."""
    if req.adjusted:
        return "preços ajustados por proventos"
    if req.peers and req.peer_mode == "overlay":
        return "preços negociados (desdobramentos ajustados)"
    return "preços negociados"


def _basis_close(store, ticker: str, bars: pd.DataFrame, adjusted: bool) -> pd.Series:
    """Closes to rebase: adjusted ones, or traded ones put on today's share basis (a split
    is not a -50 % day)."""
    if adjusted:
        return bars["close"]
    actions = load_actions(store, [ticker], include_price_factors=True)
    return split_adjusted(bars, actions)["close"]
