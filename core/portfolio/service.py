"""One facade for every UI: the page's background callback and the CLI call :func:`analyse`.

The result is plain, picklable, JSON-ready data (dicts, lists, floats, ISO date strings),
so it can travel through a background-callback cache or be printed as JSON.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from core.backtest.costs import B3_DEFAULT, B3Costs
from core.backtest.taxes import TaxRules
from core.data.store import Store
from core.errors import InputError
from core.portfolio.allocation import allocate_lots, latest_prices
from core.portfolio.benchmark import benchmark_metrics
from core.portfolio.inputs import BENCHMARK, geometric_return, growth_rate, prepare_inputs
from core.portfolio.optimize import (
    OBJECTIVES,
    FrontierPoint,
    PortfolioSpec,
    efficient_frontier,
    optimize_portfolio,
)
from core.portfolio.runs import save_run
from core.portfolio.walkforward import walk_forward
from core.rates import PERIODS_PER_YEAR
from core.textfmt import pct

__all__ = ["PortfolioRequest", "analyse"]

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class PortfolioRequest:
    """Everything the page or the CLI asks for.

    Parameters
    ----------
    tickers : sequence of str
        Stocks (≥ 2).
    start, end : date-like, optional
        Bounds of the common history.
    returns_method, risk_model : str
        See :mod:`core.portfolio.inputs`.
    risk_free : float, optional
        Annual fraction; None = CDI over the window.
    spec : PortfolioSpec
        Objective and constraints.
    points : int
        Frontier points (≥ 2).
    capital : float, optional
        R$ to allocate in B3 lots (None = no allocation).
    holdings : mapping of str -> int, optional
        Current shares for a rebalance (``capital`` is then the extra cash).
    costs : B3Costs
    out_of_sample : bool
        Run the walk-forward out-of-sample test
        (:func:`core.portfolio.walkforward.walk_forward`).
    split : date-like, optional
        Earliest first rebalance of the out-of-sample test (default: ``start``, else as
        soon as the universe has ``lookback`` sessions of history; estimation windows may
        reach back before it).
    rebalance : {"none", "monthly", "quarterly"}
        Re-optimisation frequency of the out-of-sample test.
    oos_universe : {"liquid", "chosen"}
        ``liquid`` (default): the ``len(tickers)`` most liquid stocks at each rebalance,
        known at that date (no hindsight); ``chosen``: the chosen tickers.
    lookback : int
        Sessions of each estimation window of the test (756 ≈ 3 years).
    taxes : bool
        Charge income tax on the test's sales (15 %, R$ 20.000 monthly exemption).
    """

    tickers: Sequence[str]
    start: object = None
    end: object = None
    returns_method: str = "mean_historical"
    risk_model: str = "ledoit_wolf"
    risk_free: float | None = None
    spec: PortfolioSpec = field(default_factory=PortfolioSpec)
    points: int = 50
    capital: float | None = None
    holdings: Mapping[str, int] | None = None
    costs: B3Costs = B3_DEFAULT
    out_of_sample: bool = False
    split: object = None
    rebalance: str = "quarterly"
    oos_universe: str = "liquid"
    lookback: int = 3 * PERIODS_PER_YEAR
    taxes: bool = True

    def parameters(self) -> dict:
        """The request as plain data (what a saved portfolio records)."""

        def d(x):
            return None if x is None else pd.Timestamp(x).strftime("%Y-%m-%d")

        return {
            "tickers": list(self.tickers),
            "start": d(self.start),
            "end": d(self.end),
            "returns_method": self.returns_method,
            "risk_model": self.risk_model,
            "risk_free": self.risk_free,
            "points": self.points,
            "capital": self.capital,
            "holdings": dict(self.holdings) if self.holdings else None,
            "out_of_sample": self.out_of_sample,
            "rebalance": self.rebalance,
            "oos_universe": self.oos_universe,
            "lookback": self.lookback,
            "taxes": self.taxes,
            **self.spec.to_dict(),
        }


def _pt(p: FrontierPoint | None) -> dict | None:
    if p is None:
        return None
    return {
        "volatility": p.volatility,
        "expected_return": p.expected_return,
        "growth_rate": p.growth_rate,
        "geometric_return": p.geometric_return,
        "sharpe": p.sharpe,
        "weights": p.weights,
    }


def _geo(vol: float, mu: float) -> dict:
    """Arithmetic mean, Booth-Fama growth rate and implied CAGR of one point."""
    return {
        "volatility": vol,
        "expected_return": mu,
        "growth_rate": float(growth_rate(mu, vol)),
        "geometric_return": float(geometric_return(mu, vol)),
    }


def _frame(df: pd.DataFrame) -> dict:
    return {
        "dates": [d.strftime("%Y-%m-%d") for d in df.index],
        "series": {str(c): [float(x) for x in df[c].to_numpy()] for c in df.columns},
    }


def _clean(o):
    """NaN/inf -> None and numpy scalars -> Python (JSON-safe, picklable)."""
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_clean(v) for v in o]
    if hasattr(o, "item") and not isinstance(o, str):
        o = o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o


def analyse(
    store: Store,
    request: PortfolioRequest,
    progress: Progress | None = None,
    *,
    record: bool = False,
    owner: str | None = None,
    mapper=None,
) -> dict:
    """Optimise, draw the frontier, compare with ^BVSP, check out of sample, allocate in lots.

    Parameters
    ----------
    store : Store
    request : PortfolioRequest
    progress : callable, optional
        ``progress(fraction, message)``.
    record : bool
        Store the result as a ``portfolio_runs`` row of kind ``analysis``
        (:mod:`core.portfolio.runs`); its id is returned as ``run_id``.
    owner : str, optional
        The author stamped on the recorded run (team mode); None = the team's.
    mapper : callable, optional
        Runs the out-of-sample test's rebalance optimisations
        (:func:`core.portfolio.walkforward.walk_forward`); None = in this process.

    Returns
    -------
    dict
        ``window`` (common history, risk-free rate), ``objective``, ``weights``
        ({ticker: fraction}), ``performance`` ({expected_return, volatility, sharpe}, annual),
        ``cvar``, ``metrics`` (beta, alpha, tracking error, information ratio vs ^BVSP),
        ``frontier`` (list of {volatility, expected_return, sharpe, weights}),
        ``landmarks`` (min_volatility, tangency, equal_weight, chosen), ``assets``
        ({ticker: {volatility, expected_return}}), ``benchmark``, ``cml`` ([[vol, ret]]),
        ``frontier_skipped``, ``out_of_sample`` (the walk-forward test as
        :meth:`~core.portfolio.walkforward.WalkForward.to_dict`, or None), ``allocation`` (or None),
        ``prices`` ({ticker: {price, date}}), ``notes``, ``parameters``.

    Raises
    ------
    InputError, UnknownTickerError
        Any invalid request (messages say what is feasible).
    """

    def step(f: float, msg: str) -> None:
        if progress is not None:
            progress(max(0.0, min(1.0, f)), msg)

    step(0.02, "Lendo a história comum")
    inputs = prepare_inputs(
        store,
        request.tickers,
        request.start,
        request.end,
        returns_method=request.returns_method,
        risk_model=request.risk_model,
        risk_free=request.risk_free,
    )
    step(0.15, f"Otimizando: {OBJECTIVES.get(request.spec.objective, request.spec.objective)}")
    port = optimize_portfolio(inputs, request.spec)
    step(0.2, "Calculando a fronteira eficiente")
    frontier = efficient_frontier(
        inputs,
        request.spec,
        points=request.points,
        progress=lambda f, m: step(0.2 + 0.4 * f, m),
    )
    metrics = benchmark_metrics(port.weights, inputs.prices, inputs.benchmark, inputs.risk_free)
    notes = list(port.notes)
    if frontier.skipped:
        notes.append(f"{frontier.skipped} pontos inviáveis da fronteira foram ignorados.")
    oos = None
    if request.out_of_sample:
        step(0.6, "Teste fora da amostra (walk-forward)")
        wf = walk_forward(
            store,
            request.spec,
            inputs.tickers,
            universe=request.oos_universe,
            start=request.split if request.split is not None else request.start,
            end=request.end,
            lookback=request.lookback,
            rebalance=request.rebalance,
            returns_method=request.returns_method,
            risk_model=request.risk_model,
            risk_free=request.risk_free,
            costs=request.costs,
            taxes=TaxRules() if request.taxes else None,
            capital=float(request.capital or 100_000.0),
            progress=lambda f, m: step(0.6 + 0.3 * f, m),
            mapper=mapper,
        )
        oos = wf.to_dict()
    allocation = None
    held = [t.upper() for t in (request.holdings or {})]
    px = latest_prices(store, list(dict.fromkeys([*inputs.tickers, *held])), inputs.end)
    if (request.capital or 0) > 0 or request.holdings:
        step(0.9, "Alocando em lotes da B3")
        if any(t == BENCHMARK for t in held):
            raise InputError("O índice ^BVSP não é negociável; remova-o das posições.")
        shorts = port.weights[port.weights < -1e-9]
        longs = port.weights.clip(lower=0.0)
        alloc = allocate_lots(
            longs / longs.sum(),
            px["price"],
            float(request.capital or 0.0),
            costs=request.costs,
            holdings=request.holdings,
        )
        allocation = alloc.to_dict()
        if len(shorts):
            # The lot allocation buys only; say so instead of silently dropping the shorts.
            allocation.setdefault("notes", []).append(
                "A alocação em lotes compra apenas: as posições vendidas da carteira ("
                + ", ".join(f"{t} {pct(w, 1)}" for t, w in shorts.items())
                + ") foram excluídas e as compradas reescaladas para somar 100%. "
                "Venda a descoberto exige aluguel de ações na corretora."
            )
    step(1.0, "Pronto")
    chosen = {
        **_geo(port.volatility, port.expected_return),
        "sharpe": port.sharpe,
        "weights": {t: float(v) for t, v in port.weights.items()},
    }
    result = _clean(
        {
            "window": inputs.window(),
            "objective": port.objective,
            "objective_label": OBJECTIVES[port.objective],
            "weights": {t: float(v) for t, v in port.weights.items()},
            "performance": port.performance(),
            "cvar": port.cvar,
            "metrics": metrics,
            "frontier": [_pt(p) for p in frontier.points],
            "landmarks": {
                "min_volatility": _pt(frontier.min_volatility),
                "tangency": _pt(frontier.tangency),
                "equal_weight": _pt(frontier.equal_weight),
                "chosen": chosen,
            },
            "assets": {t: _geo(v, r) for t, (v, r) in frontier.assets.items()},
            "benchmark": {"ticker": BENCHMARK, **_geo(*frontier.benchmark)},
            "cml": [list(x) for x in frontier.capital_market_line(2)],
            "frontier_skipped": frontier.skipped,
            "out_of_sample": oos,
            "allocation": allocation,
            "prices": {
                t: {"price": float(r.price), "date": pd.Timestamp(r.date).strftime("%Y-%m-%d")}
                for t, r in px.iterrows()
            },
            "notes": notes,
            "parameters": request.parameters(),
        }
    )
    if record:
        result["run_id"] = save_run(store, "analysis", result["parameters"], result, owner=owner)
    return result
