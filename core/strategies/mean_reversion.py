"""``mean_reversion``: buy oversold closes below the lower Bollinger band, sell at the mean.

Rules (close of bar t)
----------------------
* Long entry: close < lower Bollinger band (SMA(period) − k·σ) **and** RSI(rsi_period) <
  ``oversold``.
* Long exit: close ≥ middle band (the SMA) **or** RSI > ``exit_rsi``.
* Short (when allowed): close > upper band and RSI > 100 − ``oversold``; cover at close ≤
  middle band or RSI < 100 − ``exit_rsi``.

Source: Bollinger, *Bollinger on Bollinger Bands* (2001), band tags confirmed by an
oscillator; Wilder's RSI (1978) with the 30/70 oversold/overbought levels.
"""

from __future__ import annotations

import pandas as pd

from core import indicators as ind
from core.strategies.base import Param, Strategy

__all__ = ["MeanReversion"]


class MeanReversion(Strategy):
    name = "mean_reversion"
    label = "Reversão à média (Bollinger + IFR)"
    description = (
        "Compra fechamentos abaixo da banda inferior de Bollinger com IFR sobrevendido e sai na "
        "média das bandas ou com IFR alto."
    )
    params = (
        Param("period", "int", 20, 5, 100, label="Período das bandas"),
        Param("k", "float", 2.0, 0.5, 4.0, step=0.1, label="Desvios-padrão (k)"),
        Param("rsi_period", "int", 14, 2, 50, label="Período do IFR"),
        Param("oversold", "float", 35.0, 5.0, 50.0, step=1.0, label="IFR sobrevendido"),
        Param("exit_rsi", "float", 70.0, 50.0, 95.0, step=1.0, label="IFR de saída"),
    )

    def signals(self, bars: pd.DataFrame) -> pd.DataFrame:
        c = bars["close"]
        bb = ind.bollinger(c, self.p["period"], self.p["k"])
        r = ind.rsi(c, self.p["rsi_period"])
        lo, hi = self.p["oversold"], self.p["exit_rsi"]
        return pd.DataFrame(
            {
                "entry_long": ((c < bb["lower"]) & (r < lo)).to_numpy(),
                "exit_long": ((c >= bb["middle"]) | (r > hi)).to_numpy(),
                "entry_short": ((c > bb["upper"]) & (r > 100 - lo)).to_numpy(),
                "exit_short": ((c <= bb["middle"]) | (r < 100 - hi)).to_numpy(),
            },
            index=bars.index,
        )
