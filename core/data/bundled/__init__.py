"""Real B3 data shipped with Pregão and its first-start loader.

The loader reads the gzip CSV files beside this module, cleans them as ``SOURCES.md``
prescribes and writes everything into the store in one transaction:

* stocks (Yahoo, ``auto_adjust=False``): rows with ``Volume == 0`` are Yahoo placeholders
  (flat, repeating the previous price, often on B3 holidays) and are dropped;
* the index (^BVSP): zero-volume rows carry real prices and are kept;
* OHLC-inconsistent rows (``low > min(open, close)`` or ``high < max(open, close)``) are
  repaired by widening high/low when the breach is at most :data:`REPAIR_TOLERANCE` of the
  close, dropped otherwise;
* rows on dates that are not B3 sessions (exchange_calendars ``"BVMF"``) are dropped;
* non-positive or missing prices are dropped.

Every drop and repair is counted in a :class:`CleaningReport` and logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.data.calendar import non_sessions
from core.data.schema import BAR_COLUMNS
from core.data.store import Store, WriteResult

__all__ = [
    "BUNDLED_DIR",
    "REPAIR_TOLERANCE",
    "CleaningReport",
    "LoadReport",
    "bundled_instruments",
    "read_yahoo_csv",
    "read_bundled_bars",
    "read_bundled_cdi",
    "clean_bars",
    "load_bundled",
]

log = logging.getLogger(__name__)

#: Folder holding the bundled files.
BUNDLED_DIR = Path(__file__).parent
#: Largest OHLC breach (as a fraction of the close) repaired instead of dropped.
REPAIR_TOLERANCE = 0.01

Progress = Callable[[float, str], None]


@dataclass
class CleaningReport:
    """What :func:`clean_bars` did to one instrument's rows (all counts are rows)."""

    ticker: str
    rows_in: int = 0
    dropped_zero_volume: int = 0
    dropped_bad_price: int = 0
    repaired_ohlc: int = 0
    dropped_ohlc: int = 0
    dropped_non_session: int = 0
    non_session_dates: list[pd.Timestamp] = field(default_factory=list)

    @property
    def rows_out(self) -> int:
        """Rows kept."""
        return (
            self.rows_in
            - self.dropped_zero_volume
            - self.dropped_bad_price
            - self.dropped_ohlc
            - self.dropped_non_session
        )


@dataclass
class LoadReport:
    """Outcome of :func:`load_bundled`."""

    loaded: bool
    instruments: int = 0
    bars: int = 0
    rates: int = 0
    seconds: float = 0.0
    cleaning: list[CleaningReport] = field(default_factory=list)


def bundled_instruments() -> pd.DataFrame:
    """The manifest of bundled instruments: columns ``ticker, name, kind, file``."""
    return pd.read_csv(BUNDLED_DIR / "instruments.csv", dtype=str)


def read_yahoo_csv(path: str | Path) -> pd.DataFrame:
    """Read a yfinance CSV (plain or three-line multi-index header) into a canonical frame.

    Parameters
    ----------
    path : str or Path
        File, optionally gzip-compressed. Columns ``Date, Open, High, Low, Close, Volume`` and
        optionally ``Adj Close`` (``adj_close = close`` when absent).

    Returns
    -------
    pandas.DataFrame
        Uncleaned canonical bars (see :mod:`core.data.schema`), sorted by date.
    """
    path = Path(path)
    head = pd.read_csv(path, nrows=2, header=None, dtype=str)
    multi = len(head) > 1 and str(head.iloc[1, 0]).strip() == "Ticker"
    if multi:
        raw = pd.read_csv(path, skiprows=[1, 2]).rename(columns={"Price": "Date"})
    else:
        raw = pd.read_csv(path)
    raw["Date"] = pd.to_datetime(raw["Date"].astype(str).str.slice(0, 10))
    raw = raw.set_index("Date").sort_index()
    out = pd.DataFrame(
        {
            "open": raw["Open"],
            "high": raw["High"],
            "low": raw["Low"],
            "close": raw["Close"],
            "adj_close": raw["Adj Close"] if "Adj Close" in raw else raw["Close"],
            "volume": raw["Volume"],
        },
        index=pd.DatetimeIndex(raw.index, name="date").astype("datetime64[ns]"),
    ).astype("float64")
    return out[~out.index.duplicated(keep="last")]


