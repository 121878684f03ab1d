"""``buy_and_hold``: the baseline every strategy is compared with.

Rules (close of bar t; the engine fills at the open of t+1)
-----------------------------------------------------------
* Long entry: on every bar while flat, so the position is bought at the open of the first
  session of the window (the whole capital, in lots plus the fractional remainder) and held
  to the end (closed at the last close, reason "fim").
* No exit signal.

Proventos are **reinvested** by default (``Strategy.reinvests``; the engine buys more shares
with each dividend/JCP at its ex-date's open), so in the traded-price mode the result is a
total return comparable with the adjusted series; the run's configuration
(``EngineConfig.reinvest``) can switch it off to keep them as cash.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.strategies.base import Strategy

__all__ = ["BuyAndHold"]


class BuyAndHold(Strategy):
    name = "buy_and_hold"
    label = "Comprar e segurar (referência)"
    params = ()
    reinvests = True

    def warmup(self) -> int:
        return 0

    def signals(self, bars: pd.DataFrame) -> pd.DataFrame:
        n = len(bars)
        f = np.zeros(n, dtype=bool)
        return pd.DataFrame(
            {
                "entry_long": np.ones(n, dtype=bool),
                "exit_long": f,
                "entry_short": f.copy(),
                "exit_short": f.copy(),
            },
            index=bars.index,
        )
