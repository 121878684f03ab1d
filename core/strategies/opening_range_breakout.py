"""``opening_range_breakout``: Toby Crabel's opening range breakout, for intraday bars.

Rules (close of bar t; a session is a calendar day of the bars)
---------------------------------------------------------------
* Opening range: the highest high and lowest low of the session's first ``range_bars``
  bars (``range_bars=6`` on 5-minute bars = the first 30 minutes).
* Long entry: on a bar after the range, the close rises above ``range high + buffer ×
  range width`` — the session's **first** such close only (one long and one short at most
  per session, as in Crabel's rules).
* Short entry (when shorts are allowed): the close falls below ``range low − buffer ×
  width``, first time in the session.
* Stop: the other side of the range (range low for a long, range high for a short).
* Target (``target_r`` > 0): ``target_r × width`` beyond the broken side; 0 = no target.
* Exits otherwise come from the stop, the target or the session's end: the strategy is
  meant for the engine's day-trade mode (``--day-trade``), which closes every position
  before the close; without it a position runs until its stop or target.

On daily bars the range is the whole session, so there is nothing left to break: no signal
(the run says so).

Source: Crabel, T. (1990), *Day Trading with Short Term Price Patterns and Opening Range
Breakout*, Traders Press — entries on stops a predetermined amount (the "stretch") away
from the opening range, exits at the day's close; here the stretch is ``buffer`` × the
opening range width and entries act at the next bar's open after a close beyond it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.strategies.base import Param, Strategy

__all__ = ["OpeningRangeBreakout", "opening_range"]


def opening_range(bars: pd.DataFrame, range_bars: int) -> pd.DataFrame:
    """Opening range of each bar's session, known from the close of its ``range_bars``-th bar.

    Parameters
    ----------
    bars : pandas.DataFrame
        Canonical bars (n rows), intraday (labelled by opening minute).
    range_bars : int
        Bars in the opening range (≥ 1).

    Returns
    -------
    pandas.DataFrame
        Same index; ``high``, ``low`` (NaN until the range is complete, i.e. on the session's
        first ``range_bars − 1`` bars) and ``k`` (the bar's position in its session, 0-based).
    """
    day = bars.index.normalize()
    k = bars.groupby(day).cumcount().to_numpy()
    done = k == range_bars - 1
    hi = bars["high"].groupby(day).cummax().where(done)
    lo = bars["low"].groupby(day).cummin().where(done)
    return pd.DataFrame(
        {
            "high": hi.groupby(day).ffill().where(k >= range_bars - 1).to_numpy(),
            "low": lo.groupby(day).ffill().where(k >= range_bars - 1).to_numpy(),
            "k": k,
        },
        index=bars.index,
    )


class OpeningRangeBreakout(Strategy):
    name = "opening_range_breakout"
    label = "Rompimento da faixa de abertura (intraday)"
    description = (
        "Rompimento da faixa de abertura (Toby Crabel): marca a máxima e a mínima das "
        "primeiras barras do pregão e entra no primeiro fechamento além delas, com stop no "
        "outro lado da faixa. Feita para barras intraday em modo day trade."
    )
    params = (
        Param("range_bars", "int", 6, 1, 36, label="Barras da faixa de abertura"),
        Param("buffer", "float", 0.0, 0.0, 1.0, step=0.05, label="Folga (× largura da faixa)"),
        Param("target_r", "float", 0.0, 0.0, 10.0, step=0.5, label="Alvo (× largura; 0 = sem)"),
    )
    sets_stops = True
    intraday = True

    def warmup(self) -> int:
        return int(self.p["range_bars"]) + 1

    def explain_no_trades(self, index: pd.DatetimeIndex) -> str | None:
        """pt-BR note when the run had no trade (daily bars cannot have an opening range)."""
        if len(index) and (index == index.normalize()).all():
            return (
                "Nenhuma operação: o rompimento da faixa de abertura precisa de barras "
                "intraday (ex.: 5min); em barras diárias a faixa é o pregão inteiro."
            )
        return None

    def signals(self, bars: pd.DataFrame) -> pd.DataFrame:
        n = int(self.p["range_bars"])
        rng = opening_range(bars, n)
        width = (rng["high"] - rng["low"]).to_numpy()
        buf = float(self.p["buffer"]) * width
        c = bars["close"].to_numpy(dtype="float64")
        after = rng["k"].to_numpy() >= n
        up = after & (c > rng["high"].to_numpy() + buf)
        down = after & (c < rng["low"].to_numpy() - buf)
        day = bars.index.normalize()
        first_up = up & (pd.Series(up, index=bars.index).groupby(day).cumsum().to_numpy() == 1)
        first_dn = down & (pd.Series(down, index=bars.index).groupby(day).cumsum().to_numpy() == 1)
        stop = np.where(first_up, rng["low"], np.where(first_dn, rng["high"], np.nan))
        tr = float(self.p["target_r"])
        target = np.full(len(c), np.nan)
        if tr > 0:
            target = np.where(
                first_up,
                rng["high"] + tr * width,
                np.where(first_dn, rng["low"] - tr * width, np.nan),
            )
        f = np.zeros(len(c), dtype=bool)
        return pd.DataFrame(
            {
                "entry_long": first_up,
                "exit_long": f,
                "entry_short": first_dn,
                "exit_short": f.copy(),
                "stop": stop,
                "target": target,
            },
            index=bars.index,
        )
