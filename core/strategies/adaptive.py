"""``adaptive``: detect the market regime and run the strategy configured for it.

Regimes (from data up to the close of bar t)
--------------------------------------------
* **volátil** (volatile): the 20-bar realised volatility of daily log returns is above its
  own ``vol_quantile`` quantile over the previous ``vol_lookback`` bars (trailing window
  only);
* otherwise, when ADX(14) ≥ ``adx_trend``: **alta** (trending up) if +DI > −DI, else
  **baixa** (trending down);
* otherwise **lateral** (ranging).

Rules
-----
Each regime maps to a strategy name or ``none`` (stay out). A long entry is taken when the
strategy mapped to the current regime signals one and no position is open (as tracked from
these signals); that strategy then *owns* the position, which is closed on its own exit
signal or as soon as the regime maps to ``none``. Long-only. Sub-strategies run with their
default parameters. The ``regime`` column holds the regime per bar.

Defaults: trend following in up-trends, mean reversion in ranges, out of the market in
down-trends and in volatile markets.

Source: regime-switching allocation by trend strength (Wilder's ADX, 1978) and volatility
regimes (e.g. Ang & Timmermann, "Regime Changes and Financial Markets", 2012).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import indicators as ind
from core.strategies.base import Param, Strategy

__all__ = ["Adaptive", "REGIMES", "detect_regime"]

REGIMES = ("alta", "baixa", "lateral", "volátil")
SUB_CHOICES = (
    "none",
    "sma_cross",
    "trend_following",
    "mean_reversion",
    "breakout",
    "macd_crossover",
    "rsi_divergence",
)


def detect_regime(
    bars: pd.DataFrame,
    adx_trend: float = 25.0,
    vol_quantile: float = 0.8,
    vol_lookback: int = 252,
) -> pd.Series:
    """Regime per bar (one of :data:`REGIMES`; ``""`` during the warm-up)."""
    c = bars["close"]
    vol = np.log(c).diff().rolling(20).std()
    ref = vol.shift(1).rolling(vol_lookback, min_periods=60).quantile(vol_quantile)
    a = ind.adx(bars, 14)
    out = np.where(
        vol > ref,
        "volátil",
        np.where(
            a["adx"] >= adx_trend,
            np.where(a["plus_di"] > a["minus_di"], "alta", "baixa"),
            "lateral",
        ),
    ).astype(object)
    warm = (ref.isna() | a["adx"].isna()).to_numpy()
    out[warm] = ""
    return pd.Series(out, index=bars.index, name="regime")


class Adaptive(Strategy):
    name = "adaptive"
    label = "Adaptativa (por regime de mercado)"
    description = (
        "Detecta o regime do mercado (alta, baixa, lateral ou volátil, por ADX e volatilidade) "
        "e opera com a estratégia escolhida para cada regime."
    )
    params = (
        Param("adx_trend", "float", 25.0, 10.0, 50.0, step=1.0, label="ADX de tendência"),
        Param("vol_quantile", "float", 0.8, 0.5, 0.99, step=0.01, label="Quantil de volatilidade"),
        Param(
            "vol_lookback",
            "int",
            252,
            60,
            756,
            label="Janela da volatilidade (barras)",
            optimize=False,
        ),
        Param(
            "up", "choice", "trend_following", choices=SUB_CHOICES, label="Em alta", optimize=False
        ),
        Param("down", "choice", "none", choices=SUB_CHOICES, label="Em baixa", optimize=False),
        Param(
            "ranging",
            "choice",
            "mean_reversion",
            choices=SUB_CHOICES,
            label="Lateral",
            optimize=False,
        ),
        Param("volatile", "choice", "none", choices=SUB_CHOICES, label="Volátil", optimize=False),
    )

    def warmup(self) -> int:
        return 300

    def signals(self, bars: pd.DataFrame) -> pd.DataFrame:
        from core.strategies import get_strategy

        regime = detect_regime(
            bars, self.p["adx_trend"], self.p["vol_quantile"], self.p["vol_lookback"]
        )
        mapping = {
            "alta": self.p["up"],
            "baixa": self.p["down"],
            "lateral": self.p["ranging"],
            "volátil": self.p["volatile"],
            "": "none",
        }
        subs = {
            name: get_strategy(name).signals(bars)
            for name in set(mapping.values())
            if name != "none"
        }
        n = len(bars)
        entry = np.zeros(n, dtype=bool)
        exit_ = np.zeros(n, dtype=bool)
        reg = regime.to_numpy()
        ent = {k: v["entry_long"].to_numpy() for k, v in subs.items()}
        ext = {k: v["exit_long"].to_numpy() for k, v in subs.items()}
        owner = None
        for t in range(n):
            active = mapping[reg[t]]
            if owner is not None:
                if ext[owner][t] or active == "none":
                    exit_[t] = True
                    owner = None
                continue
            if active != "none" and ent[active][t]:
                entry[t] = True
                owner = active
        return pd.DataFrame(
            {
                "entry_long": entry,
                "exit_long": exit_,
                "entry_short": np.zeros(n, dtype=bool),
                "exit_short": np.zeros(n, dtype=bool),
                "regime": reg,
            },
            index=bars.index,
        )
