"""``breakout``: Donchian channel breakout (the Turtles' system 1 shape).

Rules (close of bar t)
----------------------
* Long entry: close > the highest high of the ``entry`` bars **before** t.
* Long exit: close < the lowest low of the ``exit`` bars before t.
* Short (when allowed): close < lowest low of ``entry`` bars before t; cover when close >
  highest high of ``exit`` bars before t.

The channel excludes bar t itself, so a bar can break it. (A Donchian channel is a rolling
max/min of highs/lows, not a TA-Lib indicator; it is computed with pandas' rolling window.)

Source: Donchian's four-week rule; the Turtle Trading rules (Faith, *Way of the Turtle*, 2007:
20-bar entry, 10-bar exit).
"""

from __future__ import annotations

import pandas as pd

from core.errors import InputError
from core.strategies.base import Param, Strategy

__all__ = ["Breakout", "donchian"]


def donchian(bars: pd.DataFrame, period: int) -> pd.DataFrame:
    """Highest high and lowest low of the ``period`` bars before each bar (columns ``upper, lower``)."""
    return pd.DataFrame(
        {
            "upper": bars["high"].rolling(period).max().shift(1),
            "lower": bars["low"].rolling(period).min().shift(1),
        },
        index=bars.index,
    )


class Breakout(Strategy):
    name = "breakout"
    label = "Rompimento (canal de Donchian)"
    description = (
        "Rompimento do canal de Donchian: compra quando o fechamento supera a máxima das "
        "últimas barras e sai abaixo da mínima do canal de saída (sistema das Tartarugas)."
    )
    params = (
        Param("entry", "int", 20, 5, 120, label="Canal de entrada (barras)"),
        Param("exit", "int", 10, 2, 120, label="Canal de saída (barras)"),
    )

    def validate(self) -> None:
        if self.p["exit"] > self.p["entry"]:
            raise InputError("breakout: o canal de saída não pode ser maior que o de entrada.")

    def signals(self, bars: pd.DataFrame) -> pd.DataFrame:
        c = bars["close"]
        ent, ext = donchian(bars, self.p["entry"]), donchian(bars, self.p["exit"])
        return pd.DataFrame(
            {
                "entry_long": (c > ent["upper"]).to_numpy(),
                "exit_long": (c < ext["lower"]).to_numpy(),
                "entry_short": (c < ent["lower"]).to_numpy(),
                "exit_short": (c > ext["upper"]).to_numpy(),
            },
            index=bars.index,
        )
