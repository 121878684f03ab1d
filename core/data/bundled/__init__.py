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

Prices are stored as traded
---------------------------
Yahoo's ``Close`` (and OHLC, volume) is split-adjusted as of the download (11/2024) but not
dividend-adjusted; ``Adj Close`` is also dividend-adjusted. The store keeps traded prices
and corporate actions, so the loader turns the bundled files into exactly that:

* **Splits, bonus shares, reverse splits** come from ``actions.csv`` beside this module.
  Each one is verified against B3's own COTAHIST file of 25/06/2021
  (``shared/data/cotahist``): Yahoo's close times the product of the later ratios equals
  the B3 close of that session (BBAS3 ×2, BBDC4 ×1,1, CMIG4 ×1,69, GGBR4 ×1,26,
  ITSA4 ×1,218, LREN3 ×1,1, MGLU3 ×0,1069); the ex-dates are where Yahoo's prices land
  back on B3's R$ 0,01 tick grid (a split-adjusted price is off the grid before the event).
  Where Yahoo's factor is not a share ratio (MGLU3 beyond its 10:1 reverse split, CVCB3,
  CPLE6, part of ITSA4) it is stored as a ``price_factor`` (adjusts the series, never a
  position). Traded price = Yahoo price / ``S``, traded volume = Yahoo volume × ``S``.
* **Cash proventos** are recovered from the ``Adj Close / Close`` ratio
  (:func:`core.data.actions.implied_dividends`) and stored as ``dividend`` in R$ per share
  as paid. Yahoo's ratio cannot tell JCP from dividends: every bundled cash event is a
  ``dividend`` (a B3 proventos file imported with ``kind=jcp`` replaces it).
* ``adj_close`` is then derived by the store from the traded close and these actions, as
  for every other source, and equals Yahoo's ``Adj Close`` up to a constant factor
  (GGBR4's file already carries a dividend after its last bar).
* Before the oldest verified event Yahoo's basis cannot be checked: bars still off the
  tick grid after the conversion are on Yahoo's basis (an unidentified older event); the
  last such date is stored as an ``unverified_basis`` data flag, shown by the quality report.
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
    "TICK_CHECK_DATE",
    "bundled_actions",
    "yahoo_to_traded",
    "bundled_cash_events",
    "off_tick_dates",
    "REPAIR_TOLERANCE",
    "CleaningReport",
    "LoadReport",
    "bundled_instruments",
    "bundled_intraday",
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
#: The session of B3's COTAHIST file the bundled actions were verified against.
TICK_CHECK_DATE = pd.Timestamp("2021-06-25")

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


def bundled_intraday() -> pd.DataFrame:
    """The manifest of bundled intraday series: ``ticker, name, kind, interval, file``.

    Each file is read with :func:`core.data.intraday.read_intraday_file` (sessions and
    hours checked) and stored at its interval; ``WINFUT`` is the continuous mini-index
    future (``shared/data/intraday/SOURCES.md``).
    """
    return pd.read_csv(BUNDLED_DIR / "intraday.csv", dtype=str)


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
            ticker,
            rep.rows_in,
            rep.rows_out,
            rep.dropped_zero_volume,
            rep.dropped_bad_price,
            rep.repaired_ohlc,
            rep.dropped_ohlc,
            rep.dropped_non_session,
        )
    return df[list(BAR_COLUMNS)], rep


def bundled_actions(ticker: str | None = None) -> pd.DataFrame:
    """The verified split-like events of the bundled stocks (``actions.csv``).

    Returns
    -------
    pandas.DataFrame
        ``ticker, date, kind, value`` (kinds ``split, bonus, reverse_split, price_factor``;
        value = shares after / shares before, or Yahoo's price factor), sorted by date.
    """
    df = pd.read_csv(BUNDLED_DIR / "actions.csv", dtype={"ticker": str, "kind": str})
    df["date"] = pd.to_datetime(df["date"])
    if ticker is not None:
        df = df[df["ticker"] == ticker.upper()]
    return df[["ticker", "date", "kind", "value"]].sort_values("date").reset_index(drop=True)


