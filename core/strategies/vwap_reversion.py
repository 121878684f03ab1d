"""``vwap_reversion``: fade stretches away from the session VWAP, back to it.

Rules (close of bar t; a session is a calendar day of the bars)
---------------------------------------------------------------
* Session VWAP: ``Σ typical × volume / Σ volume`` over the session's bars up to t, with
  ``typical = (high + low + close) / 3``. **Where the session has no volume** (the bundled
  WINFUT file has none) every bar weighs the same: the running mean of the typical price —
  the run says so.
* Band: ``bands`` × the standard deviation of ``close − VWAP`` over the last ``window``
  bars (causal rolling window).
* Long entry: from the session's ``min_bars``-th bar on, the close is below ``VWAP − band``.
* Long exit: the close is back at or above the VWAP.
* Short entry (when shorts are allowed): close above ``VWAP + band``; cover at or below the
  VWAP.
* Meant for intraday bars in day-trade mode (the engine closes what is left before the
  session's end). On daily bars the VWAP is the bar's own typical price.

Sources: VWAP as defined by Berkowitz, Logue & Noser (1988), "The Total Cost of
Transactions on the NYSE", *Journal of Finance* 43(1), 97-112; fading deviations from it
in standard-deviation bands is common desk practice (e.g. VWAP bands in trading platforms),
not a published system — treat it as a baseline to test, not an edge.
"""

from __future__ import annotations

import pandas as pd

from core.strategies.base import Param, Strategy

__all__ = ["VwapReversion", "session_vwap"]


def session_vwap(bars: pd.DataFrame) -> pd.Series:
    """Running VWAP of each bar's session (R$ or points), volume-weighted where the session
    has volume, equal-weighted where it has none.

    Parameters
    ----------
    bars : pandas.DataFrame
        Canonical bars (n rows).

    Returns
    -------
    pandas.Series
        Same index, the VWAP up to and including each bar.
    """
    day = bars.index.normalize()
    tp = (bars["high"] + bars["low"] + bars["close"]) / 3.0
    vol = bars["volume"].fillna(0.0).clip(lower=0.0)
    has_vol = vol.groupby(day).transform("sum") > 0
    w = vol.where(has_vol, 1.0)
    num = (tp * w).groupby(day).cumsum()
    den = w.groupby(day).cumsum()
    return (num / den.where(den > 0)).rename("vwap")


class VwapReversion(Strategy):
    name = "vwap_reversion"
    label = "Reversão à VWAP (intraday)"
    description = (
        "Reversão à VWAP do pregão: compra quando o preço se afasta abaixo da VWAP mais que "
        "algumas vezes o desvio-padrão recente e sai quando volta a ela (venda no espelho). "
        "Sem volume nos dados, a VWAP usa pesos iguais por barra."
    )
    params = (
        Param("bands", "float", 2.0, 0.5, 4.0, step=0.25, label="Banda (desvios-padrão)"),
        Param("window", "int", 20, 5, 200, label="Janela do desvio (barras)"),
        Param("min_bars", "int", 6, 1, 60, label="Barras antes de operar no pregão"),
    )
    intraday = True
    #: The run notes when the bars have no volume (equal weights instead).
    needs_volume = True

    def signals(self, bars: pd.DataFrame) -> pd.DataFrame:
        vwap = session_vwap(bars)
        c = bars["close"]
        dev = c - vwap
        sd = dev.rolling(int(self.p["window"])).std(ddof=1)
        band = float(self.p["bands"]) * sd
        k = bars.groupby(bars.index.normalize()).cumcount().to_numpy()
        ok = (k >= int(self.p["min_bars"]) - 1) & (sd > 0).to_numpy()
        long_in = ok & (dev < -band).to_numpy()
        short_in = ok & (dev > band).to_numpy()
        return (
            pd.DataFrame(
                {
                    "entry_long": long_in,
                    "exit_long": (c >= vwap).to_numpy(),
                    "entry_short": short_in,
                    "exit_short": (c <= vwap).to_numpy(),
                },
                index=bars.index,
            )
            .fillna(False)
            .astype(bool)
        )
