"""``macd_crossover``: MACD line crossing its signal line.

Rules (close of bar t)
----------------------
* Long entry: MACD crosses above its signal line (and, when ``below_zero`` is on, the cross
  happens with MACD < 0: buying a turn from weakness).
* Long exit: MACD crosses below its signal line.
* Short (when allowed): the mirror image (with MACD > 0 when ``below_zero`` is on).

Source: Appel, *Technical Analysis: Power Tools for Active Investors* (2005), 12/26/9.
"""

from __future__ import annotations

import pandas as pd

from core import indicators as ind
from core.errors import InputError
from core.strategies.base import Param, Strategy, crossed_above, crossed_below

__all__ = ["MacdCrossover"]


class MacdCrossover(Strategy):
    name = "macd_crossover"
    label = "Cruzamento do MACD"
    description = (
        "Compra quando a linha do MACD cruza para cima da linha de sinal e sai no cruzamento "
        "para baixo (12/26/9 de Appel)."
    )
    params = (
        Param("fast", "int", 12, 2, 50, label="EMA rápida"),
        Param("slow", "int", 26, 5, 100, label="EMA lenta"),
        Param("signal", "int", 9, 2, 50, label="Linha de sinal"),
        Param("below_zero", "bool", False, label="Só cruzamentos abaixo de zero", optimize=False),
    )

    def validate(self) -> None:
        if self.p["fast"] >= self.p["slow"]:
            raise InputError("macd_crossover: fast deve ser menor que slow.")

    def signals(self, bars: pd.DataFrame) -> pd.DataFrame:
        m = ind.macd(bars["close"], self.p["fast"], self.p["slow"], self.p["signal"])
        line, sig = m["macd"].to_numpy(), m["signal"].to_numpy()
        up, down = crossed_above(line, sig), crossed_below(line, sig)
        if self.p["below_zero"]:
            el, es = up & (line < 0), down & (line > 0)
        else:
            el, es = up, down
        return pd.DataFrame(
            {"entry_long": el, "exit_long": down, "entry_short": es, "exit_short": up},
            index=bars.index,
        )
