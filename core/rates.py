"""The risk-free rate: the CDI from the store (BCB SGS series 12, % per day).

B3 practice quotes the CDI as an annual rate on a 252-session year:
``annual = prod(1 + daily/100) ** (252 / n) - 1``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.store import Store
from core.errors import InputError

__all__ = ["PERIODS_PER_YEAR", "cdi_annual", "cdi_daily_returns"]

#: B3 sessions per year used for every annualisation in Pregão.
PERIODS_PER_YEAR = 252


def cdi_daily_returns(store: Store, index: pd.DatetimeIndex) -> pd.Series:
    """Daily CDI as simple returns (fractions per session) on ``index``.

    Days the stored series lacks (before 2015 or after its end) take the nearest stored
    rate (forward, then backward fill), so a window slightly outside the series still has
    a sensible risk-free leg.

    Returns
    -------
    pandas.Series
        Same index as ``index``, fractions per session (0.0004 == 0.04 % a day).

    Raises
    ------
    InputError
        If no CDI is stored.
    """
    cdi = store.rates("CDI")
    if cdi.empty:
        raise InputError("Nenhuma série de CDI no banco (rode `python -m dashboard init`).")
    s = (cdi / 100.0).reindex(cdi.index.union(index)).ffill().bfill().reindex(index)
    return s.rename("cdi")


def cdi_annual(store: Store, start, end) -> float:
    """The CDI compounded over ``[start, end]`` and annualised on 252 sessions.

    Parameters
    ----------
    store : Store
    start, end : date-like
        Inclusive window; clipped to the stored series (nearest year used if the window lies
        entirely outside it).

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
    cdi = store.rates("CDI")
    if cdi.empty:
        raise InputError("Nenhuma série de CDI no banco (rode `python -m dashboard init`).")
    window = cdi.loc[s:e]
    if window.empty:
        # Outside the stored series: use the nearest 252 stored sessions.
        window = cdi.iloc[:PERIODS_PER_YEAR] if e < cdi.index[0] else cdi.iloc[-PERIODS_PER_YEAR:]
    growth = float(np.prod(1.0 + window.to_numpy() / 100.0))
    return growth ** (PERIODS_PER_YEAR / len(window)) - 1.0
