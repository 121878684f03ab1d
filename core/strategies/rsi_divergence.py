"""``rsi_divergence``: the four RSI divergences, regular and hidden, bullish and bearish.

Pivots
------
A pivot low at bar p is a low that is the lowest of the ``2·pivot + 1`` bars centred on p
(a pivot high likewise with highs). It is only *known* ``pivot`` bars later, so every
signal is dated at the confirmation bar ``p + pivot`` – never at p (no lookahead). Two
consecutive pivots of the same kind are compared when they are between ``min_gap`` and
``max_gap`` bars apart, using the RSI at the pivot bars.

Patterns (price vs RSI between the previous pivot p0 and the new pivot p)
-----------------------------------------------------------------------
* **regular bullish**: pivot lows, price lower low, RSI higher low (selling is tiring).
* **hidden bullish**: pivot lows, price higher low, RSI lower low (up-trend continuation).
* **regular bearish**: pivot highs, price higher high, RSI lower high.
* **hidden bearish**: pivot highs, price lower high, RSI higher high (down-trend continuation).

Rules (close of the confirmation bar t)
---------------------------------------
* Long entry: a bullish divergence (regular; hidden too when ``hidden`` is on).
* Long exit: a bearish divergence (same switch) or RSI > ``exit_rsi``.
* Short (when allowed): bearish divergence; cover on a bullish one or RSI < 100 − ``exit_rsi``.

The ``pattern`` column names the divergence found at each bar ("" for none).

Source: Wilder (1978) on RSI divergences; Cardwell's "positive/negative reversals" for the
hidden kind (A. Cardwell, *RSI: The Complete Guide*, 1990s seminars, summarised by
Brown, *Technical Analysis for the Trading Professional*, 1999).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import indicators as ind
from core.errors import InputError
from core.strategies.base import Param, Strategy

__all__ = ["RsiDivergence", "pivots", "divergences"]

PATTERNS = ("regular_bullish", "hidden_bullish", "regular_bearish", "hidden_bearish")


def pivots(values: pd.Series, width: int, kind: str) -> np.ndarray:
    """Positions p of pivot lows (``kind="low"``) or highs of ``values`` (known at p + width)."""
    win = values.rolling(2 * width + 1, center=True)
    ext = win.min() if kind == "low" else win.max()
    is_piv = np.array((values == ext).to_numpy(), dtype=bool)
    is_piv[-width:] = False  # not confirmable inside the data
    return np.flatnonzero(is_piv)


def divergences(
    bars: pd.DataFrame, rsi: pd.Series, width: int, min_gap: int, max_gap: int
) -> pd.Series:
    """Divergence pattern found at each confirmation bar (empty string when none).

    Returns
    -------
    pandas.Series
        Same index as ``bars``; values from :data:`PATTERNS` or "".
    """
    n = len(bars)
    out = np.array([""] * n, dtype=object)
    r = rsi.to_numpy()
    for kind, col in (("low", "low"), ("high", "high")):
        price = bars[col].to_numpy()
        piv = pivots(bars[col], width, kind)
        prev = -1
        for p in piv:
            if prev >= 0 and min_gap <= p - prev <= max_gap and r[p] == r[p] and r[prev] == r[prev]:
                t = p + width
                if kind == "low":
                    if price[p] < price[prev] and r[p] > r[prev]:
                        out[t] = "regular_bullish"
                    elif price[p] > price[prev] and r[p] < r[prev]:
                        out[t] = "hidden_bullish"
                else:
                    if price[p] > price[prev] and r[p] < r[prev]:
                        out[t] = out[t] or "regular_bearish"
                    elif price[p] < price[prev] and r[p] > r[prev]:
                        out[t] = out[t] or "hidden_bearish"
            prev = p
    return pd.Series(out, index=bars.index, name="pattern")


class RsiDivergence(Strategy):
    name = "rsi_divergence"
    label = "Divergência do IFR (clássica e oculta)"
    description = (
        "Divergências do IFR com o preço em pivôs confirmados (clássicas e ocultas, de alta e "
        "de baixa); o sinal sai na barra que confirma o pivô, sem olhar o futuro."
    )
    params = (
        Param("rsi_period", "int", 14, 2, 50, label="Período do IFR"),
        Param("pivot", "int", 3, 1, 10, label="Largura do pivô (barras)"),
        Param("min_gap", "int", 5, 2, 60, label="Distância mínima entre pivôs"),
        Param("max_gap", "int", 60, 10, 200, label="Distância máxima entre pivôs"),
        Param("hidden", "bool", True, label="Incluir divergências ocultas", optimize=False),
        Param("exit_rsi", "float", 70.0, 50.0, 95.0, step=1.0, label="IFR de saída"),
    )

    def validate(self) -> None:
        if self.p["min_gap"] >= self.p["max_gap"]:
            raise InputError("rsi_divergence: min_gap deve ser menor que max_gap.")

    def signals(self, bars: pd.DataFrame) -> pd.DataFrame:
        r = ind.rsi(bars["close"], self.p["rsi_period"])
        pat = divergences(bars, r, self.p["pivot"], self.p["min_gap"], self.p["max_gap"])
        bull = pat == "regular_bullish"
        bear = pat == "regular_bearish"
        if self.p["hidden"]:
            bull |= pat == "hidden_bullish"
            bear |= pat == "hidden_bearish"
        x = self.p["exit_rsi"]
        return pd.DataFrame(
            {
                "entry_long": bull.to_numpy(),
                "exit_long": (bear | (r > x)).to_numpy(),
                "entry_short": bear.to_numpy(),
                "exit_short": (bull | (r < 100 - x)).to_numpy(),
                "pattern": pat.to_numpy(),
            },
            index=bars.index,
        )
