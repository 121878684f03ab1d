"""Trading view of a model: long when P(up) ≥ threshold, out of sample, with B3 costs.

For each ticker and each out-of-sample decision date ``t`` (after the close): position
``x_t = 1`` if ``p_up_t ≥ threshold`` else 0 (cash, earning nothing — conservative: CDI is
not credited), held over the next session, earning ``fwd_ret_t = C_{t+1}/C_t - 1``
(adjusted close). Every change of position costs ``swing_fee_rate + slippage_bps / 10⁴``
of the position's value (:class:`core.backtest.costs.B3Costs`: B3 fees and slippage; the
fixed brokerage is charged as ``brokerage_per_order / capital``). Buy-and-hold is long on
every one of the same dates, paying one entry and one exit. With several tickers the
portfolio return of a date is the equal-weighted mean over the tickers predicted that date.

Metrics: total return (fraction), annualised return ``(1+R)^(252/n) - 1``, annualised
Sharpe ``mean/std · √252`` of daily returns (risk-free 0, stated), maximum drawdown
(fraction, ≤ 0), number of trades (entries), exposure (fraction of days long).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.backtest.costs import B3_DEFAULT, B3Costs
from core.errors import InputError

__all__ = ["trading_view", "performance"]

PERIODS_PER_YEAR = 252


def performance(returns: pd.Series, positions: pd.Series | None = None) -> dict:
    """Total/annual return, Sharpe (rf 0), max drawdown, trades and exposure of daily returns."""
    r = returns.fillna(0.0).to_numpy(dtype="float64")
    n = len(r)
    if n == 0:
        return {
            "total_return": 0.0,
            "annual_return": 0.0,
            "sharpe": float("nan"),
            "max_drawdown": 0.0,
            "trades": 0,
            "exposure": 0.0,
            "n_days": 0,
        }
    eq = np.cumprod(1 + r)
    total = float(eq[-1] - 1)
    annual = float((1 + total) ** (PERIODS_PER_YEAR / n) - 1) if total > -1 else -1.0
    sd = r.std(ddof=1) if n > 1 else 0.0
    sharpe = float(r.mean() / sd * np.sqrt(PERIODS_PER_YEAR)) if sd > 0 else float("nan")
    peak = np.maximum.accumulate(np.concatenate([[1.0], eq]))[1:]
    mdd = float((eq / peak - 1).min())
    out = {
        "total_return": total,
        "annual_return": annual,
        "sharpe": sharpe,
        "max_drawdown": mdd,
        "n_days": n,
    }
    if positions is not None:
        out["trades"] = int(positions.get("entries", 0))
        out["exposure"] = float(positions.get("exposure", 0.0))
    return out


def trading_view(
    oos: pd.DataFrame,
    threshold: float = 0.55,
    costs: B3Costs = B3_DEFAULT,
    *,
    capital: float = 100_000.0,
) -> dict:
    """Out-of-sample long/flat strategy from a model's predictions vs buy-and-hold.

    Parameters
    ----------
    oos : pandas.DataFrame
        Columns ``date, ticker, p_up, fwd_ret`` (``ModelEvaluation.oos``).
    threshold : float
        Go long when ``p_up ≥ threshold`` (0..1).
    costs : B3Costs
        Fees and slippage.
    capital : float
        R$ per ticker, only to turn the fixed brokerage into a fraction.

    Returns
    -------
    dict
        ``strategy`` and ``buy_hold``: :func:`performance` dicts; ``equity``: DataFrame
        ``date, strategy, buy_hold`` (growth of R$ 1); ``threshold``.

    Raises
    ------
    InputError
        On a threshold outside [0, 1] or missing columns.
    """
    if not 0 <= threshold <= 1:
        raise InputError("O limiar de probabilidade deve estar entre 0 e 1.")
    missing = {"date", "ticker", "p_up", "fwd_ret"} - set(oos.columns)
    if missing:
        raise InputError(f"Previsões sem as colunas {sorted(missing)}.")
    unit = costs.swing_fee_rate + costs.slippage_bps / 10_000 + costs.brokerage_per_order / capital
    parts, bh_parts = [], []
    entries = 0
    long_days = 0
    for _, g in oos.sort_values("date").groupby("ticker", sort=True):
        pos = (g["p_up"].to_numpy() >= threshold).astype(float)
        prev = np.concatenate([[0.0], pos[:-1]])
        nxt_exit = np.zeros_like(pos)
        nxt_exit[-1] = pos[-1]  # close the position at the end
        ret = pos * g["fwd_ret"].to_numpy() - unit * (np.abs(pos - prev) + nxt_exit)
        entries += int(((pos == 1) & (prev == 0)).sum())
        long_days += int(pos.sum())
        parts.append(pd.Series(ret, index=pd.DatetimeIndex(g["date"])))
        bh = g["fwd_ret"].to_numpy().copy()
        bh[0] -= unit
        bh[-1] -= unit
        bh_parts.append(pd.Series(bh, index=pd.DatetimeIndex(g["date"])))
    strat = pd.concat(parts).groupby(level=0).mean().sort_index()
    bh = pd.concat(bh_parts).groupby(level=0).mean().sort_index()
    equity = pd.DataFrame(
        {
            "date": strat.index,
            "strategy": (1 + strat).cumprod().to_numpy(),
            "buy_hold": (1 + bh).cumprod().to_numpy(),
        }
    )
    return {
        "threshold": threshold,
        "strategy": performance(
            strat, {"entries": entries, "exposure": long_days / max(len(oos), 1)}
        ),
        "buy_hold": performance(bh, {"entries": oos["ticker"].nunique(), "exposure": 1.0}),
        "equity": equity,
    }
