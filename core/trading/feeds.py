"""Market feeds behind one interface: stored bars replayed as if live, Yahoo's delayed
quotes, and a MetaTrader 5 terminal.

A feed yields :class:`BarEvent` objects (one finished bar of one ticker) in time order; all
the tickers' bars of one time come together, in the order of ``tickers``. Times are naive
America/Sao_Paulo timestamps (the session date for daily bars), prices AS-TRADED in R$ per
share, volume in shares — the store's conventions (:meth:`core.data.store.Store.bars`).

* :class:`ReplayFeed` — stored bars from ``start`` to ``end``, bar by bar, ``speed`` bar
  times per second (``None``: as fast as possible). This is what runs offline.
* :class:`YahooFeed` — polls Yahoo Finance's chart API (``/v8/finance/chart/PETR4.SA``,
  delayed about 15 minutes) during B3 hours and yields each daily bar once its session has
  closed. The HTTP transport is injectable (tests feed it recorded payloads of Yahoo's exact
  JSON shape); when Yahoo is unreachable it raises :class:`FeedUnavailable` with a pt-BR
  message instead of hanging or returning nothing.
* :class:`MT5Feed` — daily bars from a MetaTrader 5 terminal (``copy_rates_range``) through
  the ``MetaTrader5`` package (Windows) or the ``mt5linux`` bridge
  (:func:`core.data.sources.mt5.load_mt5_module`); same translation as the MT5 data source.
"""

from __future__ import annotations

import json
import time as _time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from core.errors import DataSourceError, InputError

__all__ = [
    "BarEvent",
    "Feed",
    "FeedUnavailable",
    "ReplayFeed",
    "YahooFeed",
    "MT5Feed",
    "parse_yahoo_chart",
    "B3_HOURS",
]

#: Regular B3 cash-equity trading hours (America/Sao_Paulo): the session YahooFeed polls in.
B3_HOURS: tuple[str, str] = ("10:00", "17:00")


class FeedUnavailable(DataSourceError):
    """A live feed cannot be reached (message in pt-BR, names the source and the reason)."""


@dataclass(frozen=True)
class BarEvent:
    """One finished bar of one ticker.

    Attributes
    ----------
    ticker : str
        Upper-case B3 code.
    time : pandas.Timestamp
        Naive America/Sao_Paulo time; the session date for daily bars.
    open, high, low, close : float
        AS-TRADED prices, R$ per share.
    volume : float
        Shares traded.
    """

    ticker: str
    time: pd.Timestamp
    open: float
    high: float
    low: float
    close: float
    volume: float

    def as_bar(self) -> pd.Series:
        """The bar as a row with ``open, high, low, close, volume`` (what brokers take)."""
        return pd.Series(
            {
                "open": self.open,
                "high": self.high,
                "low": self.low,
                "close": self.close,
                "volume": self.volume,
            },
            name=self.time,
        )


@runtime_checkable
class Feed(Protocol):
    """Anything that yields finished bars in time order."""

    tickers: list[str]

    def bars(self) -> Iterator[BarEvent]:
        """Finished bars, time-ordered; the bars of one time in ``tickers`` order."""
        ...


def _events_from_frames(
    frames: dict[str, pd.DataFrame], tickers: list[str], after=None
) -> list[list[BarEvent]]:
    """Bars of several tickers grouped by time (ascending), tickers in the given order."""
    rows: dict[pd.Timestamp, list[BarEvent]] = {}
    for t in tickers:
        f = frames.get(t)
        if f is None or f.empty:
            continue
        if after is not None:
            f = f[f.index > pd.Timestamp(after)]
        o, h, lo, c = (f[k].to_numpy(dtype="float64") for k in ("open", "high", "low", "close"))
        v = f["volume"].to_numpy(dtype="float64") if "volume" in f else np.zeros(len(f))
        for i, ts in enumerate(f.index):
            if not (o[i] == o[i] and c[i] == c[i]):
                continue
            rows.setdefault(pd.Timestamp(ts), []).append(
                BarEvent(t, pd.Timestamp(ts), o[i], h[i], lo[i], c[i], v[i])
            )
    return [rows[k] for k in sorted(rows)]


