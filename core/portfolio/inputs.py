"""Inputs of a portfolio optimisation: prices on a common history, expected returns, risk model.

Conventions (fixed for the whole :mod:`core.portfolio` package)
---------------------------------------------------------------
* Prices are daily **adjusted** closes in R$ (``adj_close``: split- and dividend-adjusted),
  aligned by :func:`core.data.history.common_history` to the sessions every chosen ticker
  *and* the benchmark (^BVSP) share.
* Returns are simple daily returns as fractions; every annualisation uses
  ``PERIODS_PER_YEAR = 252`` B3 sessions.
* Expected returns are **arithmetic** annualised means (mean daily return × 252,
  PyPortfolioOpt ``compounding=False``) and covariances annual fractions, computed by
  PyPortfolioOpt (``pypfopt.expected_returns``, ``pypfopt.risk_models``) on the stock prices
  only, so they equal a direct library call on the same frame. Arithmetic means combine
  linearly (``μ_p = wᵀμ``), which geometric CAGRs do not: mixing the two made equal weight
  look worse than its own realised series and pushed the tangency portfolio to a corner.
* Every return shown beside an arithmetic mean also gets its geometric approximation
  (Booth & Fama 1992, "Diversification returns and asset contributions", *Financial Analysts
  Journal* 48(3)): the continuously compounded growth rate ``g ≈ μ − σ²/2`` and the annual
  CAGR it implies, ``exp(g) − 1`` (:func:`geometric_return`), alike for assets, portfolios
  and ^BVSP.
* The risk-free rate is the CDI compounded over the window (:func:`core.rates.cdi_annual`),
  unless the caller overrides it. Never PyPortfolioOpt's 2 % default. Sharpe ratios and the
  tangency portfolio use its arithmetic equivalent ``252·((1+rf)^(1/252) − 1)``
  (:attr:`PortfolioInputs.risk_free_arithmetic`), the same unit as μ; the semicovariance's
  downside benchmark is the window's daily CDI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pypfopt import expected_returns as pf_returns
from pypfopt import risk_models as pf_risk

from core.data.history import common_history
from core.data.store import Store
from core.errors import InputError
from core.rates import PERIODS_PER_YEAR, cdi_annual

__all__ = [
    "BENCHMARK",
    "RETURN_METHODS",
    "RISK_MODELS",
    "PortfolioInputs",
    "estimate_returns",
    "estimate_risk",
    "geometric_return",
    "growth_rate",
    "arithmetic_rate",
    "prepare_inputs",
    "inputs_from_prices",
    "most_liquid",
]

#: The reference index.
BENCHMARK = "^BVSP"
#: Expected-return estimators (PyPortfolioOpt names) and their pt-BR labels.
RETURN_METHODS: dict[str, str] = {
    "mean_historical": "Média histórica (aritmética)",
    "ema": "Média exponencial (span 500, aritmética)",
    "capm": "CAPM vs ^BVSP",
}
#: Risk models (PyPortfolioOpt names) and their pt-BR labels.
RISK_MODELS: dict[str, str] = {
    "sample_cov": "Covariância amostral",
    "ledoit_wolf": "Ledoit-Wolf (encolhimento)",
    "exp_cov": "Covariância exponencial (span 180)",
    "semicovariance": "Semicovariância (abaixo do CDI)",
}


def daily_rate(annual: float) -> float:
    """Daily rate equivalent to an annual compounded rate over 252 sessions (fraction)."""
    return (1.0 + float(annual)) ** (1.0 / PERIODS_PER_YEAR) - 1.0


def arithmetic_rate(annual: float) -> float:
    """Arithmetic annualisation (× 252) of the daily rate equivalent to ``annual``.

    The CDI is quoted compounded (``(1 + daily)^252 − 1``); an arithmetic annual mean return
    must be compared with ``252 · daily``, its arithmetic counterpart (slightly lower).
    """
    return PERIODS_PER_YEAR * daily_rate(annual)


def growth_rate(mu, volatility):
    """Booth & Fama (1992) geometric approximation ``g = μ − σ²/2`` (annual, continuous).

    Parameters
    ----------
    mu : float or array-like
        Arithmetic annual mean return (fraction).
    volatility : float or array-like
        Annual volatility (fraction).

    Returns
    -------
    float or ndarray
        The continuously compounded annual growth rate the pair implies.
    """
    return np.asarray(mu, dtype=float) - 0.5 * np.asarray(volatility, dtype=float) ** 2


def geometric_return(mu, volatility):
    """Annual CAGR implied by ``μ`` and ``σ``: ``exp(μ − σ²/2) − 1`` (Booth & Fama 1992).

    This is the figure to compare with a realised compound annual growth rate (CAGR).
    """
    g = growth_rate(mu, volatility)
    out = np.expm1(g)
    return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class PortfolioInputs:
    """Everything an optimiser needs, on one common window.

    Attributes
    ----------
    prices : pandas.DataFrame
        ``(n_dates, n_assets)`` adjusted closes in R$ of the chosen stocks.
    benchmark : pandas.Series
        ``(n_dates,)`` ^BVSP closes in points on the same dates.
    mu : pandas.Series
        ``(n_assets,)`` expected annual returns (fractions).
    cov : pandas.DataFrame
        ``(n_assets, n_assets)`` annual covariance (fractions²).
    risk_free : float
        Annual risk-free rate (fraction): CDI over the window unless overridden.
    risk_free_source : str
        ``"CDI"`` or ``"usuário"``.
    returns_method, risk_model : str
        Keys of :data:`RETURN_METHODS` and :data:`RISK_MODELS`.
    start, end : Timestamp
        First and last shared session.
    limiting_ticker : str
        The ticker whose history starts last.
    first_dates : dict
        Each ticker's own first date.
    """

    prices: pd.DataFrame
    benchmark: pd.Series
    mu: pd.Series
    cov: pd.DataFrame
    risk_free: float
    risk_free_source: str
    returns_method: str
    risk_model: str
    start: pd.Timestamp
    end: pd.Timestamp
    limiting_ticker: str
    first_dates: dict = field(default_factory=dict)

    @property
    def risk_free_arithmetic(self) -> float:
        """``risk_free`` on the arithmetic scale of μ (``252 × daily``), used for Sharpe."""
        return arithmetic_rate(self.risk_free)

    @property
    def tickers(self) -> list[str]:
        """The assets, in column order."""
        return list(self.prices.columns)

    @property
    def returns(self) -> pd.DataFrame:
        """``(n_dates - 1, n_assets)`` simple daily returns (fractions)."""
        return self.prices.pct_change().iloc[1:]

    @property
    def n_sessions(self) -> int:
        """Number of shared sessions."""
        return len(self.prices)

    def window(self) -> dict:
        """The window as plain data (JSON-ready)."""
        return {
            "start": self.start.strftime("%Y-%m-%d"),
            "end": self.end.strftime("%Y-%m-%d"),
            "sessions": int(self.n_sessions),
            "limiting_ticker": self.limiting_ticker,
            "first_dates": {
                t: pd.Timestamp(d).strftime("%Y-%m-%d") for t, d in self.first_dates.items()
            },
            "risk_free": float(self.risk_free),
            "risk_free_arithmetic": float(self.risk_free_arithmetic),
            "risk_free_source": self.risk_free_source,
            "returns_method": self.returns_method,
            "risk_model": self.risk_model,
        }


def estimate_returns(
    prices: pd.DataFrame,
    method: str = "mean_historical",
    *,
    market_prices: pd.Series | None = None,
    risk_free: float = 0.0,
) -> pd.Series:
    """Expected annual returns with PyPortfolioOpt.

    Parameters
    ----------
    prices : pandas.DataFrame
        ``(n_dates, n_assets)`` adjusted closes.
    method : {"mean_historical", "ema", "capm"}
        ``mean_historical``: arithmetic mean daily return × 252;
        ``ema``: exponentially weighted mean daily return (span 500) × 252;
        ``capm``: ``rf + beta_i (E[R_m] - rf)`` against ``market_prices`` (Sharpe 1964),
        with ``E[R_m]`` the market's arithmetic mean daily return × 252.
        All with PyPortfolioOpt ``compounding=False``.
    market_prices : pandas.Series, optional
        Benchmark closes (required for ``capm``).
    risk_free : float
        Annual risk-free rate on the arithmetic scale (used by ``capm``).

    Returns
    -------
    pandas.Series
        ``(n_assets,)`` arithmetic annual means (fractions).

    Raises
    ------
    InputError
        Unknown method, or ``capm`` without market prices.
    """
    if method == "mean_historical":
        return pf_returns.mean_historical_return(
            prices, compounding=False, frequency=PERIODS_PER_YEAR
        )
    if method == "ema":
        return pf_returns.ema_historical_return(
            prices, compounding=False, frequency=PERIODS_PER_YEAR
        )
    if method == "capm":
        if market_prices is None:
            raise InputError("CAPM precisa da série do ^BVSP.")
        return pf_returns.capm_return(
            prices,
            market_prices=market_prices.to_frame("mkt"),
            risk_free_rate=risk_free,
            compounding=False,
            frequency=PERIODS_PER_YEAR,
        )
    raise InputError(
        f"Estimador de retorno desconhecido {method!r}; use um de: {', '.join(RETURN_METHODS)}."
    )


def estimate_risk(
    prices: pd.DataFrame, model: str = "ledoit_wolf", *, risk_free: float = 0.0
) -> pd.DataFrame:
    """Annual covariance matrix with PyPortfolioOpt.

    Parameters
    ----------
    prices : pandas.DataFrame
        ``(n_dates, n_assets)`` adjusted closes.
    model : {"sample_cov", "ledoit_wolf", "exp_cov", "semicovariance"}
        ``sample_cov``: sample covariance × 252; ``ledoit_wolf``: Ledoit & Wolf (2004)
        shrinkage towards constant variance; ``exp_cov``: exponentially weighted (span 180);
        ``semicovariance``: downside covariance of returns below the daily equivalent of
        ``risk_free`` (Estrada 2007) — the window's CDI, never the library's ~2 % a year.
    risk_free : float
        Annual compounded risk-free rate (fraction); the semicovariance benchmark.

    Returns
    -------
    pandas.DataFrame
        ``(n_assets, n_assets)`` annual covariance.

    Raises
    ------
    InputError
        Unknown model.
    """
    if model == "sample_cov":
        return pf_risk.sample_cov(prices, frequency=PERIODS_PER_YEAR)
    if model == "ledoit_wolf":
        return pf_risk.CovarianceShrinkage(prices, frequency=PERIODS_PER_YEAR).ledoit_wolf()
    if model == "exp_cov":
        return pf_risk.exp_cov(prices, frequency=PERIODS_PER_YEAR)
    if model == "semicovariance":
        return pf_risk.semicovariance(
            prices, benchmark=daily_rate(risk_free), frequency=PERIODS_PER_YEAR
        )
    raise InputError(
        f"Modelo de risco desconhecido {model!r}; use um de: {', '.join(RISK_MODELS)}."
    )


def inputs_from_prices(
    prices: pd.DataFrame,
    benchmark: pd.Series,
    *,
    risk_free: float,
    risk_free_source: str = "usuário",
    returns_method: str = "mean_historical",
    risk_model: str = "ledoit_wolf",
    limiting_ticker: str | None = None,
    first_dates: dict | None = None,
) -> PortfolioInputs:
    """Build :class:`PortfolioInputs` from already aligned prices (no store needed).

    Parameters
    ----------
    prices : pandas.DataFrame
        ``(n_dates, n_assets)`` adjusted closes without NaN.
    benchmark : pandas.Series
        ``(n_dates,)`` benchmark closes on the same index.
    risk_free : float
        Annual fraction.

    Raises
    ------
    InputError
        Fewer than 2 assets or 30 sessions, NaN in the prices, an asset whose price never
        moves in the window (zero variance), unknown estimator.
    """
    if prices.shape[1] < 2:
        raise InputError("Escolha pelo menos 2 ações para montar uma carteira.")
    if len(prices) < 30:
        raise InputError(
            f"Só {len(prices)} pregões em comum; são necessários pelo menos 30. "
            "Amplie a janela ou troque o ticker que limita o período."
        )
    if prices.isna().any().any():
        raise InputError("Há preços faltando na história comum.")
    if not np.isfinite(risk_free) or not -0.5 < risk_free < 2.0:
        raise InputError(f"Taxa livre de risco fora do razoável: {risk_free!r} (use fração anual).")
    flat = [str(t) for t in prices.columns if float(prices[t].pct_change().iloc[1:].std()) == 0.0]
    if flat:
        raise InputError(
            f"{', '.join(flat)}: preço constante em toda a janela "
            f"({prices.index[0]:%d/%m/%Y} a {prices.index[-1]:%d/%m/%Y}), sem negociação "
            "que mova o preço (volatilidade zero). Remova da carteira ou escolha outra janela."
        )
    mu = estimate_returns(
        prices, returns_method, market_prices=benchmark, risk_free=arithmetic_rate(risk_free)
    )
    cov = estimate_risk(prices, risk_model, risk_free=risk_free)
    return PortfolioInputs(
        prices=prices,
        benchmark=benchmark,
        mu=mu,
        cov=cov,
        risk_free=float(risk_free),
        risk_free_source=risk_free_source,
        returns_method=returns_method,
        risk_model=risk_model,
        start=prices.index[0],
        end=prices.index[-1],
        limiting_ticker=limiting_ticker or str(prices.columns[0]),
        first_dates=dict(first_dates or {t: prices.index[0] for t in prices.columns}),
    )


def prepare_inputs(
    store: Store,
    tickers: Sequence[str],
    start=None,
    end=None,
    *,
    returns_method: str = "mean_historical",
    risk_model: str = "ledoit_wolf",
    risk_free: float | None = None,
) -> PortfolioInputs:
    """Prices of ``tickers`` and ^BVSP on their common history, with estimates.

    Parameters
    ----------
    store : Store
    tickers : sequence of str
        Stocks (at least 2; ^BVSP is added as the benchmark, never as an asset).
    start, end : date-like, optional
        Inclusive bounds before aligning.
    returns_method, risk_model : str
        See :func:`estimate_returns` and :func:`estimate_risk`.
    risk_free : float, optional
        Annual fraction; ``None`` = CDI compounded over the common window.

    Returns
    -------
    PortfolioInputs

    Raises
    ------
    InputError
        Too few tickers or sessions, inverted dates, unknown estimator.
    UnknownTickerError
        A ticker is not stored.
    """
    uniq = [t for t in dict.fromkeys(t.strip().upper() for t in tickers if t and t.strip())]
    uniq = [t for t in uniq if t != BENCHMARK]
    if len(uniq) < 2:
        raise InputError("Escolha pelo menos 2 ações para montar uma carteira.")
    if start is not None and end is not None and pd.Timestamp(start) > pd.Timestamp(end):
        raise InputError("Janela invertida: a data inicial é depois da final.")
    hist = common_history(store, [*uniq, BENCHMARK], start, end, min_sessions=30)
    prices = hist.prices[uniq]
    bench = hist.prices[BENCHMARK].rename(BENCHMARK)
    firsts = {t: hist.first_dates[t] for t in uniq}
    # The window is set by the stocks; ^BVSP covers the whole bundled span.
    limiting = max(uniq, key=lambda t: firsts[t])
    if risk_free is None:
        rf, source = cdi_annual(store, hist.start, hist.end), "CDI"
    else:
        rf, source = float(risk_free), "usuário"
    return inputs_from_prices(
        prices,
        bench,
        risk_free=rf,
        risk_free_source=source,
        returns_method=returns_method,
        risk_model=risk_model,
        limiting_ticker=limiting,
        first_dates=firsts,
    )


def most_liquid(
    store: Store,
    n: int = 10,
    *,
    lookback: int = PERIODS_PER_YEAR,
    end=None,
    min_history: int = 3 * PERIODS_PER_YEAR,
) -> list[str]:
    """The ``n`` stocks with the largest median traded value over their last ``lookback`` bars.

    Traded value of a session = ``close × volume`` in R$ (traded, unadjusted close).

    Parameters
    ----------
    store : Store
    n : int
        How many to return.
    lookback : int
        Sessions per ticker (252 = about a year).
    end : date-like, optional
        Last date considered (default: each ticker's last bar).
    min_history : int
        Fewest daily bars a stock needs to be a default choice (756 ≈ 3 years), so that one
        freshly imported short history cannot shrink the common window of the defaults.

    Returns
    -------
    list of str
        Stock tickers, most liquid first (ties broken by ticker).
    """
    e = None if end is None else pd.Timestamp(end)
    key = ("portfolio.most_liquid", n, lookback, e, min_history)
    return store.cached(key, lambda: _most_liquid(store, n, lookback, end, min_history))


def _most_liquid(store: Store, n: int, lookback: int, end, min_history: int) -> list[str]:
    values = []
    for t in store.tickers("stock"):
        bars = store.bars(t, None, end)
        if len(bars) < min_history:
            continue
        tail = bars.iloc[-lookback:]
        values.append((t, float((tail["close"] * tail["volume"]).median())))
    values.sort(key=lambda x: (-x[1], x[0]))
    return [t for t, _ in values[:n]]