def _split_factor(dates: pd.DatetimeIndex, events: pd.DataFrame) -> np.ndarray:
    S = np.ones(len(dates))
    d8 = pd.DatetimeIndex(dates).as_unit("ns").asi8
    for ex, ratio in zip(events["date"], events["value"]):
        S[d8 < pd.Timestamp(ex).as_unit("ns").value] /= float(ratio)
    return S


def yahoo_to_traded(bars: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Turn Yahoo's split-adjusted OHLCV into traded OHLCV given the split-like events.

    Parameters
    ----------
    bars : pandas.DataFrame
        Canonical bars as Yahoo gives them (``close`` split-adjusted).
    events : pandas.DataFrame
        ``date, value`` of the split-like events Yahoo applied (split, bonus,
        reverse_split, price_factor), value = new basis / old basis.

    Returns
    -------
    pandas.DataFrame
        Same shape: prices divided by ``S_t`` (product of ``1/value`` over later events) and
        rounded to the cent where the bar lands on B3's R$ 0,01 tick grid, volume multiplied
        by ``S_t``; ``adj_close`` is left as Yahoo's.
    """
    out = bars.copy()
    S = (
        np.ones(len(out))
        if events is None or len(events) == 0
        else _split_factor(out.index, events)
    )
    for c in ("open", "high", "low", "close"):
        out[c] = out[c].to_numpy() / S
    out["volume"] = np.round(out["volume"].to_numpy() * S)
    # bars back on B3's R$ 0,01 tick grid are stored as the exact traded cents
    P = out[["open", "high", "low", "close"]].to_numpy() * 100
    on = (np.abs(P - np.round(P)) < 0.004).all(axis=1)
    out.loc[on, ["open", "high", "low", "close"]] = np.round(P[on]) / 100
    return out


def bundled_cash_events(yahoo: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Cash proventos implied by Yahoo's ``Adj Close / Close``, in R$ per share as paid.

    Parameters
    ----------
    yahoo : pandas.DataFrame
        Canonical bars as Yahoo gives them (split-adjusted ``close``, ``adj_close``).
    events : pandas.DataFrame
        Split-like events (see :func:`yahoo_to_traded`).

    Returns
    -------
    pandas.DataFrame
        ``date, kind ("dividend"), value``: Yahoo's ratio cannot tell JCP from dividends.
    """
    from core.data.actions import implied_dividends

    cash = implied_dividends(yahoo)
    if len(cash) == 0 or events is None or len(events) == 0:
        return cash
    S = _split_factor(yahoo.index, events)
    pos = yahoo.index.get_indexer(pd.DatetimeIndex(cash["date"])) - 1
    cash = cash.copy()
    cash["value"] = cash["value"].to_numpy() / S[pos]
    return cash


def off_tick_dates(bars: pd.DataFrame, tick: float = 0.01) -> pd.DatetimeIndex:
    """Dates whose traded open/high/low/close are not all multiples of ``tick`` (R$ 0,01)."""
    P = bars[["open", "high", "low", "close"]].to_numpy() / tick
    off = (np.abs(P - np.round(P)) > 0.004).any(axis=1)
    return bars.index[off]


def read_bundled_bars(ticker: str) -> tuple[pd.DataFrame, CleaningReport]:
    """Read and clean one bundled instrument (``"PETR4"``, ``"^BVSP"``) as traded bars.

    Returns
    -------
    (pandas.DataFrame, CleaningReport)
        Canonical bars with traded OHLCV (module docstring) and ``adj_close`` derived from
        them and the bundled actions, exactly as the store derives it.

    Raises
    ------
    KeyError
        If ``ticker`` is not in the bundled manifest.
    """
    from core.data.actions import adjusted_close

    man = bundled_instruments().set_index("ticker")
    row = man.loc[ticker.upper()]
    raw = read_yahoo_csv(BUNDLED_DIR / row["file"])
    yahoo, rep = clean_bars(raw, ticker.upper(), drop_zero_volume=row["kind"] != "index")
    if row["kind"] == "index":
        yahoo["adj_close"] = yahoo["close"]
        return yahoo, rep
    events = bundled_actions(ticker)
    traded = yahoo_to_traded(yahoo, events)
    acts = pd.concat([events, bundled_cash_events(yahoo, events)], ignore_index=True)
    traded["adj_close"] = adjusted_close(traded, acts[["date", "kind", "value"]]).to_numpy()
    return traded, rep


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

    from sqlalchemy.exc import IntegrityError, OperationalError

    try:
        return _load(store, t0, progress)
    except (IntegrityError, OperationalError):
        # another process loaded the bundled data at the same time: theirs stands
        if not force and not store.is_empty():
            return LoadReport(loaded=False)
        raise


def _load(store: Store, t0: float, progress: Progress | None) -> LoadReport:
    from core.data import actions as actions_mod
    from core.data.upsert import add_flags

    man = bundled_instruments()
    report = LoadReport(loaded=True)
    total = WriteResult()
    n = len(man) + 1
    with store.transaction() as conn:
        for k, row in enumerate(man.itertuples(index=False)):
            raw = read_yahoo_csv(BUNDLED_DIR / row.file)
            yahoo, rep = clean_bars(raw, row.ticker, drop_zero_volume=row.kind != "index")
            iid = store.upsert_instrument(row.ticker, name=row.name, kind=row.kind, conn=conn)
            if row.kind == "index":
                total = total + store.write_bars(row.ticker, yahoo, "bundled", conn=conn)
            else:
                events = bundled_actions(row.ticker)
                traded = yahoo_to_traded(yahoo, events)
                cash = bundled_cash_events(yahoo, events)
                acts = pd.concat([events, cash], ignore_index=True).assign(ticker=row.ticker)
                actions_mod.write_actions(store, acts, "bundled", conn=conn, recompute=False)
                total = total + store.write_bars(row.ticker, traded, "bundled", conn=conn)
                off = off_tick_dates(traded)
                if len(off):
                    add_flags(
                        conn,
                        [
                            {
                                "instrument_id": iid,
                                "date": off[-1],
                                "kind": "unverified_basis",
                                "source": "bundled",
                                "detail": f"{len(off)} pregões até {off[-1]:%d/%m/%Y} fora do "
                                "tick de R$ 0,01: preços na base do Yahoo (evento "
                                "corporativo anterior não identificado)",
                            }
                        ],
                    )
            report.cleaning.append(rep)
            if progress:
                progress((k + 1) / n, f"{row.ticker}: {rep.rows_out} barras")
        for row in bundled_intraday().itertuples(index=False):  # intraday futures (issue 14)
            from core.data.intraday import read_intraday_file

            bars = read_intraday_file(BUNDLED_DIR / row.file, ticker=row.ticker).bars[row.ticker]
            store.upsert_instrument(
                row.ticker, name=row.name, kind=row.kind, currency="PTS", conn=conn
            )
            total = total + store.write_bars(
                row.ticker, bars, "bundled", interval=row.interval, conn=conn
            )
            report.cleaning.append(CleaningReport(ticker=row.ticker, rows_in=len(bars)))
        rates = store.write_rates("CDI", read_bundled_cdi(), conn=conn)
        from core.data.watchlist import set_watchlist

        set_watchlist(store, list(man["ticker"]), conn=conn)  # Mercado's "Minha lista"
    report.instruments = len(man) + len(bundled_intraday())
    report.bars = total.inserted + total.updated
    report.rates = rates.inserted + rates.updated
    report.seconds = time.perf_counter() - t0
    if progress:
        progress(1.0, "Dados embutidos carregados")
    log.info(
        "Bundled data loaded: %d instruments, %d bars, %d CDI days in %.1f s",
        report.instruments,
        report.bars,
        report.rates,
        report.seconds,
    )
    return report
