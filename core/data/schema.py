"""The canonical bar frame that every source produces and everything downstream consumes.

Shape
-----
A :class:`pandas.DataFrame` indexed by a tz-naive :class:`pandas.DatetimeIndex` named ``date``
(the session date for daily bars, America/Sao_Paulo wall time for intraday bars), sorted
ascending and unique, with float64 columns ``open, high, low, close, adj_close, volume``.

* Prices are in BRL (R$); indices (``^BVSP``) are in points.
* ``close`` is the traded close (split-adjusted when the source is Yahoo, as traded for
  COTAHIST); ``adj_close`` is additionally adjusted for dividends and JCP (Yahoo's
  multiplicative method). Where no adjustment is known ``adj_close == close``.
* ``volume`` is a number of shares (for the index, Yahoo's own unit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import InputError

__all__ = ["BAR_COLUMNS", "PRICE_COLUMNS", "INTERVALS", "empty_bars", "validate_bars"]

#: Column order of the canonical bar frame.
BAR_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "adj_close", "volume")
#: The price columns (all in R$ or points).
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "adj_close")
#: Stored bar intervals: daily, the intraday ones of :mod:`core.data.intraday` (bars labelled
#: by their opening minute) and the older names ``1h``/``5m`` of the online sources.
INTERVALS: tuple[str, ...] = ("1d", "1h", "5m", "1min", "5min", "15min", "30min", "60min")


def empty_bars() -> pd.DataFrame:
    """Return an empty canonical bar frame.

    Returns
    -------
    pandas.DataFrame
        Zero rows, index ``date`` (datetime64[ns]), columns :data:`BAR_COLUMNS` (float64).
    """
    idx = pd.DatetimeIndex([], name="date", dtype="datetime64[ns]")
    return pd.DataFrame({c: pd.Series([], dtype="float64") for c in BAR_COLUMNS}, index=idx)


def validate_bars(bars: pd.DataFrame) -> pd.DataFrame:
    """Check that ``bars`` is a canonical bar frame and return it with exact dtypes.

    Parameters
    ----------
    bars : pandas.DataFrame
        Candidate frame, shape ``(n_bars, 6)``.

    Returns
    -------
    pandas.DataFrame
        The same data with columns in :data:`BAR_COLUMNS` order, float64, index named ``date``.

    Raises
    ------
    InputError
        If a column is missing, the index is not a tz-naive DatetimeIndex, or it is not
        strictly increasing.
    """
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise InputError(f"Colunas ausentes no quadro de barras: {', '.join(missing)}.")
    if not isinstance(bars.index, pd.DatetimeIndex):
        raise InputError("O índice das barras deve ser um DatetimeIndex.")
    if bars.index.tz is not None:
        raise InputError("O índice das barras deve ser sem fuso (tz-naive).")
    if len(bars) > 1 and not bool(np.all(np.diff(bars.index.asi8) > 0)):
        raise InputError("As datas das barras devem ser estritamente crescentes e únicas.")
    out = bars.loc[:, list(BAR_COLUMNS)].astype("float64")
    out.index = bars.index.astype("datetime64[ns]")
    out.index.name = "date"
    return out