class ReplayFeed:
    """Stored bars from ``start`` to ``end`` replayed as if live.

    Parameters
    ----------
    store : Store
    tickers : list of str
    start, end : date-like
        First and last bar time replayed (``end`` None: the last stored bar).
    speed : float or None
        Bar times per second (``2`` = one session every half second); ``None`` or ``0``: as
        fast as possible.
    interval : str
        Bar interval of the store (``"1d"``).
    after : date-like, optional
        Skip bars at or before this time (a runner resuming after its last processed bar).
    sleep : callable
        Injected for tests (default :func:`time.sleep`).

    Raises
    ------
    InputError
        Bad speed, ``start`` after ``end``, no stored bar in the window.
    """

    def __init__(
        self,
        store,
        tickers: list[str],
        start=None,
        end=None,
        *,
        speed: float | None = None,
        interval: str = "1d",
        after=None,
        sleep: Callable[[float], None] = _time.sleep,
    ) -> None:
        if speed is not None and not (speed >= 0 and np.isfinite(speed)):
            raise InputError(f"Velocidade do replay inválida: {speed} (barras por segundo ≥ 0).")
        self.tickers = [t.upper() for t in tickers]
        self.start = None if start is None else pd.Timestamp(start)
        self.end = None if end is None else pd.Timestamp(end)
        if self.start is not None and self.end is not None and self.start > self.end:
            raise InputError("O início do replay deve ser anterior ao fim.")
        self.speed = speed or None
        self.after = after
        self._sleep = sleep
        frames = {t: store.bars(t, self.start, self.end, interval) for t in self.tickers}
        self._groups = _events_from_frames(frames, self.tickers)
        if not self._groups:
            raise InputError("Nenhuma barra armazenada no período do replay.")

    @property
    def times(self) -> list[pd.Timestamp]:
        """Every bar time of the replay window (for progress: bars done / total)."""
        return [g[0].time for g in self._groups]

    def groups(self) -> Iterator[list[BarEvent]]:
        """Yield the bars of each time together; waits ``1 / speed`` seconds between times."""
        after = None if self.after is None else pd.Timestamp(self.after)
        first = True
        for group in self._groups:
            if after is not None and group[0].time <= after:
                continue
            if self.speed and not first:
                self._sleep(1.0 / self.speed)
            first = False
            yield list(group)

    def bars(self) -> Iterator[BarEvent]:
        """Yield the bars one by one (:meth:`groups` flattened)."""
        for group in self.groups():
            yield from group


# --------------------------------------------------------------------------- Yahoo
#: Yahoo's chart endpoint (query1 and query2 serve the same JSON).
YAHOO_CHART_URL = "https://query1.finance.yahoo.com/v8/finance/chart/{symbol}"


def _yahoo_symbol(ticker: str) -> str:
    from core.data.sources.yahoo import yahoo_symbol

    return yahoo_symbol(ticker)


def parse_yahoo_chart(payload: dict | str | bytes, ticker: str) -> pd.DataFrame:
    """Daily bars from a Yahoo ``/v8/finance/chart`` response.

    The shape (as Yahoo returns it)::

        {"chart": {"result": [{"meta": {"symbol": "PETR4.SA", "exchangeTimezoneName":
          "America/Sao_Paulo", "gmtoffset": -10800, ...}, "timestamp": [1719838800, ...],
          "indicators": {"quote": [{"open": [...], "high": [...], "low": [...],
          "close": [...], "volume": [...]}], "adjclose": [{"adjclose": [...]}]}}],
          "error": null}}

    ``timestamp`` is the UTC epoch of each bar's open; with ``gmtoffset`` it gives the
    session date. Null prices (a halted or not-yet-traded bar) are dropped.

    Returns
    -------
    pandas.DataFrame
        ``open, high, low, close, volume`` indexed by session date (naive), sorted.

    Raises
    ------
    FeedUnavailable
        When the payload carries Yahoo's ``error`` object or is not chart JSON.
    """
    if isinstance(payload, bytes | str):
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            raise FeedUnavailable(
                f"Yahoo Finance devolveu uma resposta ilegível para {ticker}: {exc}"
            ) from None
    chart = (payload or {}).get("chart") if isinstance(payload, dict) else None
    if not isinstance(chart, dict):
        raise FeedUnavailable(f"Yahoo Finance: resposta sem 'chart' para {ticker}.")
    if chart.get("error"):
        err = chart["error"]
        desc = err.get("description") if isinstance(err, dict) else str(err)
        raise FeedUnavailable(f"Yahoo Finance recusou {ticker}: {desc}")
    result = (chart.get("result") or [None])[0]
    cols = ("open", "high", "low", "close", "volume")
    if not result or not result.get("timestamp"):
        return pd.DataFrame(columns=list(cols), index=pd.DatetimeIndex([], name="date"))
    meta = result.get("meta") or {}
    offset = int(meta.get("gmtoffset", -10800))
    quote = (result.get("indicators") or {}).get("quote") or [{}]
    q = quote[0]
    ts = pd.to_datetime(np.asarray(result["timestamp"], dtype="int64") + offset, unit="s")
    idx = pd.DatetimeIndex(ts.normalize(), name="date")
    df = pd.DataFrame(
        {
            c: pd.to_numeric(pd.Series(q.get(c, [None] * len(idx))), errors="coerce").to_numpy(
                dtype="float64"
            )
            for c in cols
        },
        index=idx,
    )
    df = df.dropna(subset=["open", "high", "low", "close"])
    df = df[~df.index.duplicated(keep="last")].sort_index()
    return df


