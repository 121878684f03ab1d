"""Orders against the market's size: warn when an order is a large share of the traded volume.

A trader who types R$ 1e12 by mistake should hear that the order is many days of PETR4's
volume before anything else. The check compares each order's shares with the ticker's
average daily volume (shares) over the last :data:`ADV_SESSIONS` sessions up to the date of
the prices used; above :data:`MAX_ADV_SHARE` it returns a pt-BR warning. Market-impact
practice caps a day's participation well below that (10 % of ADV is a common limit for
institutional execution algorithms), so every warning is a real execution problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from core.requests.parsing import fmt_number
from core.textfmt import pct

if TYPE_CHECKING:
    from core.data.store import Store

__all__ = ["ADV_SESSIONS", "MAX_ADV_SHARE", "liquidity_warnings", "trade_liquidity_warnings"]

#: Sessions of the average daily volume.
ADV_SESSIONS = 20
#: Share of the average daily volume above which an order gets a warning.
MAX_ADV_SHARE = 0.10


def liquidity_warnings(
    store: Store,
    shares: Mapping[str, float],
    asof=None,
    *,
    max_share: float = MAX_ADV_SHARE,
    sessions: int = ADV_SESSIONS,
) -> list[str]:
    """pt-BR warnings for orders above ``max_share`` of the average daily volume.

    Parameters
    ----------
    store : Store
    shares : mapping of str -> float
        Shares to trade per ticker (sign ignored; a fractional-market ``PETR4F`` leg
        counts against ``PETR4``).
    asof : date-like, optional
        Last session of the volume window (default: the last stored bar).
    max_share : float
        Fraction of the average daily volume that triggers a warning.
    sessions : int
        Length of the volume window in sessions.

    Returns
    -------
    list of str
        One message per ticker over the limit, largest first; empty when all fit.
    """
    from core.errors import PregaoError

    total: dict[str, float] = {}
    for t, q in shares.items():
        base = t[:-1] if len(t) > 5 and t.endswith("F") and t[-2].isdigit() else t
        total[base] = total.get(base, 0.0) + abs(float(q))
    out: list[tuple[float, str]] = []
    for t, q in total.items():
        if q <= 0:
            continue
        try:
            vol = store.bars(t, None, asof)["volume"].tail(sessions)
        except PregaoError:
            continue
        adv = float(vol.mean()) if len(vol) else 0.0
        if adv <= 0:
            out.append((float("inf"), f"{t}: sem volume negociado recente para comparar a ordem."))
            continue
        ratio = q / adv
        if ratio > max_share:
            out.append(
                (
                    ratio,
                    f"{t}: a ordem de {fmt_number(q, 0)} ações é {pct(ratio, 1)} do volume médio "
                    f"diário ({fmt_number(adv, 0)} ações em {len(vol)} pregões); acima de "
                    f"{pct(max_share, 0)} ela moveria o preço e levaria dias para ser executada.",
                )
            )
    return [m for _, m in sorted(out, key=lambda x: -x[0])]


def trade_liquidity_warnings(
    store: Store, trades, *, max_share: float = MAX_ADV_SHARE
) -> list[str]:
    """Warnings for a backtest's trades: each ticker's largest entry against the average daily
    volume of the sessions before that entry.

    Parameters
    ----------
    trades : pandas.DataFrame
        :attr:`core.backtest.runner.BacktestResult.trades` (``ticker``, ``shares``,
        ``entry_date``).

    Returns
    -------
    list of str
        As :func:`liquidity_warnings`; empty without trades.
    """
    if trades is None or len(trades) == 0:
        return []
    out: list[str] = []
    for t, grp in trades.groupby("ticker"):
        row = grp.loc[grp["shares"].abs().idxmax()]
        out += liquidity_warnings(
            store, {str(t): float(row["shares"])}, row["entry_date"], max_share=max_share
        )
    return out
