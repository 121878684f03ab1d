"""The portfolio against ^BVSP: in-sample metrics and an honest out-of-sample check.

In-sample metrics (:func:`benchmark_metrics`) use daily returns of the fixed-weight
portfolio (rebalanced daily to the weights) and of ^BVSP on the same sessions:

* beta = cov(r_p, r_m) / var(r_m);
* alpha (Jensen 1968), annual: ``252·mean(r_p - r_f) - beta·252·mean(r_m - r_f)``;
* tracking error = ``std(r_p - r_m)·√252``; information ratio = ``252·mean(r_p - r_m) / TE``.

The out-of-sample check (:func:`out_of_sample`) estimates the weights on a training window
only, then holds them over the following test window (optionally rebalancing monthly or
quarterly) with B3 costs on every traded R$, beside equal weight (same rules) and ^BVSP
(buy and hold, no costs). Nothing from the test window reaches the estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.backtest.costs import B3_DEFAULT, B3Costs
from core.data.history import common_history
from core.data.store import Store
from core.errors import InputError
from core.portfolio.inputs import BENCHMARK, inputs_from_prices
from core.portfolio.optimize import PortfolioSpec, optimize_portfolio
from core.rates import PERIODS_PER_YEAR, cdi_annual, cdi_daily_returns

__all__ = [
    "REBALANCE",
    "benchmark_metrics",
    "simulate_weights",
    "rebalance_mask",
    "series_stats",
    "OutOfSample",
    "out_of_sample",
]

#: Rebalancing frequencies and their pt-BR labels.
REBALANCE = {"none": "Sem rebalanceamento", "monthly": "Mensal", "quarterly": "Trimestral"}

Progress = Callable[[float, str], None]


def _daily_rf(rf_annual: float) -> float:
    return (1.0 + rf_annual) ** (1.0 / PERIODS_PER_YEAR) - 1.0


def benchmark_metrics(
    weights: pd.Series, prices: pd.DataFrame, benchmark: pd.Series, rf_annual: float
) -> dict:
    """Beta, alpha, tracking error and information ratio of ``weights`` against ``benchmark``.

    Parameters
    ----------
    weights : pandas.Series
        ``(n_assets,)`` fractions summing to 1.
    prices : pandas.DataFrame
        ``(n_dates, n_assets)`` adjusted closes.
    benchmark : pandas.Series
        ``(n_dates,)`` ^BVSP closes on the same index.
    rf_annual : float
        Annual risk-free rate (fraction), compounded to a daily rate.

    Returns
    -------
    dict
        ``beta``, ``alpha`` (annual fraction), ``tracking_error`` (annual fraction),
        ``information_ratio``, ``correlation``, ``realised_return``/``benchmark_return``
        (annualised arithmetic mean × 252) and ``realised_volatility``/
        ``benchmark_volatility`` (annual), ``n`` (daily returns used).
    """
    r = prices.pct_change().iloc[1:].to_numpy()
    rp = r @ weights.reindex(prices.columns).fillna(0.0).to_numpy()
    rm = benchmark.pct_change().iloc[1:].to_numpy()
    rf = _daily_rf(rf_annual)
    var_m = float(np.var(rm, ddof=1))
    beta = float(np.cov(rp, rm, ddof=1)[0, 1] / var_m) if var_m > 0 else float("nan")
    alpha = PERIODS_PER_YEAR * float(np.mean(rp - rf)) - beta * PERIODS_PER_YEAR * float(
        np.mean(rm - rf)
    )
    active = rp - rm
    te = float(np.std(active, ddof=1) * np.sqrt(PERIODS_PER_YEAR))
    ir = float(np.mean(active) * PERIODS_PER_YEAR / te) if te > 0 else float("nan")
    return {
        "beta": beta,
        "alpha": float(alpha),
        "tracking_error": te,
        "information_ratio": ir,
        "correlation": float(np.corrcoef(rp, rm)[0, 1]),
        "realised_return": float(np.mean(rp) * PERIODS_PER_YEAR),
        "realised_volatility": float(np.std(rp, ddof=1) * np.sqrt(PERIODS_PER_YEAR)),
        "benchmark_return": float(np.mean(rm) * PERIODS_PER_YEAR),
        "benchmark_volatility": float(np.std(rm, ddof=1) * np.sqrt(PERIODS_PER_YEAR)),
        "n": int(len(rp)),
    }


def rebalance_mask(index: pd.DatetimeIndex, frequency: str) -> np.ndarray:
    """Boolean ``(n_dates,)``: True on the first session of each new month/quarter.

    The first session (the purchase) is never flagged. ``frequency`` is a key of
    :data:`REBALANCE`.
    """
    if frequency not in REBALANCE:
        raise InputError(
            f"Rebalanceamento desconhecido {frequency!r}; use: {', '.join(REBALANCE)}."
        )
    mask = np.zeros(len(index), dtype=bool)
    if frequency == "none" or len(index) < 2:
        return mask
    key = index.month if frequency == "monthly" else (index.month - 1) // 3
    period = index.year * 100 + key
    mask[1:] = np.asarray(period[1:]) != np.asarray(period[:-1])
    return mask


def simulate_weights(
    prices: np.ndarray,
    target: np.ndarray,
    mask: np.ndarray,
    *,
    capital: float = 1.0,
    costs: B3Costs = B3_DEFAULT,
) -> tuple[np.ndarray, float, int]:
    """Equity of a portfolio bought at ``target`` weights on day 0 and rebalanced on ``mask``.

    Numeric kernel (arrays in, arrays out). Every traded R$ pays ``slippage_bps`` plus the
    B3 swing-trade fee rate; each order (asset traded on a day) pays the brokerage. On a
    rebalance day the trades are those that restore ``target`` at the day's close; the
    cost is taken from equity before re-weighting (one-pass approximation: the cost's own
    rebalancing is ignored, a second-order effect of < 0.01 % of equity).

    Parameters
    ----------
    prices : ndarray
        ``(n_dates, n_assets)`` adjusted closes (R$).
    target : ndarray
        ``(n_assets,)`` weights summing to 1.
    mask : ndarray of bool
        ``(n_dates,)`` rebalance days (see :func:`rebalance_mask`).
    capital : float
        Starting R$.

    Returns
    -------
    equity : ndarray
        ``(n_dates,)`` R$ after costs at each close.
    total_costs : float
        R$ paid.
    n_orders : int
    """
    rate = costs.slippage_bps / 10_000.0 + costs.swing_fee_rate
    brok = costs.brokerage_per_order
    n_orders = int((np.abs(target) > 0).sum())
    cost0 = brok * n_orders
    # Costs are charged on the gross traded value: for a long-short target that is
    # sum(|w|) x invest, not the net sum(w) = 1 (borrow fees on shorts are not modelled).
    gross = float(np.abs(target).sum())
    invest = (capital - cost0) / (1.0 + rate * gross)
    pos = target * invest
    total = capital - invest
    equity = np.empty(len(prices))
    equity[0] = pos.sum()
    for t in range(1, len(prices)):
        pos = pos * (prices[t] / prices[t - 1])
        e = pos.sum()
        if mask[t]:
            trades = np.abs(target * e - pos)
            traded = trades > 1e-9 * max(e, 1.0)
            c = rate * trades.sum() + brok * int(traded.sum())
            n_orders += int(traded.sum())
            total += c
            e -= c
            pos = target * e
        equity[t] = e
    return equity, float(total), n_orders


def _drawdown(eq: np.ndarray) -> np.ndarray:
    return eq / np.maximum.accumulate(eq) - 1.0


def series_stats(equity: pd.Series, rf_daily: pd.Series) -> dict:
    """Total and annual return, volatility, Sharpe (vs CDI) and max drawdown of an equity curve.

    Returns
    -------
    dict
        ``total_return``, ``cagr`` (annual, 252 sessions), ``volatility`` (annual),
        ``sharpe`` (annualised mean daily excess return over CDI / annual vol),
        ``max_drawdown`` (negative fraction), ``n`` (daily returns).
    """
    r = equity.pct_change().iloc[1:]
    ex = r - rf_daily.reindex(r.index).fillna(0.0)
    n = len(r)
    vol = float(r.std(ddof=1) * np.sqrt(PERIODS_PER_YEAR)) if n > 1 else float("nan")
    total = float(equity.iloc[-1] / equity.iloc[0] - 1.0)
    return {
        "total_return": total,
        "cagr": float((1 + total) ** (PERIODS_PER_YEAR / max(n, 1)) - 1.0),
        "volatility": vol,
        "sharpe": float(ex.mean() * PERIODS_PER_YEAR / vol) if vol and vol > 0 else float("nan"),
        "max_drawdown": float(_drawdown(equity.to_numpy()).min()),
        "n": int(n),
    }


def _active_ci(a: pd.Series, b: pd.Series) -> dict:
    """Annualised mean daily return difference with a 95 % normal-approximation CI."""
    d = (a.pct_change() - b.pct_change()).iloc[1:].to_numpy()
    n = len(d)
    m = float(d.mean()) * PERIODS_PER_YEAR
    se = float(d.std(ddof=1) / np.sqrt(n)) * PERIODS_PER_YEAR if n > 1 else float("nan")
    return {"mean": m, "ci_low": m - 1.96 * se, "ci_high": m + 1.96 * se, "n": int(n)}


@dataclass(frozen=True)
class OutOfSample:
    """Result of :func:`out_of_sample`.

    Attributes
    ----------
    equity : pandas.DataFrame
        ``(n_test_dates, 3)`` R$ equity of ``Carteira``, ``Pesos iguais`` and ``^BVSP``
        (index rescaled to the same starting capital), index ``date``; the first row is the
        last training session (the purchase).
    drawdown : pandas.DataFrame
        Same shape, drawdown from the running peak (negative fractions).
    weights : pandas.Series
        Weights estimated on the training window.
    stats : dict of str -> dict
        :func:`series_stats` per column, plus ``costs`` and ``orders`` for the two
        portfolios.
    active : dict
        Annualised mean daily return of the portfolio minus ^BVSP and minus equal weight,
        each with a 95 % CI and n.
    train, test : dict
        ``{"start", "end", "sessions"}``.
    rebalance : str
    """

    equity: pd.DataFrame
    drawdown: pd.DataFrame
    weights: pd.Series
    stats: dict
    active: dict
    train: dict
    test: dict
    rebalance: str
    notes: list = field(default_factory=list)


def _span(idx: pd.DatetimeIndex) -> dict:
    return {
        "start": idx[0].strftime("%Y-%m-%d"),
        "end": idx[-1].strftime("%Y-%m-%d"),
        "sessions": int(len(idx)),
    }


def out_of_sample(
    store: Store,
    tickers: Sequence[str],
    spec: PortfolioSpec,
    *,
    start=None,
    end=None,
    split=None,
    train_fraction: float = 0.7,
    returns_method: str = "mean_historical",
    risk_model: str = "ledoit_wolf",
    risk_free: float | None = None,
    rebalance: str = "none",
    costs: B3Costs = B3_DEFAULT,
    capital: float = 100_000.0,
    progress: Progress | None = None,
) -> OutOfSample:
    """Estimate on a training window, hold over the later test window, compare with ^BVSP.

    Superseded by :func:`core.portfolio.walkforward.walk_forward` (re-optimised at each
    rebalance, point-in-time universe, taxes), which the page and the CLI use; kept for
    callers that want exactly one split. The tickers are the caller's: if they were chosen
    with data from the test window (e.g. today's liquidity) the result is optimistic, and
    all bundled stocks are survivors (noted in the result).

    Parameters
    ----------
    store : Store
    tickers : sequence of str
    spec : PortfolioSpec
        The same objective and constraints as the in-sample portfolio.
    start, end : date-like, optional
        Bounds of the common history (train + test).
    split : date-like, optional
        First test session (sessions before it train). Default: ``train_fraction`` of the
        common sessions.
    train_fraction : float
        Used when ``split`` is None (0.2–0.95).
    returns_method, risk_model : str
    risk_free : float, optional
        Annual fraction for the training estimate; None = CDI over the training window.
        Test-window Sharpe ratios always use the realised daily CDI.
    rebalance : {"none", "monthly", "quarterly"}
    costs : B3Costs
    capital : float
        Starting R$ (matters only for brokerage per order).
    progress : callable, optional

    Returns
    -------
    OutOfSample

    Raises
    ------
    InputError
        Windows with fewer than 60 training or 20 test sessions, bad fraction, or any
        optimisation error on the training window.
    """
    if split is None and not 0.2 <= train_fraction <= 0.95:
        raise InputError("A fração de treino deve ficar entre 20% e 95%.")
    uniq = [t for t in dict.fromkeys(t.strip().upper() for t in tickers) if t != BENCHMARK]
    hist = common_history(store, [*uniq, BENCHMARK], start, end, min_sessions=80)
    prices = hist.prices
    idx = prices.index
    if split is None:
        k = int(round(len(idx) * train_fraction))
    else:
        k = int(idx.searchsorted(pd.Timestamp(split)))
    if k < 60 or len(idx) - k < 20:
        raise InputError(
            f"Treino com {k} pregões e teste com {len(idx) - k}: são necessários pelo menos "
            "60 e 20. Mude a data de corte ou amplie a janela."
        )
    train = prices.iloc[:k]
    # The test curve starts at the last training close (day 0 = purchase).
    test = prices.iloc[k - 1 :]
    if progress:
        progress(0.1, "Estimando pesos no período de treino")
    rf = cdi_annual(store, train.index[0], train.index[-1]) if risk_free is None else risk_free
    tr_inputs = inputs_from_prices(
        train[uniq],
        train[BENCHMARK],
        risk_free=rf,
        risk_free_source="CDI" if risk_free is None else "usuário",
        returns_method=returns_method,
        risk_model=risk_model,
    )
    port = optimize_portfolio(tr_inputs, spec)
    w = port.weights.reindex(uniq).fillna(0.0).to_numpy()
    w = np.clip(w, 0.0, None) if (w >= -1e-9).all() else w
    w = w / w.sum()
    if progress:
        progress(0.5, "Simulando o período de teste")
    mask = rebalance_mask(test.index, rebalance)
    px = test[uniq].to_numpy()
    eq_p, cost_p, ord_p = simulate_weights(px, w, mask, capital=capital, costs=costs)
    ew = np.full(len(uniq), 1.0 / len(uniq))
    eq_e, cost_e, ord_e = simulate_weights(px, ew, mask, capital=capital, costs=costs)
    bench = test[BENCHMARK].to_numpy()
    eq_b = capital * bench / bench[0]
    equity = pd.DataFrame(
        {"Carteira": eq_p, "Pesos iguais": eq_e, BENCHMARK: eq_b}, index=test.index
    )
    drawdown = equity.apply(lambda s: pd.Series(_drawdown(s.to_numpy()), index=s.index))
    rf_d = cdi_daily_returns(store, test.index)
    stats = {c: series_stats(equity[c], rf_d) for c in equity.columns}
    stats["Carteira"].update(costs=cost_p, orders=ord_p)
    stats["Pesos iguais"].update(costs=cost_e, orders=ord_e)
    active = {
        "vs_benchmark": _active_ci(equity["Carteira"], equity[BENCHMARK]),
        "vs_equal_weight": _active_ci(equity["Carteira"], equity["Pesos iguais"]),
    }
    if progress:
        progress(1.0, "Teste fora da amostra concluído")
    return OutOfSample(
        equity=equity,
        drawdown=drawdown,
        weights=pd.Series(w, index=uniq, name="weight"),
        stats=stats,
        active=active,
        train=_span(train.index),
        test=_span(test.index[1:]),
        rebalance=rebalance,
        notes=[
            *port.notes,
            "Viés de sobrevivência: todas as ações do banco embutido ainda são negociadas hoje.",
        ],
    )