def _urllib_get(url: str, timeout: float) -> bytes:
    import urllib.request

    req = urllib.request.Request(url, headers={"User-Agent": "Mozilla/5.0 (pregao)"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - fixed https host
        return resp.read()


class YahooFeed:
    """Delayed daily bars from Yahoo Finance, polled during B3 hours.

    Each poll fetches the last days of every ticker; a bar is yielded once its session has
    closed (its date is before today in São Paulo, or it is today after ``B3_HOURS[1]``) and
    only once (bars at or before ``after`` are skipped). Between polls the feed sleeps
    ``poll_seconds``; outside B3 hours it sleeps until the next opening, unless
    ``max_polls`` ends it first (tests, one-shot catch-up runs).

    Parameters
    ----------
    tickers : list of str
    after : date-like, optional
        The last bar already processed.
    poll_seconds : float
        Seconds between polls (default 60; Yahoo's quotes are ~15 minutes delayed anyway).
    max_polls : int or None
        Stop after this many polls (None: run until the thread is stopped).
    get : callable ``(url, timeout) -> bytes``
        HTTP transport (default urllib); tests inject recorded payloads.
    base_url : str
        Chart endpoint with ``{symbol}`` (a local test server may stand in).
    now : callable returning a naive São Paulo Timestamp; sleep : callable
        Injected clock and sleeper (tests).

    Raises
    ------
    FeedUnavailable
        From :meth:`bars` when Yahoo cannot be reached (DNS, timeout, HTTP error): the
        message names the ticker and the reason, in pt-BR.
    """

    def __init__(
        self,
        tickers: list[str],
        *,
        after=None,
        poll_seconds: float = 60.0,
        max_polls: int | None = None,
        get: Callable[[str, float], bytes] | None = None,
        base_url: str = YAHOO_CHART_URL,
        timeout: float = 10.0,
        now: Callable[[], pd.Timestamp] | None = None,
        sleep: Callable[[float], None] = _time.sleep,
    ) -> None:
        if not tickers:
            raise InputError("Escolha ao menos um ativo para o feed do Yahoo.")
        if not poll_seconds > 0:
            raise InputError("O intervalo entre consultas deve ser positivo.")
        self.tickers = [t.upper() for t in tickers]
        self.after = None if after is None else pd.Timestamp(after)
        self.poll_seconds = float(poll_seconds)
        self.max_polls = max_polls
        self._get = get or _urllib_get
        self.base_url = base_url
        self.timeout = timeout
        self._now = now or (lambda: pd.Timestamp.now(tz="America/Sao_Paulo").tz_localize(None))
        self._sleep = sleep

    def fetch(self, ticker: str, range_: str = "5d") -> pd.DataFrame:
        """The last days of ``ticker`` (:func:`parse_yahoo_chart`).

        Raises
        ------
        FeedUnavailable
            Yahoo unreachable or refusing the symbol.
        """
        url = self.base_url.format(symbol=_yahoo_symbol(ticker)) + f"?interval=1d&range={range_}"
        try:
            raw = self._get(url, self.timeout)
        except Exception as exc:  # noqa: BLE001 - any transport error means "unreachable"
            raise FeedUnavailable(
                f"Yahoo Finance inacessível para {ticker} ({type(exc).__name__}: {exc}); "
                "sem internet, use o replay dos dados armazenados (--feed replay)."
            ) from None
        return parse_yahoo_chart(raw, ticker)

    def in_session(self, ts: pd.Timestamp | None = None) -> bool:
        """True during B3 hours on a B3 session day."""
        from core.data.calendar import b3_sessions

        ts = ts or self._now()
        day = ts.normalize()
        if len(b3_sessions(day, day)) == 0:
            return False
        open_, close = (pd.Timestamp(f"{day.date()} {h}") for h in B3_HOURS)
        return open_ <= ts <= close

    def _closed(self, date: pd.Timestamp, now: pd.Timestamp) -> bool:
        close = pd.Timestamp(f"{now.date()} {B3_HOURS[1]}")
        return date.normalize() < now.normalize() or now >= close

    def bars(self) -> Iterator[BarEvent]:
        """Poll and yield each closed bar once, time-ordered."""
        for group in self.groups():
            yield from group

    def groups(self) -> Iterator[list[BarEvent]]:
        """Poll and yield the closed bars of each time together, once."""
        polls = 0
        while self.max_polls is None or polls < self.max_polls:
            now = self._now()
            frames = {t: self.fetch(t) for t in self.tickers}
            polls += 1
            frames = {
                t: f[[self._closed(d, now) for d in f.index]] if len(f) else f
                for t, f in frames.items()
            }
            for group in _events_from_frames(frames, self.tickers, after=self.after):
                self.after = group[0].time
                yield group
            if self.max_polls is not None and polls >= self.max_polls:
                return
            self._sleep(self.poll_seconds if self.in_session() else self.poll_seconds * 10)


# --------------------------------------------------------------------------- MT5
class MT5Feed:
    """Daily bars from a MetaTrader 5 terminal (``copy_rates_range``), polled.

    Parameters
    ----------
    tickers : list of str
    after : date-like, optional
        The last bar already processed (default: 10 days ago).
    mt5 : object, optional
        Something with MetaTrader5's API (``initialize``, ``copy_rates_range``,
        ``last_error``); default :func:`core.data.sources.mt5.load_mt5_module`.
    max_polls, poll_seconds, now, sleep
        As in :class:`YahooFeed`.

    Raises
    ------
    FeedUnavailable
        Neither ``MetaTrader5`` nor ``mt5linux`` available, or the terminal refuses to start.
    """

    def __init__(
        self,
        tickers: list[str],
        *,
        after=None,
        mt5=None,
        poll_seconds: float = 60.0,
        max_polls: int | None = None,
        now: Callable[[], pd.Timestamp] | None = None,
        sleep: Callable[[float], None] = _time.sleep,
    ) -> None:
        self.tickers = [t.upper() for t in tickers]
        self.after = None if after is None else pd.Timestamp(after)
        self._mt5 = mt5
        self.poll_seconds = poll_seconds
        self.max_polls = max_polls
        self._now = now or (lambda: pd.Timestamp.now(tz="America/Sao_Paulo").tz_localize(None))
        self._sleep = sleep

    def _module(self):
        if self._mt5 is None:
            from core.data.sources.mt5 import load_mt5_module

            try:
                self._mt5 = load_mt5_module()
            except DataSourceError as exc:
                raise FeedUnavailable(str(exc)) from None
        if not self._mt5.initialize():
            err = getattr(self._mt5, "last_error", lambda: "")()
            raise FeedUnavailable(f"MetaTrader 5 não iniciou o terminal: {err}")
        return self._mt5

    def fetch(self, ticker: str) -> pd.DataFrame:
        """Daily bars of ``ticker`` since ``after`` (or the last 10 days)."""
        from core.data.sources.mt5 import rates_to_bars

        mt5 = self._module()
        now = self._now()
        start = (self.after or now - pd.Timedelta(days=10)).to_pydatetime()
        rates = mt5.copy_rates_range(ticker, mt5.TIMEFRAME_D1, start, now.to_pydatetime())
        if rates is None:
            err = getattr(mt5, "last_error", lambda: "")()
            raise FeedUnavailable(f"MetaTrader 5 não devolveu barras de {ticker}: {err}")
        return rates_to_bars(np.asarray(rates), "1d")

    def bars(self) -> Iterator[BarEvent]:
        """Poll and yield each closed daily bar once."""
        for group in self.groups():
            yield from group

    def groups(self) -> Iterator[list[BarEvent]]:
        """Poll and yield the closed daily bars of each time together, once."""
        polls = 0
        while self.max_polls is None or polls < self.max_polls:
            now = self._now()
            frames = {t: self.fetch(t) for t in self.tickers}
            polls += 1
            close = pd.Timestamp(f"{now.date()} {B3_HOURS[1]}")
            frames = {
                t: f[(f.index.normalize() < now.normalize()) | (now >= close)]
                for t, f in frames.items()
            }
            for group in _events_from_frames(frames, self.tickers, after=self.after):
                self.after = group[0].time
                yield group
            if self.max_polls is not None and polls >= self.max_polls:
                return
            self._sleep(self.poll_seconds)
