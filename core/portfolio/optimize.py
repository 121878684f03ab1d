"""Portfolio optimisation and the efficient frontier, on PyPortfolioOpt.

Every objective is solved by PyPortfolioOpt (cvxpy underneath), so the weights equal a
direct library call on the same inputs; this module adds input validation with messages
that say what is feasible, the Black-Litterman blend, and the frontier sweep.

Units: weights are fractions of the portfolio (sum 1; a weight below
:data:`WEIGHT_EPS` in absolute value is reported as exactly 0 and the rest renormalised);
expected returns are arithmetic annual means and volatilities annual (252 sessions);
Sharpe = (E[R] − rf) / σ with rf on the same arithmetic scale
(:attr:`~core.portfolio.inputs.PortfolioInputs.risk_free_arithmetic`). Each portfolio also
carries its geometric approximation (Booth & Fama 1992), see
:func:`core.portfolio.inputs.geometric_return`.

Black-Litterman views are annual expected returns as **fractions** (0.20 = 20 % a year);
:func:`validate_views` rejects values outside :data:`VIEW_RANGE` so that a view typed in
percent ("PETR4=20") but passed unconverted (20 = 2000 %) is refused instead of optimised.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pypfopt import EfficientCVaR, EfficientFrontier, HRPOpt, objective_functions
from pypfopt.base_optimizer import portfolio_performance
from pypfopt.black_litterman import BlackLittermanModel
from pypfopt.exceptions import OptimizationError

from core.errors import InputError
from core.portfolio.inputs import (
    PortfolioInputs,
    estimate_returns,
    geometric_return,
    growth_rate,
)
from core.rates import PERIODS_PER_YEAR
from core.textfmt import pct

__all__ = [
    "OBJECTIVES",
    "PortfolioSpec",
    "OptimizedPortfolio",
    "FrontierPoint",
    "Frontier",
    "WEIGHT_EPS",
    "VIEW_RANGE",
    "validate_views",
    "clean_weights",
    "asset_bounds",
    "feasible_return_range",
    "expected_returns_for",
    "optimize_portfolio",
    "efficient_frontier",
    "performance",
]

#: Objectives and their pt-BR labels.
OBJECTIVES: dict[str, str] = {
    "max_sharpe": "Máximo Sharpe (tangente)",
    "min_volatility": "Mínima volatilidade",
    "efficient_return": "Retorno-alvo (mín. risco)",
    "efficient_risk": "Volatilidade-alvo (máx. retorno)",
    "max_quadratic_utility": "Máxima utilidade quadrática",
    "hrp": "Hierarchical Risk Parity",
    "min_cvar": "Mínimo CVaR",
}

Progress = Callable[[float, str], None]

#: Weights smaller than this (absolute) are solver noise: reported as 0.
WEIGHT_EPS = 1e-6
#: Accepted Black-Litterman views, annual expected return as a fraction (exclusive low,
#: inclusive high): −100 % (a total loss) to +300 % a year.
VIEW_RANGE = (-1.0, 3.0)

#: cvxpy solver of the frontier sweep.
FRONTIER_SOLVER = "CLARABEL"


@dataclass(frozen=True)
class PortfolioSpec:
    """What to optimise.

    Parameters
    ----------
    objective : str
        A key of :data:`OBJECTIVES`.
    target : float, optional
        Annual target return (``efficient_return``) or annual target volatility
        (``efficient_risk``), as a fraction.
    bounds : (float, float)
        Min and max weight of every asset (long-only ``(0, 1)`` by default).
    per_asset_bounds : mapping of str -> (float, float)
        Overrides of ``bounds`` for some assets.
    gamma : float
        L2 regularisation strength (``gamma * ||w||²``, PyPortfolioOpt ``L2_reg``); 0 = off.
        Pushes towards more non-zero weights.
    risk_aversion : float
        δ of ``max_quadratic_utility`` (maximises ``wᵀμ - δ/2 wᵀΣw``).
    cvar_beta : float
        Confidence level of ``min_cvar`` (0.95 = mean loss on the worst 5 % of days).
    views : mapping of str -> float, optional
        Black-Litterman absolute views: annual expected return per asset. When given, μ is
        the Black-Litterman posterior (He & Litterman 1999 Ω) with the chosen estimator as
        prior, and the objective runs on it.
    bl_tau : float
        Black-Litterman τ.
    """

    objective: str = "max_sharpe"
    target: float | None = None
    bounds: tuple[float, float] = (0.0, 1.0)
    per_asset_bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    gamma: float = 0.0
    risk_aversion: float = 1.0
    cvar_beta: float = 0.95
    views: Mapping[str, float] | None = None
    bl_tau: float = 0.05

    def to_dict(self) -> dict:
        """Plain-data form (for saving and JSON)."""
        return {
            "objective": self.objective,
            "target": self.target,
            "bounds": list(self.bounds),
            "per_asset_bounds": {k: list(v) for k, v in self.per_asset_bounds.items()},
            "gamma": self.gamma,
            "risk_aversion": self.risk_aversion,
            "cvar_beta": self.cvar_beta,
            "views": dict(self.views) if self.views else None,
            "bl_tau": self.bl_tau,
        }


@dataclass(frozen=True)
class OptimizedPortfolio:
    """An optimised portfolio.

    Attributes
    ----------
    weights : pandas.Series
        ``(n_assets,)`` fractions summing to 1.
    expected_return, volatility, sharpe : float
        Annual, from the μ and Σ used (PyPortfolioOpt ``portfolio_performance``).
    objective : str
    mu : pandas.Series
        Expected returns actually used (Black-Litterman posterior when views were given).
    cvar : float or None
        For ``min_cvar``: the daily CVaR at ``cvar_beta`` (fraction, positive = loss).
    notes : list of str
        Caveats shown to the user (pt-BR).
    """

    weights: pd.Series
    expected_return: float
    volatility: float
    sharpe: float
    objective: str
    mu: pd.Series
    cvar: float | None = None
    notes: list = field(default_factory=list)

    @property
    def geometric_return(self) -> float:
        """Annual CAGR implied by ``μ`` and ``σ``: ``exp(μ − σ²/2) − 1`` (Booth & Fama 1992)."""
        return float(geometric_return(self.expected_return, self.volatility))

    def performance(self) -> dict:
        """``{"expected_return", "volatility", "sharpe", "growth_rate", "geometric_return"}``.

        ``expected_return`` is the arithmetic annual mean; ``growth_rate`` = μ − σ²/2;
        ``geometric_return`` = exp(growth_rate) − 1, comparable with a realised CAGR.
        """
        return {
            "expected_return": float(self.expected_return),
            "volatility": float(self.volatility),
            "sharpe": float(self.sharpe),
            "growth_rate": float(growth_rate(self.expected_return, self.volatility)),
            "geometric_return": self.geometric_return,
        }


@dataclass(frozen=True)
class FrontierPoint:
    """One portfolio on the efficient frontier (annual fractions; weights sum to 1)."""

    expected_return: float
    volatility: float
    sharpe: float
    weights: dict

    @property
    def growth_rate(self) -> float:
        """``μ − σ²/2`` (Booth & Fama 1992), continuously compounded annual growth."""
        return float(growth_rate(self.expected_return, self.volatility))

    @property
    def geometric_return(self) -> float:
        """Annual CAGR implied by ``μ`` and ``σ``: ``exp(μ − σ²/2) − 1``."""
        return float(geometric_return(self.expected_return, self.volatility))


@dataclass(frozen=True)
class Frontier:
    """The efficient frontier and its landmarks.

    Attributes
    ----------
    points : list of FrontierPoint
        Increasing in return, from the minimum-volatility portfolio to the highest
        feasible return (infeasible targets are skipped).
    min_volatility, tangency : FrontierPoint or None
        The landmarks (tangency is None when no feasible mix beats the risk-free rate).
    equal_weight : FrontierPoint
    assets : dict of str -> (volatility, expected_return)
    benchmark : (volatility, expected_return)
        ^BVSP with the same return estimator; sample volatility.
    risk_free : float
        Arithmetic annual risk-free rate (the scale of μ; the CML starts there).
    skipped : int
        Targets the solver could not reach (dropped from ``points``).
    """

    points: list
    min_volatility: FrontierPoint | None
    tangency: FrontierPoint | None
    equal_weight: FrontierPoint
    assets: dict
    benchmark: tuple
    risk_free: float
    skipped: int = 0

    def capital_market_line(self, n: int = 2) -> list[tuple[float, float]]:
        """Points ``(volatility, return)`` of the CML from (0, rf) through the tangency."""
        if self.tangency is None:
            return []
        vmax = max([p.volatility for p in self.points] + [self.tangency.volatility]) * 1.1
        vs = np.linspace(0.0, vmax, max(n, 2))
        return [(float(v), float(self.risk_free + self.tangency.sharpe * v)) for v in vs]


def validate_views(views: Mapping[str, float] | None, tickers: list[str]) -> dict[str, float]:
    """Check Black-Litterman views once, in core: tickers in the portfolio, values in range.

    Parameters
    ----------
    views : mapping of str -> float or None
        Annual expected return per asset as a **fraction** (0.20 = 20 % a year). Front ends
        that let the user type percent ("PETR4=20") divide by 100 before calling.
    tickers : list of str
        The portfolio's assets.

    Returns
    -------
    dict of str -> float
        The views with upper-case tickers (empty when none).

    Raises
    ------
    InputError
        A view on an asset outside the portfolio, a non-number, or a value outside
        :data:`VIEW_RANGE` (the message shows the value in % and how to write it).
    """
    if not views:
        return {}
    out: dict[str, float] = {}
    for t, v in views.items():
        try:
            out[str(t).strip().upper()] = float(v)
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"Visão Black-Litterman de {t} inválida ({v!r}): use o retorno anual em %."
            ) from exc
    unknown = [t for t in out if t not in tickers]
    if unknown:
        raise InputError(
            f"Visões Black-Litterman para ativos fora da carteira: {', '.join(unknown)}."
        )
    lo, hi = VIEW_RANGE
    for t, v in out.items():
        if not np.isfinite(v):
            raise InputError("Visões Black-Litterman devem ser números (retorno anual).")
        if not lo < v <= hi:
            raise InputError(
                f"Visão Black-Litterman de {t} = {pct(v, 0)} a.a. fora do intervalo aceito "
                f"(acima de {pct(lo, 0)} até {pct(hi, 0)} a.a.). Escreva a visão em % ao ano: "
                f"{t}=20 significa 20% a.a."
            )
    return out


def clean_weights(weights: pd.Series, eps: float = WEIGHT_EPS) -> pd.Series:
    """Set weights with ``|w| < eps`` to exactly 0 and renormalise the rest to sum 1.

    Solvers return 1e-9-sized noise for assets they exclude; shown as "0,00%" it reads like
    a tiny position. Renormalising moves the others by less than ``n·eps``.
    """
    w = weights.astype(float).fillna(0.0).copy()
    w[w.abs() < eps] = 0.0
    total = float(w.sum())
    if total > 0 and abs(total - 1.0) > 0:
        w = w / total
        w[w.abs() < eps] = 0.0
    return w


def asset_bounds(tickers: list[str], spec: PortfolioSpec) -> list[tuple[float, float]]:
    """Per-asset ``(min, max)`` weights, validated so that a portfolio summing to 1 exists.

    Raises
    ------
    InputError
        A bound outside [-1, 1], min > max, unknown ticker in the overrides, or bounds whose
        sums cannot reach 1 (the message gives the feasible range).
    """
    lo0, hi0 = float(spec.bounds[0]), float(spec.bounds[1])
    unknown = [t for t in spec.per_asset_bounds if t not in tickers]
    if unknown:
        raise InputError(f"Limites para ativos fora da carteira: {', '.join(unknown)}.")
    out = []
    for t in tickers:
        lo, hi = spec.per_asset_bounds.get(t, (lo0, hi0))
        lo, hi = float(lo), float(hi)
        if not (-1.0 <= lo <= 1.0 and -1.0 <= hi <= 1.0):
            raise InputError(f"Limites de peso de {t} devem ficar entre -100% e 100%.")
        if lo > hi:
            raise InputError(
                f"Limite mínimo de {t} ({pct(lo, 0)}) maior que o máximo ({pct(hi, 0)})."
            )
        out.append((lo, hi))
    slo = sum(b[0] for b in out)
    shi = sum(b[1] for b in out)
    n = len(tickers)
    if slo > 1.0 + 1e-9 or shi < 1.0 - 1e-9:
        raise InputError(
            f"Os limites não permitem pesos somando 100%: com {n} ativos a soma vai de "
            f"{pct(slo, 1)} a {pct(shi, 1)}. Use mínimo ≤ {pct(1 / n, 1)} e máximo ≥ {pct(1 / n, 1)} por ativo."
        )
    return out


def feasible_return_range(mu: pd.Series, bounds: list[tuple[float, float]]) -> tuple[float, float]:
    """Lowest and highest expected return of any portfolio within ``bounds`` summing to 1.

    A greedy solution of the linear programme ``max/min μᵀw s.t. Σw = 1, lo ≤ w ≤ hi``
    (fill the best assets first), exact for box constraints.
    """
    m = mu.to_numpy(dtype=float)
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])

    def extreme(order) -> float:
        w = lo.copy()
        rest = 1.0 - w.sum()
        for i in order:
            add = min(hi[i] - lo[i], rest)
            w[i] += add
            rest -= add
            if rest <= 0:
                break
        return float(m @ w)

    return extreme(np.argsort(m)), extreme(np.argsort(-m))


def expected_returns_for(inputs: PortfolioInputs, spec: PortfolioSpec) -> pd.Series:
    """μ used by the optimiser: the estimator's, or the Black-Litterman posterior with views.

    Raises
    ------
    InputError
        Views on assets outside the portfolio, non-finite or out of :data:`VIEW_RANGE`
        (see :func:`validate_views`).
    """
    views = validate_views(spec.views, inputs.tickers)
    if not views:
        return inputs.mu
    bl = BlackLittermanModel(inputs.cov, pi=inputs.mu, absolute_views=views, tau=spec.bl_tau)
    return bl.bl_returns().rename(None)


def performance(weights: pd.Series, mu: pd.Series, cov: pd.DataFrame, rf: float) -> tuple:
    """``(expected_return, volatility, sharpe)`` as PyPortfolioOpt computes them."""
    r, v, s = portfolio_performance(weights.to_dict(), mu, cov, risk_free_rate=rf)
    return float(r), float(v), float(s)


def _ef(mu, cov, bounds, solver=None) -> EfficientFrontier:
    return EfficientFrontier(mu, cov, weight_bounds=bounds, solver=solver)


def _min_vol_value(cov: pd.DataFrame, bounds) -> float:
    ef = _ef(None, cov, bounds)
    ef.min_volatility()
    return float(np.sqrt(ef.weights @ cov.to_numpy() @ ef.weights))


def optimize_portfolio(inputs: PortfolioInputs, spec: PortfolioSpec) -> OptimizedPortfolio:
    """Optimise ``spec.objective`` on ``inputs`` with PyPortfolioOpt.

    Parameters
    ----------
    inputs : PortfolioInputs
    spec : PortfolioSpec

    Returns
    -------
    OptimizedPortfolio

    Raises
    ------
    InputError
        Unknown objective; a target outside the feasible range (the message gives it);
        bounds that cannot sum to 1; no asset above the risk-free rate for max Sharpe;
        a solver failure (reported with the parameters to change).
    """
    if spec.objective not in OBJECTIVES:
        raise InputError(
            f"Objetivo desconhecido {spec.objective!r}; use um de: {', '.join(OBJECTIVES)}."
        )
    tickers = inputs.tickers
    bounds = asset_bounds(tickers, spec)
    mu = expected_returns_for(inputs, spec)
    cov = inputs.cov
    rf = inputs.risk_free_arithmetic
    notes: list[str] = []
    obj = spec.objective
    if spec.gamma < 0:
        raise InputError("A regularização L2 (gamma) não pode ser negativa.")
    r_lo, r_hi = feasible_return_range(mu, bounds)
    cvar = None
    try:
        if obj == "hrp":
            if spec.bounds != (0.0, 1.0) or spec.per_asset_bounds or spec.gamma:
                notes.append("HRP não usa limites por ativo nem regularização L2.")
            hrp = HRPOpt(inputs.returns, cov_matrix=cov)
            weights = pd.Series(hrp.optimize()).reindex(tickers)
        elif obj == "min_cvar":
            ef = EfficientCVaR(mu, inputs.returns, beta=spec.cvar_beta, weight_bounds=bounds)
            if spec.gamma:
                ef.add_objective(objective_functions.L2_reg, gamma=spec.gamma)
            ef.min_cvar()
            weights = pd.Series(ef.weights, index=tickers)
            cvar = float(ef.portfolio_performance()[1])
        else:
            ef = _ef(mu, cov, bounds, FRONTIER_SOLVER)
            if spec.gamma:
                ef.add_objective(objective_functions.L2_reg, gamma=spec.gamma)
            if obj == "max_sharpe":
                if r_hi <= rf:
                    raise InputError(
                        f"Nenhuma carteira viável rende mais que a taxa livre de risco "
                        f"({pct(rf, 2)} a.a., média aritmética): o maior retorno esperado possível é {pct(r_hi, 2)}. "
                        "Use mínima volatilidade ou outra janela/ativos."
                    )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    ef.max_sharpe(risk_free_rate=rf)
                if spec.gamma:
                    notes.append("Com L2 o máximo Sharpe é aproximado (transformação do problema).")
            elif obj == "min_volatility":
                ef.min_volatility()
            elif obj == "max_quadratic_utility":
                if not spec.risk_aversion or spec.risk_aversion <= 0:
                    raise InputError("A aversão a risco deve ser maior que zero.")
                ef.max_quadratic_utility(risk_aversion=float(spec.risk_aversion))
            elif obj == "efficient_return":
                if spec.target is None:
                    raise InputError(
                        f"Informe o retorno-alvo (viável até {pct(r_hi, 2)} a.a. com esses limites)."
                    )
                t = float(spec.target)
                if t > r_hi + 1e-12:
                    raise InputError(
                        f"Retorno-alvo {pct(t, 2)} a.a. acima do máximo viável {pct(r_hi, 2)} a.a. "
                        f"(maior retorno esperado com esses limites). Use um alvo entre "
                        f"{pct(r_lo, 2)} e {pct(r_hi, 2)}."
                    )
                ef.efficient_return(min(t, r_hi - 1e-9 * max(1.0, abs(r_hi))))
            elif obj == "efficient_risk":
                vmin = _min_vol_value(cov, bounds)
                if spec.target is None:
                    raise InputError(
                        f"Informe a volatilidade-alvo (viável a partir de {pct(vmin, 2)} a.a.)."
                    )
                t = float(spec.target)
                if t < vmin - 1e-9:
                    raise InputError(
                        f"Volatilidade-alvo {pct(t, 2)} a.a. abaixo da mínima viável {pct(vmin, 2)} a.a. "
                        f"com esses ativos e limites. Use pelo menos {pct(vmin, 2)}."
                    )
                ef.efficient_risk(max(t, vmin + 1e-9))
            weights = pd.Series(ef.weights, index=tickers)
    except (OptimizationError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(
            f"O otimizador não encontrou solução para {OBJECTIVES[obj]} ({exc}). "
            "Afrouxe os limites, mude o alvo ou os ativos."
        ) from exc
    weights = clean_weights(weights)
    r, v, s = performance(weights, mu, cov, rf)
    return OptimizedPortfolio(
        weights=weights.rename("weight"),
        expected_return=r,
        volatility=v,
        sharpe=s,
        objective=obj,
        mu=mu,
        cvar=cvar,
        notes=notes,
    )


def _point(weights: np.ndarray, tickers, mu, cov, rf) -> FrontierPoint:
    w = clean_weights(pd.Series(np.asarray(weights, dtype=float), index=tickers))
    r, v, s = performance(w, mu, cov, rf)
    return FrontierPoint(r, v, s, {t: float(x) for t, x in w.items()})


def efficient_frontier(
    inputs: PortfolioInputs,
    spec: PortfolioSpec | None = None,
    points: int = 50,
    progress: Progress | None = None,
) -> Frontier:
    """The mean-variance efficient frontier under ``spec``'s bounds.

    ``points`` target returns evenly spaced from the minimum-volatility portfolio's return
    to the highest feasible return; each point minimises variance for its target
    (PyPortfolioOpt ``efficient_return`` on one reused, parameterised problem). Targets the
    solver cannot reach are skipped and counted. The L2 penalty and non-variance objectives
    do not change the frontier (it is the Markowitz set for μ, Σ and the bounds).

    Parameters
    ----------
    inputs : PortfolioInputs
    spec : PortfolioSpec, optional
        Supplies bounds and Black-Litterman views.
    points : int
        Number of targets, 2–500.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    Frontier

    Raises
    ------
    InputError
        Invalid ``points`` or bounds.
    """
    spec = spec or PortfolioSpec()
    if not 2 <= int(points) <= 500:
        raise InputError("O número de pontos da fronteira deve ficar entre 2 e 500.")
    tickers = inputs.tickers
    bounds = asset_bounds(tickers, spec)
    mu = expected_returns_for(inputs, spec)
    cov, rf = inputs.cov, inputs.risk_free_arithmetic
    n = len(tickers)

    ef_min = _ef(mu, cov, bounds)
    ef_min.min_volatility()
    minvol = _point(ef_min.weights, tickers, mu, cov, rf)
    _, r_hi = feasible_return_range(mu, bounds)
    r_lo = minvol.expected_return
    targets = np.linspace(r_lo, r_hi, int(points))
    # Keep the top target strictly inside the feasible set (solver tolerance).
    targets[-1] = r_hi - 1e-7 * max(1.0, abs(r_hi - r_lo))
    targets[0] = r_lo
    pts: list[FrontierPoint] = []
    skipped = 0
    # CLARABEL (interior point) keeps every point inside the bounds to ~1e-9; the default
    # OSQP can leave violations of ~1e-6 on re-solves.
    ef = _ef(mu, cov, bounds, FRONTIER_SOLVER)
    for i, t in enumerate(targets):
        try:
            ef.efficient_return(float(t))
            pts.append(_point(ef.weights, tickers, mu, cov, rf))
        except (OptimizationError, ValueError):
            skipped += 1
            ef = _ef(mu, cov, bounds, FRONTIER_SOLVER)
        if progress is not None and (i % 5 == 4 or i == len(targets) - 1):
            progress((i + 1) / len(targets), f"Fronteira: {i + 1}/{len(targets)} pontos")
    tangency = None
    if r_hi > rf:
        try:
            ef_s = _ef(mu, cov, bounds)
            ef_s.max_sharpe(risk_free_rate=rf)
            tangency = _point(ef_s.weights, tickers, mu, cov, rf)
        except (OptimizationError, ValueError):
            tangency = None
    eq = _point(np.full(n, 1.0 / n), tickers, mu, cov, rf)
    vols = np.sqrt(np.diag(cov.to_numpy()))
    assets = {t: (float(vols[i]), float(mu.iloc[i])) for i, t in enumerate(tickers)}
    bench_mu = estimate_returns(
        inputs.benchmark.to_frame(),
        inputs.returns_method,
        market_prices=inputs.benchmark,
        risk_free=rf,
    ).iloc[0]
    bench_vol = float(inputs.benchmark.pct_change().std() * np.sqrt(PERIODS_PER_YEAR))
    return Frontier(
        points=pts,
        min_volatility=minvol,
        tangency=tangency,
        equal_weight=eq,
        assets=assets,
        benchmark=(bench_vol, float(bench_mu)),
        risk_free=rf,
        skipped=skipped,
    )
