"""One typed request per job, built alike by the pages, the CLI and the scheduler.

The model is freqtrade's ``rpc.RPC`` facade: every front end turns what the user typed into
the same request object with the same builder, and runs it with the same runner. Defaults,
ranges and the pt-BR messages of every field live here, once:

===============  ===========================================  ===============================
job              builder -> request                           runner -> result
===============  ===========================================  ===============================
backtest         :func:`build_backtest_request`               :func:`run_backtest_request`
                                                              (:func:`backtest_metrics`)
walk-forward     :func:`build_walk_forward_request`           :func:`run_walk_forward_request`
frontier         :func:`build_frontier_request`               :func:`run_frontier_request`
                                                              (:class:`FrontierResult`)
evaluate         :func:`build_evaluate_request`               :func:`run_evaluate_request`
retrain          :func:`build_retrain_request`                :func:`run_retrain_request`
predict          –                                            :func:`refresh_predictions`
import           :func:`build_import_request`                 :func:`run_import_request`
update           :func:`build_update_request`                 :func:`run_update_request`
===============  ===========================================  ===============================

Builders accept raw values (widget values, CLI strings, ``None`` for "empty, use the
default") and raise :class:`core.errors.InputError`. Importing this package is cheap (no
numerical libraries): heavy modules load when a builder or runner is called, so the CLI can
import it at start-up.
"""

from core.requests.backtest import (
    DEFAULT_CASH,
    LOT_CHOICES,
    SIZING_DEFAULTS,
    BacktestRequest,
    build_backtest_request,
    run_backtest_request,
    strategy_params,
)
from core.requests.evaluate import (
    EvaluateRequest,
    build_evaluate_request,
    read_price_file_checked,
    run_evaluate_request,
)
from core.requests.frontier import FrontierResult, build_frontier_request, run_frontier_request
from core.requests.imports import (
    ImportRequest,
    UpdateRequest,
    build_import_request,
    build_update_request,
    report_summary,
    run_import_request,
    run_update_request,
)
from core.requests.liquidity import liquidity_warnings
from core.requests.models import (
    RetrainRequest,
    build_retrain_request,
    refresh_predictions,
    run_retrain_request,
)
from core.requests.optimize import (
    DEFAULT_TRIALS,
    WalkForwardRequest,
    build_walk_forward_request,
    run_walk_forward_request,
)
from core.requests.parsing import parse_money, shorten
from core.requests.results import BacktestMetrics, backtest_metrics

__all__ = [
    "DEFAULT_CASH",
    "LOT_CHOICES",
    "SIZING_DEFAULTS",
    "BacktestRequest",
    "build_backtest_request",
    "run_backtest_request",
    "strategy_params",
    "WalkForwardRequest",
    "DEFAULT_TRIALS",
    "build_walk_forward_request",
    "run_walk_forward_request",
    "FrontierResult",
    "build_frontier_request",
    "run_frontier_request",
    "EvaluateRequest",
    "build_evaluate_request",
    "read_price_file_checked",
    "run_evaluate_request",
    "refresh_predictions",
    "RetrainRequest",
    "build_retrain_request",
    "run_retrain_request",
    "ImportRequest",
    "UpdateRequest",
    "build_import_request",
    "build_update_request",
    "run_import_request",
    "run_update_request",
    "report_summary",
    "liquidity_warnings",
    "BacktestMetrics",
    "backtest_metrics",
    "parse_money",
    "shorten",
]
