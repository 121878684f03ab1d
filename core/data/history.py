"""Common history of a set of tickers: the dates they all share.

Portfolio estimates, correlations and cross-sectional studies need every ticker observed on
the same sessions. :func:`common_history` aligns a set of tickers to the sessions on which all
of them have a bar and says which ticker limits the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from core.data.store import Store
from core.errors import InputError

__all__ = ["CommonHistory", "common_history"]


@dataclass(frozen=True)
class CommonHistory:
    """Result of :func:`common_history`.

    Attributes
    ----------
    prices : pandas.DataFrame
        Shape ``(n_dates, n_tickers)``: index ``date`` (sessions every ticker traded),
        columns the tickers in the order asked, values the (adjusted) close in R$ (points
        for indices). No NaN.
    first_dates, last_dates : dict of str -> Timestamp
        Each ticker's own first and last stored date within the requested bounds.
    start, end : Timestamp
        The common window (first and last shared session).
    limiting_ticker : str
        The ticker whose history starts last (it sets ``start``).
    dropped_sessions : int
        Sessions inside the window where at least one ticker had no bar (excluded).
    """

    prices: pd.DataFrame
    first_dates: dict
    last_dates: dict
    start: pd.Timestamp
    end: pd.Timestamp
    limiting_ticker: str
    dropped_sessions: int

    @property
    def n_sessions(self) -> int:
        """Number of shared sessions."""
        return len(self.prices)


def common_history(
    store: Store,
    tickers: Sequence[str],
    start=None,
    end=None,
    *,
    adjusted: bool = True,
    min_sessions: int = 2,
) -> CommonHistory:
    """Align ``tickers`` to the sessions on which all of them have a daily bar.

    Parameters
    ----------
    store : Store
        Source of bars.
    tickers : sequence of str
        At least one stored ticker (duplicates are ignored).
    start, end : date-like, optional
        Inclusive bounds applied before aligning.
    adjusted : bool
        Use ``adj_close`` (default) or the traded ``close``.
    min_sessions : int
        Fewest shared sessions accepted.

    Returns
    -------
    CommonHistory

    Raises
    ------
    InputError
        No tickers, or fewer than ``min_sessions`` shared sessions (the message names each
        ticker's span so the user sees which one to drop).
    UnknownTickerError
        If a ticker is not stored.
    """
    uniq = list(dict.fromkeys(t.strip().upper() for t in tickers if t and t.strip()))
    if not uniq:
        raise InputError("Escolha pelo menos um ticker.")
    wide = store.closes(uniq, start, end, adjusted=adjusted)
    firsts = {t: wide[t].first_valid_index() for t in uniq}
    lasts = {t: wide[t].last_valid_index() for t in uniq}
    empty = [t for t in uniq if firsts[t] is None]
    if empty:
        raise InputError(f"Sem dados no período para: {', '.join(empty)}.")
    lo = max(firsts.values())
    hi = min(lasts.values())
    limiting = max(uniq, key=lambda t: firsts[t])
    window = wide.loc[lo:hi] if lo <= hi else wide.iloc[0:0]
    aligned = window.dropna(how="any")
    if len(aligned) < min_sessions:
        spans = "; ".join(
            f"{t}: {firsts[t]:%d/%m/%Y}–{lasts[t]:%d/%m/%Y}" for t in uniq
        )
        raise InputError(
            f"Os tickers compartilham só {len(aligned)} pregões (mínimo {min_sessions}). "
            f"Períodos: {spans}."
        )
    return CommonHistory(
        prices=aligned,
        first_dates=firsts,
        last_dates=lasts,
        start=aligned.index[0],
        end=aligned.index[-1],
        limiting_ticker=limiting,
        dropped_sessions=int(len(window) - len(aligned)),
    )
