"""``sma_cross``: the reference moving-average crossover.

Rules (close of bar t; the engine fills at the open of t+1)
-----------------------------------------------------------
* Long entry: SMA(fast) crosses above SMA(slow) (``fast > slow`` at t, ``fast <= slow`` at t−1).
* Long exit: SMA(fast) crosses below SMA(slow).
* Short entry / exit (only when shorting is allowed): the mirror image.

Source: the classic dual moving-average crossover (e.g. Murphy, *Technical Analysis of the
Financial Markets*, 1999, ch. 9); it is also backtesting.py's ``SmaCross`` example, which the
benchmark reproduces trade for trade.
"""

from __future__ import annotations

import pandas as pd

from core import indicators as ind
from core.errors import InputError
from core.strategies.base import Param, Strategy, crossed_above, crossed_below, flag_frame

__all__ = ["SmaCross"]


class SmaCross(Strategy):
    name = "sma_cross"
    label = "Cruzamento de médias (SMA)"
    description = (
        "Compra quando a média móvel simples rápida cruza para cima da lenta e sai no "
        "cruzamento para baixo (vendido no inverso, se permitido)."
    )
    params = (
        Param("fast", "int", 10, 2, 100, label="Média rápida (barras)"),
        Param("slow", "int", 30, 5, 300, label="Média lenta (barras)"),
    )

    def validate(self) -> None:
        if self.p["fast"] >= self.p["slow"]:
            raise InputError(
                f"A média rápida ({self.p['fast']}) deve ser menor que a lenta ({self.p['slow']})."
            )

    def signals(self, bars: pd.DataFrame) -> pd.DataFrame:
        close = ind.values(bars, "close")
        f = ind.sma_values(close, self.p["fast"])
        s = ind.sma_values(close, self.p["slow"])
        up, down = crossed_above(f, s), crossed_below(f, s)
        return flag_frame(bars.index, up, down, down, up)
