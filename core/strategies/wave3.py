"""``wave3``: the "Onda 3" pullback setup popular among Brazilian traders.

Our reading of the setup
------------------------
The setup (as taught in Brazilian trading courses, e.g. André Moraes' "Setup Onda 3") buys
the start of a third Elliott-style wave: an established up-trend, a pullback, and the
resumption. We read it as follows (every test below uses data up to the close of bar t):

1. **Trend filter**: EMA(17) > EMA(72), EMA(72) rising over the last ``slope_bars`` bars,
   and close > EMA(72).
2. **Pullback into the zone**: bar t's low enters the zone between the two averages
   (EMA(72) ≤ low ≤ EMA(17)) and it closes at or above EMA(72). Bar t is the *trigger bar*.
3. **Entry**: a buy-stop one tick (R$ 0,01) above the trigger bar's high, valid for the next
   bar only (the engine fills at ``max(open, level)`` if the bar trades through it, else
   the order is cancelled).
4. **Stop**: one tick under the pullback low (the lowest low of the last ``pullback_bars``
   bars up to t).
5. **Target**: entry level + ``reward`` × (entry level − stop), 3× the risk by default.
6. **Quality score 0-100** (our reading; five components of 20 points each), and only
   setups scoring ≥ ``min_score`` (55) are traded:

   * trend strength: min(1, (EMA17 − EMA72) / ATR(14));
   * trend slope: min(1, (EMA72[t] − EMA72[t−10]) / ATR(14));
   * pullback depth: how far the low went from EMA17 toward EMA72, (EMA17 − low) /
     (EMA17 − EMA72), clipped to [0, 1];
   * trigger bar strength: where it closed in its range, (close − low) / (high − low);
   * quiet pullback: volume below its 20-bar average, min(1, avg / volume).

7. **Exit** besides stop and target: close below EMA(72) (the trend is gone).

Long-only (the setup is defined for buying). Columns ``score`` and ``trigger`` are added
to the signal frame for display and tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import indicators as ind
from core.strategies.base import Param, Strategy

__all__ = ["Wave3", "wave3_score"]

TICK = 0.01


def wave3_score(bars: pd.DataFrame, ema17: pd.Series, ema72: pd.Series) -> pd.Series:
    """Quality score 0-100 of a wave-3 trigger at each bar (see the module docstring)."""
    a = ind.atr(bars, 14)
    h, lo, c, v = bars["high"], bars["low"], bars["close"], bars["volume"]
    strength = ((ema17 - ema72) / a).clip(0, 1)
    slope = ((ema72 - ema72.shift(10)) / a).clip(0, 1)
    width = (ema17 - ema72).where(ema17 > ema72)
    depth = ((ema17 - lo) / width).clip(0, 1)
    rng = (h - lo).where(h > lo)
    close_pos = ((c - lo) / rng).fillna(0.5).clip(0, 1)
    avg_v = v.rolling(20).mean()
    quiet = (avg_v / v.where(v > 0)).clip(upper=1).fillna(1.0)
    score = 20 * (strength + slope + depth + close_pos + quiet)
    return score.rename("score")


class Wave3(Strategy):
    name = "wave3"
    label = "Onda 3 (EMA 17/72)"
    description = (
        "Setup Onda 3: tendência de alta (MME 17 acima da MME 72, ambas subindo), recuo até a "
        "zona entre as médias e compra no rompimento da máxima do candle de sinal, com stop no "
        "fundo do recuo e alvo em múltiplos do risco."
    )
    sets_stops = True
    params = (
        Param("fast", "int", 17, 5, 50, label="EMA curta", optimize=False),
        Param("slow", "int", 72, 20, 200, label="EMA longa", optimize=False),
        Param("slope_bars", "int", 5, 1, 30, label="Barras da inclinação da EMA longa"),
        Param("pullback_bars", "int", 5, 2, 20, label="Barras do pullback (stop)"),
        Param("reward", "float", 3.0, 1.0, 6.0, step=0.5, label="Alvo (× risco)"),
        Param("min_score", "float", 55.0, 0.0, 100.0, step=5.0, label="Nota mínima (0-100)"),
    )

    def signals(self, bars: pd.DataFrame) -> pd.DataFrame:
        c, h, lo = bars["close"], bars["high"], bars["low"]
        e17 = ind.ema(c, self.p["fast"])
        e72 = ind.ema(c, self.p["slow"])
        trend = (e17 > e72) & (e72 > e72.shift(self.p["slope_bars"])) & (c > e72)
        zone = (lo <= e17) & (lo >= e72) & (c >= e72)
        trigger = (trend & zone).to_numpy()
        score = wave3_score(bars, e17, e72)
        entry = trigger & (score >= self.p["min_score"]).to_numpy()
        level = h + TICK
        stop = lo.rolling(self.p["pullback_bars"], min_periods=1).min() - TICK
        target = level + self.p["reward"] * (level - stop)
        nan = np.nan
        return pd.DataFrame(
            {
                "entry_long": entry,
                "exit_long": (c < e72).to_numpy(),
                "entry_short": np.zeros(len(c), dtype=bool),
                "exit_short": np.zeros(len(c), dtype=bool),
                "entry_level": np.where(entry, level, nan),
                "stop": np.where(entry, stop, nan),
                "target": np.where(entry, target, nan),
                "score": score.to_numpy(),
                "trigger": trigger,
            },
            index=bars.index,
        )
