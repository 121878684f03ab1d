"""MetaTrader 5 terminals: ``MetaTrader5`` (Windows) or the ``mt5linux`` bridge (rpyc).

``copy_rates_range(symbol, timeframe, date_from, date_to)`` returns a structured numpy
array with MT5's exact dtype::

    [('time', '<i8'), ('open', '<f8'), ('high', '<f8'), ('low', '<f8'), ('close', '<f8'),
     ('tick_volume', '<u8'), ('spread', '<i4'), ('real_volume', '<u8')]

``time`` is seconds since 1970-01-01 of the bar's open, which MetaTrader documents as UTC.
Intraday bars (H1, M5) are converted from ``server_tz`` (default UTC) to America/Sao_Paulo
wall time; some Brazilian brokers run the server clock on Brasília time, for them pass
``server_tz="America/Sao_Paulo"``. Daily bars (D1) keep their calendar date.
``volume`` is ``real_volume`` (shares traded on B3) when the broker provides it, otherwise
``tick_volume``. The import is optional: without either package the source says why it is
unavailable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.data.schema import BAR_COLUMNS
from core.data.sources.base import OnlineSource, ParsedData
from core.errors import DataSourceError, InputError

__all__ = ["MT5_DTYPE", "TIMEFRAMES", "rates_to_bars", "MT5Source", "load_mt5_module"]

#: dtype of ``copy_rates_*`` results.
MT5_DTYPE = np.dtype(
    [
        ("time", "<i8"),
        ("open", "<f8"),
        ("high", "<f8"),
        ("low", "<f8"),
        ("close", "<f8"),
        ("tick_volume", "<u8"),
        ("spread", "<i4"),
        ("real_volume", "<u8"),
    ]
)
#: Interval -> name of the MetaTrader5 timeframe constant.
TIMEFRAMES: dict[str, str] = {
    "1d": "TIMEFRAME_D1",
    "1h": "TIMEFRAME_H1",
    "5m": "TIMEFRAME_M5",
    # the store's intraday names (core.data.intraday, issue 14)
    "1min": "TIMEFRAME_M1",
    "5min": "TIMEFRAME_M5",
    "15min": "TIMEFRAME_M15",
    "30min": "TIMEFRAME_M30",
    "60min": "TIMEFRAME_H1",
}


def rates_to_bars(
    rates: np.ndarray, interval: str = "1d", *, server_tz: str = "UTC"
) -> pd.DataFrame:
    """Translate a ``copy_rates_*`` array into canonical bars.

    Parameters
    ----------
    rates : numpy structured array, shape (n,)
        With (at least) the fields of :data:`MT5_DTYPE`.
    interval : {"1d", "1h", "5m"}
        D1 keeps calendar dates; H1/M5 become America/Sao_Paulo wall times.
    server_tz : str
        Time zone in which the terminal reports ``time`` (MetaTrader: UTC).

    Returns
    -------
    pandas.DataFrame
        Canonical bars (``adj_close = close``: MT5 prices are as traded), sorted, unique.
    """
    if interval not in TIMEFRAMES:
        raise InputError(f"Intervalo {interval!r} inválido (use {', '.join(TIMEFRAMES)}).")
    if rates is None or len(rates) == 0:
        from core.data.schema import empty_bars

        return empty_bars()
    rates = np.asarray(rates)
    missing = [
        f for f in ("time", "open", "high", "low", "close") if f not in (rates.dtype.names or ())
    ]
    if missing:
        raise InputError(f"Barras do MT5 sem os campos {', '.join(missing)}.")
    t = pd.to_datetime(rates["time"].astype("int64"), unit="s")
    if interval == "1d":
        idx = t.normalize()
    else:
        idx = t.tz_localize(server_tz).tz_convert("America/Sao_Paulo").tz_localize(None)
    names = rates.dtype.names or ()
    real = rates["real_volume"].astype("float64") if "real_volume" in names else None
    vol = real if real is not None and real.any() else rates["tick_volume"].astype("float64")
    close = rates["close"].astype("float64")
    bars = pd.DataFrame(
        {
            "open": rates["open"].astype("float64"),
            "high": rates["high"].astype("float64"),
            "low": rates["low"].astype("float64"),
            "close": close,
            "adj_close": close,
            "volume": vol,
        },
        index=pd.DatetimeIndex(idx.astype("datetime64[ns]"), name="date"),
    ).sort_index()
    bars = bars[~bars.index.duplicated(keep="last")]
    return bars[list(BAR_COLUMNS)]


def load_mt5_module(host: str = "localhost", port: int = 18812):
    """Import MetaTrader5 (Windows) or connect through mt5linux; raise DataSourceError if neither."""
    try:
        import MetaTrader5 as mt5

        return mt5
    except ImportError:
        pass
    try:
        from mt5linux import MetaTrader5
    except ImportError as exc:
        raise DataSourceError(
            "MetaTrader 5 indisponível: instale o pacote MetaTrader5 (Windows, com o terminal "
            "aberto) ou mt5linux (ponte para um terminal no Windows/Wine)."
        ) from exc
    try:
        return MetaTrader5(host=host, port=port)
    except Exception as exc:  # rpyc connection errors
        raise DataSourceError(
            f"MetaTrader 5 indisponível: a ponte mt5linux em {host}:{port} não respondeu ({exc})."
        ) from exc


class MT5Source(OnlineSource):
    """Bars from a MetaTrader 5 terminal.

    Parameters
    ----------
    module : object, optional
        An object with MetaTrader5's API (``initialize``, ``copy_rates_range``,
        ``last_error``, ``TIMEFRAME_*``); tests pass a fake. Default: :func:`load_mt5_module`.
    server_tz : str
        See :func:`rates_to_bars`.
    """

    name = "mt5"

    def __init__(
        self, module=None, *, server_tz: str = "UTC", host: str = "localhost", port: int = 18812
    ) -> None:
        self._module = module
        self.server_tz = server_tz
        self.host, self.port = host, port

    def _mt5(self):
        if self._module is None:
            self._module = load_mt5_module(self.host, self.port)
        return self._module

    def available(self) -> tuple[bool, str]:
        """Whether a terminal can be reached (and why not)."""
        try:
            mt5 = self._mt5()
            if not mt5.initialize():
                return False, f"MetaTrader 5 não inicializou: {mt5.last_error()}."
        except DataSourceError as exc:
            return False, str(exc)
        return True, ""

    def fetch(
        self, tickers: Sequence[str], start=None, end=None, interval: str = "1d"
    ) -> ParsedData:
        """``copy_rates_range`` for each ticker between ``start`` and ``end``.

        Raises
        ------
        DataSourceError
            Package missing, terminal not running, or no bars returned for any ticker.
        """
        if interval not in TIMEFRAMES:
            raise InputError(f"Intervalo {interval!r} inválido (use {', '.join(TIMEFRAMES)}).")
        mt5 = self._mt5()
        if not mt5.initialize():
            raise DataSourceError(f"MetaTrader 5 não inicializou: {mt5.last_error()}.")
        tf = getattr(mt5, TIMEFRAMES[interval])
        s = pd.Timestamp(start or "2000-01-01").to_pydatetime()
        e = pd.Timestamp(end) if end is not None else pd.Timestamp.now().normalize()
        e = (e + pd.Timedelta(days=1)).to_pydatetime()
        out = ParsedData(file="MetaTrader 5", format="mt5", source="mt5", interval=interval)
        for t in tickers:
            sym = t.strip().upper()
            rates = mt5.copy_rates_range(sym, tf, s, e)
            if rates is None or len(rates) == 0:
                continue
            bars = rates_to_bars(rates, interval, server_tz=self.server_tz)
            bars["line"] = 0
            out.bars[sym] = bars
            out.kinds[sym] = "index" if sym in ("IBOV", "WIN", "IND") else "stock"
            out.rows += len(bars)
        if not out.bars:
            raise DataSourceError(
                f"MetaTrader 5 não devolveu barras para {', '.join(tickers)} ({mt5.last_error()})."
            )
        return out
