"""``trend_following``: EMA crossover filtered by ADX trend strength.

Rules (close of bar t)
----------------------
* Long entry: EMA(fast) crosses above EMA(slow) **and** ADX(adx_period) ≥ ``adx_min`` and
  +DI > −DI (a trending market going up).
* Long exit: EMA(fast) crosses below EMA(slow).
* Short (when allowed): EMA(fast) crosses below EMA(slow) with ADX ≥ ``adx_min`` and
  −DI > +DI; cover when EMA(fast) crosses back above.

Source: EMA crossovers as trend signals (Murphy, 1999, ch. 9) and Wilder's ADX as a trend
filter (Wilder, *New Concepts in Technical Trading Systems*, 1978: trade trends when ADX is
above 20-25).
"""

from __future__ import annotations

import pandas as pd

from core import indicators as ind
from core.errors import InputError
from core.strategies.base import Param, Strategy, crossed_above, crossed_below

__all__ = ["TrendFollowing"]


class TrendFollowing(Strategy):
    name = "trend_following"
    label = "Seguidor de tendência (EMA + ADX)"
    description = (
        "Cruzamento de médias exponenciais confirmado pelo ADX: só entra quando há tendência "
        "forte (ADX acima do mínimo) na direção do cruzamento."
    )
    params = (
        Param("fast", "int", 12, 2, 100, label="EMA rápida"),
        Param("slow", "int", 26, 5, 300, label="EMA lenta"),
        Param("adx_period", "int", 14, 5, 50, label="Período do ADX"),
        Param("adx_min", "float", 20.0, 0.0, 60.0, step=1.0, label="ADX mínimo"),
    )

    def validate(self) -> None:
        if self.p["fast"] >= self.p["slow"]:
            raise InputError("trend_following: fast deve ser menor que slow.")

    def signals(self, bars: pd.DataFrame) -> pd.DataFrame:
        f = ind.ema(bars["close"], self.p["fast"]).to_numpy()
        s = ind.ema(bars["close"], self.p["slow"]).to_numpy()
        a = ind.adx(bars, self.p["adx_period"])
        strong = (a["adx"] >= self.p["adx_min"]).to_numpy()
        up_dir = (a["plus_di"] > a["minus_di"]).to_numpy()
        down_dir = (a["minus_di"] > a["plus_di"]).to_numpy()
        up, down = crossed_above(f, s), crossed_below(f, s)
        return pd.DataFrame(
            {
                "entry_long": up & strong & up_dir,
                "exit_long": down,
                "entry_short": down & strong & down_dir,
                "exit_short": up,
            },
            index=bars.index,
        )
