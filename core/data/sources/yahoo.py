"""Yahoo Finance through yfinance: B3 tickers as ``.SA``, the index as ``^BVSP``.

``yf.download(..., auto_adjust=False, actions=True)`` returns one frame whose columns are a
two-level MultiIndex ``(Price, Ticker)`` (``Adj Close, Close, Dividends, High, Low, Open,
Stock Splits, Volume`` x symbols) and whose index is ``Date`` (tz-naive for daily bars,
tz-aware for intraday). :func:`frame_to_bars` translates exactly that shape.

Offline, ``yf.download`` does not raise: it logs the DNS error and returns an empty frame.
:class:`YahooSource` detects that and raises :class:`core.errors.DataSourceError`.

Units: Yahoo's ``Close`` is split-adjusted but not dividend-adjusted; ``Adj Close`` is also
adjusted for dividends (see ``shared/data/SOURCES.md``). Volume is in shares.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from core.data.schema import BAR_COLUMNS
from core.data.sources.base import ACTION_COLUMNS, OnlineSource, ParsedData
from core.errors import DataSourceError, InputError

__all__ = ["yahoo_symbol", "from_yahoo_symbol", "frame_to_bars", "YahooSource", "UNREACHABLE"]

log = logging.getLogger(__name__)

#: The message shown when Yahoo cannot be reached.
UNREACHABLE = (
    "Yahoo Finance inacessível (sem internet ou serviço fora do ar): nada foi atualizado; "
    "os dados já armazenados continuam disponíveis."
)
_INTERVALS = {"1d": "1d", "1h": "60m", "5m": "5m"}
_INDEX_ALIASES = {"IBOV": "^BVSP", "IBOVESPA": "^BVSP", "^BVSP": "^BVSP"}


def yahoo_symbol(ticker: str) -> str:
    """Yahoo symbol of a B3 ticker: ``PETR4`` -> ``PETR4.SA``, ``IBOV``/``^BVSP`` -> ``^BVSP``."""
    t = (ticker or "").strip().upper()
    if not t:
        raise InputError("Ticker vazio.")
    if t in _INDEX_ALIASES:
        return _INDEX_ALIASES[t]
    if t.startswith("^") or t.endswith(".SA"):
        return t
    return f"{t}.SA"


def from_yahoo_symbol(symbol: str) -> str:
    """B3 ticker of a Yahoo symbol: ``PETR4.SA`` -> ``PETR4`` (``^BVSP`` unchanged)."""
    s = symbol.strip().upper()
    return s[:-3] if s.endswith(".SA") else s


def frame_to_bars(
    df: pd.DataFrame, symbols: Sequence[str] | None = None, interval: str = "1d"
) -> ParsedData:
    """Translate a ``yf.download`` frame into canonical bars per B3 ticker.

    Parameters
    ----------
    df : pandas.DataFrame
        yfinance output: MultiIndex columns ``(Price, Ticker)`` (``group_by="column"``, the
        default) or ``(Ticker, Price)`` (``group_by="ticker"``), or flat columns for one
        symbol (``multi_level_index=False``; then ``symbols`` must name it).
    symbols : sequence of str, optional
        Yahoo symbols asked for (used for flat frames).
    interval : {"1d", "1h", "5m"}

    Returns
    -------
    ParsedData
        ``source="yahoo"``; rows where every price is NaN (symbols without data on a date)
        are dropped; corporate actions from ``Dividends``/``Stock Splits`` when present.
    """
    out = ParsedData(file="Yahoo Finance", format="yahoo", source="yahoo", interval=interval)
    if df is None or df.empty:
        return out
    if isinstance(df.columns, pd.MultiIndex):
        lv0 = set(map(str, df.columns.get_level_values(0)))
        price_level = 0 if {"Close", "Open"} <= lv0 else 1
        tick_level = 1 - price_level
        syms = list(dict.fromkeys(map(str, df.columns.get_level_values(tick_level))))
        parts = {s: df.xs(s, axis=1, level=tick_level) for s in syms}
    else:
        if not symbols or len(symbols) != 1:
            raise InputError("Quadro do Yahoo sem nível de ticker: informe o símbolo.")
        parts = {symbols[0]: df}
    idx = pd.DatetimeIndex(df.index)
    if idx.tz is not None:
        idx = idx.tz_convert("America/Sao_Paulo").tz_localize(None)
    if interval == "1d":
        idx = idx.normalize()
    idx = pd.DatetimeIndex(idx.astype("datetime64[ns]"), name="date")
    actions = []
    for sym, p in parts.items():
        t = from_yahoo_symbol(sym)
        close = p["Close"].to_numpy(dtype="float64")
        adj = p["Adj Close"].to_numpy(dtype="float64") if "Adj Close" in p else close
        bars = pd.DataFrame(
            {
                "open": p["Open"].to_numpy(dtype="float64"),
                "high": p["High"].to_numpy(dtype="float64"),
                "low": p["Low"].to_numpy(dtype="float64"),
                "close": close,
                "adj_close": adj,
                "volume": np.nan_to_num(p["Volume"].to_numpy(dtype="float64")),
                "line": np.zeros(len(p), dtype=np.int64),
            },
            index=idx,
        )
        empty = bars[["open", "high", "low", "close"]].isna().all(axis=1).to_numpy()
        bars = bars[~empty].sort_index()
        if bars.empty:
            continue
        out.bars[t] = bars[[*BAR_COLUMNS, "line"]]
        out.kinds[t] = "index" if t.startswith("^") else "stock"
        out.rows += len(bars)
        if "Dividends" in p:
            dv = p["Dividends"].to_numpy(dtype="float64")
            for d, v in zip(idx[dv > 0], dv[dv > 0]):
                actions.append((t, d, "dividend", float(v)))
        if "Stock Splits" in p:
            sp = np.nan_to_num(p["Stock Splits"].to_numpy(dtype="float64"))
            m = (sp > 0) & (sp != 1)
            for d, v in zip(idx[m], sp[m]):
                actions.append((t, d, "split" if v > 1 else "reverse_split", float(v)))
    if actions:
        out.actions = pd.DataFrame(actions, columns=list(ACTION_COLUMNS))
    return out


class YahooSource(OnlineSource):
    """Bars from Yahoo Finance via ``yfinance.download``.

    Parameters
    ----------
    download : callable, optional
        Replacement for ``yfinance.download`` (tests pass recorded frames).
    """

    name = "yahoo"

    def __init__(self, download: Callable[..., pd.DataFrame] | None = None) -> None:
        self._download = download

    def available(self) -> tuple[bool, str]:
        """yfinance is a hard dependency: always importable; reachability shows on fetch."""
        try:
            import yfinance  # noqa: F401
        except ImportError:  # pragma: no cover - yfinance is in requirements.txt
            return False, "O pacote yfinance não está instalado (pip install yfinance)."
        return True, ""

    def fetch(
        self, tickers: Sequence[str], start=None, end=None, interval: str = "1d"
    ) -> ParsedData:
        """Download ``tickers`` from ``start`` to ``end`` (inclusive dates).

        Raises
        ------
        DataSourceError
            :data:`UNREACHABLE` when yfinance returns an empty frame or raises.
        InputError
            Unknown interval.
        """
        if interval not in _INTERVALS:
            raise InputError(f"Intervalo {interval!r} inválido (use 1d, 1h ou 5m).")
        symbols = [yahoo_symbol(t) for t in tickers]
        if not symbols:
            raise InputError("Nenhum ticker para atualizar.")
        download = self._download
        if download is None:
            import yfinance as yf

            download = yf.download
        kw = dict(
            interval=_INTERVALS[interval],
            auto_adjust=False,
            actions=True,
            progress=False,
            group_by="column",
            threads=False,
            multi_level_index=True,
        )
        if start is not None:
            kw["start"] = pd.Timestamp(start).strftime("%Y-%m-%d")
        if end is not None:  # yfinance's end is exclusive
            kw["end"] = (pd.Timestamp(end) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
        quiet = logging.getLogger("yfinance")
        level = quiet.level
        try:
            quiet.setLevel(logging.CRITICAL)  # offline, yfinance logs DNS errors per symbol
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                df = download(symbols, **kw)
        except Exception as exc:  # yfinance raises many kinds on network failures
            log.warning("yfinance failed: %s", exc)
            raise DataSourceError(UNREACHABLE) from exc
        finally:
            quiet.setLevel(level)
        if df is None or df.empty:
            raise DataSourceError(UNREACHABLE)
        parsed = frame_to_bars(df, symbols, interval)
        if not parsed.bars:
            raise DataSourceError(
                "Yahoo Finance não devolveu cotações para " + ", ".join(tickers) + " no período."
            )
        return parsed
