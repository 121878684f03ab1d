"""The risk-free rate: the CDI (BCB SGS series 12, % per day) over the whole bundled history.

B3 practice quotes the CDI as an annual rate on a 252-session year:
``annual = prod(1 + daily/100) ** (252 / n) - 1``.

Coverage
--------
The bundled daily series (BCB SGS 12) starts on 2015-01-02, but ^BVSP starts in 2008.
Sessions before the first stored day use a **labelled yearly-constant approximation**: each
year's published annual CDI (:data:`CDI_ANNUAL_PUBLISHED`) spread evenly over that year's
B3 sessions, so every approximated year compounds exactly to its published figure. A daily
SGS file imported with :func:`import_sgs` (CSV ``data;valor`` or JSON ``[{"data",
"valor"}]`` as the BCB API returns it) is stored and replaces the approximation wherever it
has a day. :func:`cdi_series` says which days are approximated.

Accrual
-------
:func:`cdi_daily_returns` accrues the CDI over **every B3 session between two bars**: a bar
after a data gap earns the interest of the missing sessions too (a gap never skips
interest).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.data.store import Store, WriteResult
from core.errors import DataFormatError, InputError

__all__ = [
    "PERIODS_PER_YEAR",
    "CDI_ANNUAL_PUBLISHED",
    "CdiSeries",
    "cdi_series",
    "cdi_annual",
    "cdi_daily_returns",
    "read_sgs",
    "import_sgs",
]

#: B3 sessions per year used for every annualisation in Pregão.
PERIODS_PER_YEAR = 252
#: Published annual CDI (fraction) of the years before the bundled daily series: the CDI
#: accumulated in each calendar year as published by CETIP/B3 (also BCB SGS 4391 monthly
#: figures compounded): 2008 12,38 %, 2009 9,88 %, 2010 9,75 %, 2011 11,60 %, 2012 8,40 %,
#: 2013 8,06 %, 2014 10,81 %.
CDI_ANNUAL_PUBLISHED: dict[int, float] = {
    2008: 0.1238,
    2009: 0.0988,
    2010: 0.0975,
    2011: 0.1160,
    2012: 0.0840,
    2013: 0.0806,
    2014: 0.1081,
}


@dataclass(frozen=True)
class CdiSeries:
    """The CDI on B3 sessions.

    Attributes
    ----------
    daily : pandas.Series
        Index: B3 sessions (tz-naive); values: the CDI of that day in % (SGS 12 convention,
        0.043455 == 0.043455 % for the day).
    approximated : pandas.Series
        Same index, bool: True where the value is the yearly-constant approximation.
    """

    daily: pd.Series
    approximated: pd.Series


def _approximation(sessions: pd.DatetimeIndex) -> pd.Series:
    out = pd.Series(np.nan, index=sessions, dtype="float64")
    if len(sessions) == 0:
        return out
    from core.data.calendar import b3_sessions

    for year, annual in CDI_ANNUAL_PUBLISHED.items():
        sel = sessions.year == year
        if not sel.any():
            continue
        n = len(b3_sessions(f"{year}-01-01", f"{year}-12-31"))
        out[sel] = ((1.0 + annual) ** (1.0 / n) - 1.0) * 100.0
    return out


def cdi_series(store: Store, start=None, end=None) -> CdiSeries:
    """Daily CDI on every B3 session from ``start`` to ``end``, approximated where not stored.

    Parameters
    ----------
    store : Store
    start, end : date-like, optional
        Default: 2008-01-02 (first year of :data:`CDI_ANNUAL_PUBLISHED`) to the last stored
        day.

    Returns
    -------
    CdiSeries

    Raises
    ------
    InputError
        If no CDI is stored and the window is not covered by the approximation.
    """
    key = (
        "rates.cdi_series",
        None if start is None else pd.Timestamp(start),
        None if end is None else pd.Timestamp(end),
    )
    out = store.cached(key, lambda: _cdi_series(store, start, end))
    return CdiSeries(daily=out.daily.copy(), approximated=out.approximated.copy())


def _cdi_series(store: Store, start, end) -> CdiSeries:
    from core.data.calendar import b3_sessions

    stored = store.rates("CDI")
    first_year = min(CDI_ANNUAL_PUBLISHED)
    s = pd.Timestamp(start) if start is not None else pd.Timestamp(f"{first_year}-01-01")
    if end is not None:
        e = pd.Timestamp(end)
    elif len(stored):
        e = stored.index[-1]
    else:
        e = pd.Timestamp(f"{max(CDI_ANNUAL_PUBLISHED)}-12-31")
    sessions = b3_sessions(s, e)
    daily = stored.reindex(sessions)
    approx = daily.isna() & pd.Series(sessions.year, index=sessions).isin(
        list(CDI_ANNUAL_PUBLISHED)
    )
    if approx.any():
        daily[approx.to_numpy()] = _approximation(sessions[approx.to_numpy()]).to_numpy()
    if daily.isna().all():
        raise InputError("Nenhuma série de CDI no banco (rode `python -m dashboard init`).")
    # days after the stored series (or any hole) take the nearest known day's rate
    daily = daily.ffill().bfill()
    daily.index.name = "date"
    return CdiSeries(daily=daily.rename("CDI"), approximated=approx.rename("approximated"))


def cdi_daily_returns(store: Store, index: pd.DatetimeIndex) -> pd.Series:
    """The CDI earned by each bar of ``index``, accrued over the sessions since the previous bar.

    Parameters
    ----------
    store : Store
    index : DatetimeIndex, shape (n,)
        Sorted bar dates (daily or intraday; intraday bars of one day share that day's
        accrual on the day's first bar).

    Returns
    -------
    pandas.Series
        Same index, simple returns (fractions): for bar ``t``,
        ``prod(1 + cdi_s/100) - 1`` over the B3 sessions ``s`` in ``(previous bar, t]``; the
        first bar earns its own session. A data gap of ``k`` sessions earns ``k`` sessions of
        interest on the bar after it.

    Raises
    ------
    InputError
        If no CDI is stored.
    """
    idx = pd.DatetimeIndex(index)
    if len(idx) == 0:
        return pd.Series([], index=idx, dtype="float64", name="cdi")
    # the bars' days as int64 ns (DatetimeIndex.normalize() would infer a frequency: slow)
    i8 = idx.as_unit("ns").asi8
    days = i8 - i8 % 86_400_000_000_000
    cdi = cdi_series(
        store, min(pd.Timestamp(days[0]), pd.Timestamp("2008-01-02")), pd.Timestamp(days[-1])
    ).daily
    growth = np.log1p(cdi.to_numpy() / 100.0)
    cum = np.concatenate([[0.0], np.cumsum(growth)])  # cum[k] = log growth of sessions < k
    pos_end = np.searchsorted(pd.DatetimeIndex(cdi.index).as_unit("ns").asi8, days, side="right")
    first_day = np.r_[True, days[1:] != days[:-1]]
    prev_end = np.r_[pos_end[0] - 1, pos_end[:-1]]
    prev_end = np.maximum(prev_end, 0)
    r = np.expm1(cum[pos_end] - cum[np.minimum(prev_end, pos_end)])
    r = np.where(first_day, r, 0.0)
    return pd.Series(r, index=idx, name="cdi")


def cdi_annual(store: Store, start, end) -> float:
    """The CDI compounded over ``[start, end]`` and annualised on 252 sessions.

    Parameters
    ----------
    store : Store
    start, end : date-like
        Inclusive window; sessions before the stored daily series use the published yearly
        approximation (module docstring).

    Returns
    -------
    float
        Annual rate as a fraction (0.1088 == 10.88 % a year; CDI 2024).

    Raises
    ------
    InputError
        If no CDI is stored or ``start > end``.
    """
    s, e = pd.Timestamp(start), pd.Timestamp(end)
    if s > e:
        raise InputError("Janela invertida para o CDI.")
    window = cdi_series(store, s, e).daily
    if window.empty:
        raise InputError("Nenhum pregão na janela do CDI.")
    growth = float(np.prod(1.0 + window.to_numpy() / 100.0))
    return growth ** (PERIODS_PER_YEAR / len(window)) - 1.0


def read_sgs(path: str | Path) -> pd.Series:
    """Read a daily BCB SGS series file (CSV ``data;valor`` or the API's JSON).

    Parameters
    ----------
    path : str or Path
        CSV with header ``data;valor`` (dd/mm/aaaa, decimal comma or point), or JSON
        ``[{"data": "02/01/2008", "valor": "0.042170"}, ...]``.

    Returns
    -------
    pandas.Series
        Index ``date``, values in % per day, sorted.

    Raises
    ------
    DataFormatError
        Unreadable file, missing columns, bad date or number (line named where known).
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8-sig", errors="replace").strip()
    try:
        if text.startswith("["):
            recs = json.loads(text)
            df = pd.DataFrame(recs)
        else:
            sep = ";" if ";" in text.splitlines()[0] else ","
            df = pd.read_csv(p, sep=sep, dtype=str, encoding="utf-8-sig")
    except (ValueError, OSError) as exc:
        raise DataFormatError(f"série SGS ilegível: {exc}", p.name) from exc
    df.columns = [str(c).strip().strip('"').lower() for c in df.columns]
    if not {"data", "valor"} <= set(df.columns):
        raise DataFormatError("série SGS sem as colunas 'data' e 'valor'.", p.name, 1)
    dates = pd.to_datetime(df["data"].astype(str).str.strip(), format="%d/%m/%Y", errors="coerce")
    vals = pd.to_numeric(
        df["valor"].astype(str).str.strip().str.replace(",", ".", regex=False), errors="coerce"
    )
    bad = dates.isna() | vals.isna()
    if bad.any():
        k = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataFormatError("data (dd/mm/aaaa) ou valor inválido na série SGS.", p.name, k + 2)
    s = pd.Series(vals.to_numpy(dtype="float64"), index=pd.DatetimeIndex(dates, name="date"))
    return s.sort_index().rename("CDI")


def import_sgs(store: Store, path: str | Path, series: str = "CDI") -> WriteResult:
    """Store a daily SGS file (see :func:`read_sgs`); it replaces the approximation.

    Returns
    -------
    WriteResult
        Inserted, updated and unchanged days.
    """
    return store.write_rates(series, read_sgs(path))
