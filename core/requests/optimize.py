"""The walk-forward optimisation job: one request (a backtest plus the search settings).

Built by the Backtest page's "Walk-forward" tab and ``python -m dashboard optimize`` with
:func:`build_walk_forward_request`, run by :func:`run_walk_forward_request`
(:func:`core.backtest.optimize.walk_forward`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import InputError
from core.requests.backtest import BacktestRequest, build_backtest_request, strategy_params
from core.requests.parsing import parse_choice, parse_int, parse_number

if TYPE_CHECKING:
    from core.backtest.optimize import Mapper, WalkForwardResult
    from core.data.store import Store

__all__ = [
    "MODES",
    "DEFAULT_TRIALS",
    "DEFAULT_WINDOWS",
    "DEFAULT_TRAIN_RATIO",
    "WalkForwardRequest",
    "build_walk_forward_request",
    "run_walk_forward_request",
]

Progress = Callable[[float, str], None]

#: Window modes: rolling (fixed-length training) or anchored (training grows from the start).
MODES: tuple[str, ...] = ("rolling", "anchored")
#: Optuna trials per window: 30 gives TPE ~20 guided trials after its 10 random start-up
#: trials, enough for the two or three parameters a strategy searches.
DEFAULT_TRIALS = 30
#: Out-of-sample test spans.
DEFAULT_WINDOWS = 4
#: Training span in test spans.
DEFAULT_TRAIN_RATIO = 2.0


@dataclass(frozen=True)
class WalkForwardRequest:
    """A walk-forward optimisation, validated.

    Attributes
    ----------
    backtest : BacktestRequest
        Strategy, tickers, window and engine settings (its ``params`` are ignored: the
        search uses ``fixed_params`` and the strategy's declared ranges).
    fixed_params : dict
        Parameters held fixed (not searched), coerced.
    objective : str
        One of :data:`OBJECTIVES`.
    anchored : bool
    windows : int
        Number of out-of-sample test spans (1–20).
    train_ratio : float
        Training span in test spans (0,5–10).
    trials : int
        Optuna trials per window (1–500).
    heatmap : tuple of two str, or bool
        Parameters of the stability map, True for the first two numeric ones, False for none.
    seed : int
        Sampler seed (reproducible).
    """

    backtest: BacktestRequest
    fixed_params: dict
    objective: str = "sharpe"
    anchored: bool = False
    windows: int = DEFAULT_WINDOWS
    train_ratio: float = DEFAULT_TRAIN_RATIO
    trials: int = DEFAULT_TRIALS
    heatmap: tuple[str, str] | bool = True
    seed: int = 0


def build_walk_forward_request(
    *,
    objective: Any = None,
    mode: Any = None,
    windows: Any = None,
    train_ratio: Any = None,
    trials: Any = None,
    heatmap: Any = None,
    seed: Any = None,
    fixed_params: Any = None,
    **backtest: Any,
) -> WalkForwardRequest:
    """Validate raw input into a :class:`WalkForwardRequest`.

    ``backtest`` takes the keyword arguments of
    :func:`core.requests.backtest.build_backtest_request` (``params`` there is ignored;
    ``fixed_params`` here are the parameters not searched). ``heatmap`` is ``"x,y"``, a pair,
    True/None (default: the first two numeric parameters) or False.

    Raises
    ------
    InputError
        Any value out of range, with a pt-BR message naming the field.
    """
    from core.backtest.optimize import OBJECTIVES

    backtest.pop("params", None)
    bt = build_backtest_request(**backtest)
    if bt.interval != "1d" or bt.day_trade:
        raise InputError(
            "A otimização walk-forward roda só em barras diárias sem day trade, por enquanto."
        )
    fixed = strategy_params(bt.strategy, fixed_params, complete=False)
    if heatmap is None or heatmap is True:
        hm: tuple[str, str] | bool = True
    elif heatmap is False:
        hm = False
    else:
        parts = (
            [p.strip() for p in heatmap.split(",") if p.strip()]
            if isinstance(heatmap, str)
            else [str(p).strip() for p in heatmap]
        )
        if len(parts) != 2:
            raise InputError("Mapa de estabilidade: informe dois parâmetros, ex. fast,slow.")
        hm = (parts[0], parts[1])
    return WalkForwardRequest(
        backtest=bt,
        fixed_params=fixed,
        objective=parse_choice(objective, "Objetivo", OBJECTIVES, default="sharpe"),
        anchored=parse_choice(mode, "Modo das janelas", MODES, default="rolling") == "anchored",
        windows=parse_int(windows, "Janelas", default=DEFAULT_WINDOWS, lo=1, hi=20),
        train_ratio=parse_number(
            train_ratio,
            "Proporção treino/teste",
            default=DEFAULT_TRAIN_RATIO,
            lo=0.5,
            hi=10,
        ),
        trials=parse_int(trials, "Tentativas por janela", default=DEFAULT_TRIALS, lo=1, hi=500),
        heatmap=hm,
        seed=parse_int(seed, "Semente", default=0, lo=0),
    )


def run_walk_forward_request(
    store: Store,
    req: WalkForwardRequest,
    *,
    progress: Progress | None = None,
    mapper: Mapper | None = None,
) -> WalkForwardResult:
    """Run ``req`` (:func:`core.backtest.optimize.walk_forward`); nothing is stored.

    ``mapper`` spreads the windows' searches (:data:`core.backtest.optimize.Mapper`; the
    result does not depend on it); None = in this process.

    Raises
    ------
    InputError
        From the optimiser (nothing to optimise, period too short for the windows ...).
    """
    from core.backtest.optimize import walk_forward

    bt = req.backtest
    return walk_forward(
        store,
        bt.strategy,
        list(bt.tickers),
        bt.start,
        bt.end,
        fixed_params=dict(req.fixed_params),
        config=bt.engine_config(),
        n_windows=req.windows,
        train_ratio=req.train_ratio,
        anchored=req.anchored,
        objective=req.objective,
        n_trials=req.trials,
        heatmap=req.heatmap,
        adjusted=bt.adjusted,
        seed=req.seed,
        progress=progress,
        mapper=mapper,
    )