def clean_bars(
    bars: pd.DataFrame, ticker: str, *, drop_zero_volume: bool = True
) -> tuple[pd.DataFrame, CleaningReport]:
    """Apply the bundled-data cleaning rules (module docstring) to one instrument.

    Parameters
    ----------
    bars : pandas.DataFrame
        Canonical bars as read from the source.
    ticker : str
        For the report and the log.
    drop_zero_volume : bool
        True for stocks (Yahoo placeholders), False for indices.

    Returns
    -------
    (pandas.DataFrame, CleaningReport)
        The cleaned canonical bars and what was done.
    """
    rep = CleaningReport(ticker=ticker, rows_in=len(bars))
    df = bars.copy()
    prices = df[["open", "high", "low", "close", "adj_close"]]
    bad = prices.isna().any(axis=1) | (prices <= 0).any(axis=1)
    rep.dropped_bad_price = int(bad.sum())
    df = df[~bad]
    if drop_zero_volume:
        zero = (df["volume"] <= 0) | df["volume"].isna()
        rep.dropped_zero_volume = int(zero.sum())
        df = df[~zero]
    df["volume"] = df["volume"].fillna(0.0)
    body_lo = np.minimum(df["open"], df["close"])
    body_hi = np.maximum(df["open"], df["close"])
    breach = np.maximum(df["low"] - body_lo, body_hi - df["high"]).clip(lower=0) / df["close"]
    # also catch high < low
    breach = np.maximum(breach, ((df["low"] - df["high"]).clip(lower=0) / df["close"]))
    violating = breach > 0
    repairable = violating & (breach <= REPAIR_TOLERANCE)
    rep.repaired_ohlc = int(repairable.sum())
    rep.dropped_ohlc = int((violating & ~repairable).sum())
    df = df[~(violating & ~repairable)].copy()
    df["high"] = np.maximum.reduce([df["high"], df["open"], df["close"], df["low"]])
    df["low"] = np.minimum.reduce([df["low"], df["open"], df["close"]])
    off = non_sessions(df.index)
    rep.dropped_non_session = len(off)
    rep.non_session_dates = list(off)
    if len(off):
        df = df[~df.index.isin(off)]
    if rep.rows_in != rep.rows_out + 0:
        log.info(
            "%s: %d rows in, %d kept (zero volume %d, bad price %d, OHLC repaired %d / dropped %d,"
            " non-session %d)",
            ticker, rep.rows_in, rep.rows_out, rep.dropped_zero_volume, rep.dropped_bad_price,
            rep.repaired_ohlc, rep.dropped_ohlc, rep.dropped_non_session,
        )
    return df[list(BAR_COLUMNS)], rep


def read_bundled_bars(ticker: str) -> tuple[pd.DataFrame, CleaningReport]:
    """Read and clean one bundled instrument (``"PETR4"``, ``"^BVSP"``).

    Raises
    ------
    KeyError
        If ``ticker`` is not in the bundled manifest.
    """
    man = bundled_instruments().set_index("ticker")
    row = man.loc[ticker.upper()]
    raw = read_yahoo_csv(BUNDLED_DIR / row["file"])
    return clean_bars(raw, ticker.upper(), drop_zero_volume=row["kind"] != "index")


def read_bundled_cdi() -> pd.Series:
    """The bundled daily CDI (BCB SGS 12): index ``date``, values in % per day."""
    raw = pd.read_csv(BUNDLED_DIR / "CDI.csv.gz")
    idx = pd.DatetimeIndex(pd.to_datetime(raw["Date"]), name="date").astype("datetime64[ns]")
    return pd.Series(raw["cdi"].to_numpy(dtype="float64"), index=idx, name="CDI")


def load_bundled(
    store: Store, *, force: bool = False, progress: Progress | None = None
) -> LoadReport:
    """Load the bundled data into ``store`` in one transaction, if the store is empty.

    Parameters
    ----------
    store : Store
        Target store (migrated).
    force : bool
        Load (upsert) even when the store already holds bars.
    progress : callable(fraction, message), optional
        Called after each instrument.

    Returns
    -------
    LoadReport
        ``loaded=False`` when the store was not empty and ``force`` is False.
    """
    t0 = time.perf_counter()
    if not force and not store.is_empty():
        return LoadReport(loaded=False)
    man = bundled_instruments()
    report = LoadReport(loaded=True)
    total = WriteResult()
    n = len(man) + 1
    with store.transaction() as conn:
        for k, row in enumerate(man.itertuples(index=False)):
            bars, rep = read_bundled_bars(row.ticker)
            store.upsert_instrument(row.ticker, name=row.name, kind=row.kind, conn=conn)
            total = total + store.write_bars(row.ticker, bars, "bundled", conn=conn)
            report.cleaning.append(rep)
            if progress:
                progress((k + 1) / n, f"{row.ticker}: {rep.rows_out} barras")
        rates = store.write_rates("CDI", read_bundled_cdi(), conn=conn)
    report.instruments = len(man)
    report.bars = total.inserted + total.updated
    report.rates = rates.inserted + rates.updated
    report.seconds = time.perf_counter() - t0
    if progress:
        progress(1.0, "Dados embutidos carregados")
    log.info(
        "Bundled data loaded: %d instruments, %d bars, %d CDI days in %.1f s",
        report.instruments, report.bars, report.rates, report.seconds,
    )
    return report
