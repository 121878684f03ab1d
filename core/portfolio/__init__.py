"""Portfolio construction on B3 data: Markowitz frontier, benchmark, allocation in lots.

Public API (pages and the CLI call :func:`analyse`; the rest is for tests and other
features):

* :mod:`~core.portfolio.inputs` – prices on the common history, expected returns, risk
  models (PyPortfolioOpt, 252 sessions a year), CDI risk-free rate, most liquid stocks;
* :mod:`~core.portfolio.optimize` – objectives and the efficient frontier;
* :mod:`~core.portfolio.benchmark` – metrics vs ^BVSP, the single-split check (superseded);
* :mod:`~core.portfolio.walkforward` – the walk-forward rebalancing backtest against 1/N,
  minimum variance, ^BVSP and CDI (costs, taxes, point-in-time universe);
* :mod:`~core.portfolio.runs` – stored analyses and walk-forward runs;
* :mod:`~core.portfolio.allocation` – whole lots + fractional shares as an integer programme;
* :mod:`~core.portfolio.saved` – named portfolios in the store;
* :mod:`~core.portfolio.service` – the facade.
"""

from core.portfolio.allocation import (
    LOT_SIZE,
    Allocation,
    allocate_lots,
    latest_prices,
    split_order,
)
from core.portfolio.benchmark import REBALANCE, OutOfSample, benchmark_metrics, out_of_sample
from core.portfolio.inputs import (
    BENCHMARK,
    RETURN_METHODS,
    RISK_MODELS,
    PortfolioInputs,
    estimate_returns,
    estimate_risk,
    geometric_return,
    growth_rate,
    inputs_from_prices,
    most_liquid,
    prepare_inputs,
)
from core.portfolio.optimize import (
    OBJECTIVES,
    VIEW_RANGE,
    WEIGHT_EPS,
    Frontier,
    FrontierPoint,
    OptimizedPortfolio,
    PortfolioSpec,
    clean_weights,
    efficient_frontier,
    feasible_return_range,
    optimize_portfolio,
    validate_views,
)
from core.portfolio.runs import RUN_KINDS, latest_run, list_runs, load_run, save_run
from core.portfolio.saved import delete_portfolio, list_portfolios, load_portfolio, save_portfolio
from core.portfolio.service import (
    PortfolioRequest,
    analyse,
)
from core.portfolio.walkforward import UNIVERSES, WalkForward, walk_forward

__all__ = [
    "LOT_SIZE",
    "Allocation",
    "allocate_lots",
    "latest_prices",
    "split_order",
    "REBALANCE",
    "OutOfSample",
    "benchmark_metrics",
    "out_of_sample",
    "BENCHMARK",
    "RETURN_METHODS",
    "RISK_MODELS",
    "PortfolioInputs",
    "estimate_returns",
    "estimate_risk",
    "geometric_return",
    "growth_rate",
    "inputs_from_prices",
    "most_liquid",
    "prepare_inputs",
    "OBJECTIVES",
    "VIEW_RANGE",
    "WEIGHT_EPS",
    "Frontier",
    "FrontierPoint",
    "OptimizedPortfolio",
    "PortfolioSpec",
    "efficient_frontier",
    "feasible_return_range",
    "optimize_portfolio",
    "clean_weights",
    "validate_views",
    "RUN_KINDS",
    "latest_run",
    "list_runs",
    "load_run",
    "save_run",
    "delete_portfolio",
    "list_portfolios",
    "load_portfolio",
    "save_portfolio",
    "PortfolioRequest",
    "analyse",
    "UNIVERSES",
    "WalkForward",
    "walk_forward",
]
