"""Walk-forward optimisation with Optuna (TPE) and fast parameter sweeps.

Walk-forward
------------
The sessions of ``[start, end]`` are cut into an initial training span and ``n_windows``
test spans of equal length ``L = N // (n_windows + train_ratio)``:

* **rolling**: window w trains on ``[w·L, w·L + train_ratio·L)`` and tests on the next L
  sessions;
* **anchored**: window w trains on ``[0, w·L + train_ratio·L)`` (an expanding start).

In each window Optuna's TPE sampler (Bergstra et al., 2011) searches the strategy's
declared parameter ranges for the best in-sample objective; the best parameters are then
run once on the test span (out of sample). Signals for a span are computed from bars up to
the span's last session only; indicator warm-up uses the bars before the span.

**One capital path**: the out-of-sample result is a single engine run from the first test
session to the last with the initial capital, acting in each test span on the signals of
that window's best parameters (a position open at a window's end is carried into the next
window and follows the new parameters' exits). Its equity, trades and tax report therefore
describe the same account: the change in equity equals trade P&L + proventos + interest
(− taxes after tax). Objectives:
``sharpe`` (default), ``sortino``, ``calmar``, ``total_return``, ``profit_factor``.

Stability heatmap
-----------------
The objective over a grid of two parameters (the other parameters at the last window's best
values) on the whole period: a robust choice sits on a plateau, not on a lone peak.
(Pardo, *The Evaluation and Optimization of Trading Strategies*, 2nd ed., 2008, ch. 11-14.)

Fan-out
-------
The windows' searches are independent (each its own Optuna study seeded ``seed + w``) and so
are the heatmap's rows: :func:`walk_forward` and :func:`sweep` hand them to a ``mapper``
(:data:`Mapper`) — by default a plain loop in this process; in team mode the web layer passes
one that spreads them over Celery workers (``dashboard.fanout``). Each chunk is a pure,
deterministic function of picklable inputs, so the result is the same however it is spread.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import optuna
import pandas as pd

from core.backtest.engine import EngineConfig, run_engine, simulate_single
from core.backtest.metrics import compute_metrics
from core.backtest.runner import (
    MarketInputs,
    _no_progress,
    compute_signals,
    finish_result,
    load_inputs,
)
from core.backtest.taxes import tax_report
from core.data.store import Store
from core.errors import InputError
from core.rates import PERIODS_PER_YEAR, cdi_daily_returns
from core.strategies import STRATEGIES, Param, Strategy, get_strategy

__all__ = [
    "OBJECTIVES",
    "WalkForwardResult",
    "walk_forward",
    "window_bounds",
    "sweep",
    "evaluate",
    "Mapper",
    "local_map",
]

#: Objective name -> metric key (higher is better for all).
OBJECTIVES: dict[str, str] = {
    "sharpe": "sharpe",
    "sortino": "sortino",
    "calmar": "calmar",
    "total_return": "total_return_pct",
    "profit_factor": "profit_factor",
}

Progress = Callable[[float, str], None]

#: ``mapper(func, items, on_done)`` -> ``[func(x) for x in items]`` in order, however it is
#: computed (``func`` is a module-level function, items are picklable); ``on_done(k, n)``
#: is called as chunks finish (k of n). None = a loop in this process.
Mapper = Callable[[Callable, list, Callable[[int, int], None] | None], list]


def local_map(func: Callable, items: list, on_done: Callable[[int, int], None] | None = None):
    """The default :data:`Mapper`: ``func`` over ``items`` in this process, in order."""
    out = []
    for k, x in enumerate(items):
        out.append(func(x))
        if on_done is not None:
            on_done(k + 1, len(items))
    return out


@dataclass
class WalkForwardResult:
    """Outcome of :func:`walk_forward`.

    Attributes
    ----------
    windows : pandas.DataFrame
        One row per window: ``window, train_start, train_end, test_start, test_end,
        params (dict), is_score, oos_score, is_return_pct, oos_return_pct, oos_trades``.
    oos_equity : pandas.Series
        Stitched out-of-sample equity in R$ (starts at the configured cash).
    oos_metrics : dict
        Metrics of the stitched out-of-sample equity and trades.
    oos_trades : pandas.DataFrame
        Every out-of-sample trade.
    heatmap : pandas.DataFrame or None
        Objective over a two-parameter grid (index: y parameter values, columns: x values).
    heatmap_params : tuple of str or None
        ``(x, y)`` parameter names.
    oos_benchmarks : pandas.DataFrame or None
        Buy-and-hold, ^BVSP and CDI over the out-of-sample dates (R$, same start cash).
    """

    strategy: str
    tickers: list[str]
    objective: str
    anchored: bool
    n_trials: int
    windows: pd.DataFrame
    oos_equity: pd.Series
    oos_metrics: dict
    oos_trades: pd.DataFrame
    heatmap: pd.DataFrame | None = None
    heatmap_params: tuple[str, str] | None = None
    config: EngineConfig = field(default_factory=EngineConfig)
    oos_benchmarks: pd.DataFrame | None = None
    run_id: int | None = None
    oos_result: object | None = None

    def to_backtest_result(self):
        """The stitched out-of-sample result as a storable
        :class:`core.backtest.runner.BacktestResult` (``params``: the last window's best;
        ``extra``: the windows, mode and objective)."""
        from core.backtest.metrics import drawdown, monthly_returns
        from core.backtest.runner import BacktestResult

        w = self.windows
        windows = [
            {
                "window": int(r.window),
                "train": [r.train_start.strftime("%Y-%m-%d"), r.train_end.strftime("%Y-%m-%d")],
                "test": [r.test_start.strftime("%Y-%m-%d"), r.test_end.strftime("%Y-%m-%d")],
                "params": r.params,
                "is_score": r.is_score,
                "oos_score": r.oos_score,
            }
            for r in w.itertuples(index=False)
        ]
        wf_extra = {
            "walk_forward": {
                "mode": "anchored" if self.anchored else "rolling",
                "objective": self.objective,
                "n_trials": self.n_trials,
                "windows": windows,
            }
        }
        if self.oos_result is not None:
            from dataclasses import replace

            r = self.oos_result
            return replace(
                r,
                params=dict(w["params"].iloc[-1]) if len(w) else {},
                trades=r.trades.drop(columns=["window"], errors="ignore"),
                extra={**(r.extra or {}), **wf_extra},
            )
        trades = self.oos_trades.drop(columns=["window"], errors="ignore")
        bench = self.oos_benchmarks
        if bench is None:
            bench = pd.DataFrame(index=self.oos_equity.index)
        return BacktestResult(
            strategy=self.strategy,
            params=dict(w["params"].iloc[-1]) if len(w) else {},
            tickers=list(self.tickers),
            start=self.oos_equity.index[0],
            end=self.oos_equity.index[-1],
            config=self.config,
            equity=self.oos_equity,
            benchmarks=bench,
            drawdown=drawdown(self.oos_equity),
            exposure=pd.Series(0.0, index=self.oos_equity.index),
            trades=trades,
            metrics=self.oos_metrics,
            monthly=monthly_returns(self.oos_equity),
            taxes=tax_report(trades),
            extra={
                "walk_forward": {
                    "mode": "anchored" if self.anchored else "rolling",
                    "objective": self.objective,
                    "n_trials": self.n_trials,
                    "windows": windows,
                }
            },
        )

    def to_json_dict(self) -> dict:
        """Plain data for the CLI's ``--json``."""
        w = self.windows.copy()
        for c in ("train_start", "train_end", "test_start", "test_end"):
            w[c] = w[c].dt.strftime("%Y-%m-%d")
        out = {
            "run_id": self.run_id,
            "strategy": self.strategy,
            "tickers": self.tickers,
            "objective": self.objective,
            "mode": "anchored" if self.anchored else "rolling",
            "n_trials": self.n_trials,
            "windows": w.to_dict(orient="records"),
            "metrics": self.oos_metrics,
            "trades": [
                {
                    "ticker": r.ticker,
                    "entry_date": pd.Timestamp(r.entry_date).strftime("%Y-%m-%d"),
                    "entry_price": float(r.entry_price),
                    "exit_date": pd.Timestamp(r.exit_date).strftime("%Y-%m-%d"),
                    "exit_price": float(r.exit_price),
                    "shares": int(r.shares),
                    "pnl": float(r.pnl),
                }
                for r in self.oos_trades.itertuples(index=False)
            ],
            "equity": [
                {"date": d.strftime("%Y-%m-%d"), "equity": float(v)}
                for d, v in self.oos_equity.items()
            ],
        }
        if self.heatmap is not None and self.heatmap_params is not None:
            out["heatmap"] = {
                "x": self.heatmap_params[0],
                "y": self.heatmap_params[1],
                "x_values": [float(v) for v in self.heatmap.columns],
                "y_values": [float(v) for v in self.heatmap.index],
                "z": self.heatmap.to_numpy().tolist(),
            }
        return out


def window_bounds(
    n: int, n_windows: int, train_ratio: float = 2.0, anchored: bool = False
) -> list[tuple[int, int, int, int]]:
    """Positions ``(train_lo, train_hi, test_lo, test_hi)`` (half-open) of each window.

    Raises
    ------
    InputError
        When the spans would be shorter than 20 sessions.
    """
    if n_windows < 1:
        raise InputError("Use ao menos 1 janela de walk-forward.")
    L = int(n // (n_windows + train_ratio))
    train = int(round(train_ratio * L))
    if L < 20 or train < 40:
        raise InputError(
            f"Período curto demais para {n_windows} janelas ({n} pregões): reduza as janelas "
            "ou aumente o período."
        )
    out = []
    for w in range(n_windows):
        test_lo = train + w * L
        test_hi = n if w == n_windows - 1 else test_lo + L
        train_lo = 0 if anchored else w * L
        out.append((train_lo, test_lo, test_lo, test_hi))
    return out


def _slice(inputs: MarketInputs, end: pd.Timestamp) -> MarketInputs:
    bars = {t: b.loc[:end] for t, b in inputs.bars.items()}
    sig = {t: b.loc[:end] for t, b in inputs.signal_bars.items()}
    keep = [t for t, b in bars.items() if len(b)]
    return MarketInputs(
        {t: bars[t] for t in keep},
        {t: sig[t] for t in keep},
        inputs.actions,
        inputs.lots,
        inputs.kinds,
        inputs.adjusted,
    )


def evaluate(
    strategy: Strategy,
    bars: dict[str, pd.DataFrame] | MarketInputs,
    config: EngineConfig,
    start: pd.Timestamp,
    end: pd.Timestamp,
    rf: pd.Series | None = None,
):
    """Backtest ``strategy`` on ``[start, end]`` using bars up to ``end`` only.

    ``bars`` is a :class:`core.backtest.runner.MarketInputs` (traded prices, actions, lots)
    or a plain dict of bars (traded as given, no actions).

    Returns
    -------
    (metrics, equity, trades, exposure)
    """
    if not isinstance(bars, MarketInputs):
        bars = MarketInputs(bars, bars, pd.DataFrame(), {}, {}, True)
    sl = _slice(bars, end)
    if not sl.bars:
        raise InputError("Sem barras na janela.")
    sigs = compute_signals(strategy, sl.signal_bars, None if sl.adjusted else sl.bars)
    res = run_engine(sl.bars, sigs, config, start=start, actions=sl.actions, lots=sl.lots)
    eq = res.window_equity
    expo = res.window_exposure
    m = compute_metrics(
        eq,
        res.trades,
        rf=None if rf is None else rf.reindex(eq.index),
        exposure=expo,
    )
    return m, eq, res.trades, expo


def _share_model(probe: Strategy, strat: Strategy) -> None:
    """Hand the probe's loaded champion (``ml_filter``'s ``model``) to a new instance, so a
    walk-forward loads it once rather than once per trial."""
    if hasattr(probe, "model"):
        cast(Any, strat).model = probe.model


def _bounds(p: Param) -> tuple[float, float]:
    """``(low, high)`` of a numeric parameter; ValueError when it declares no range."""
    if p.low is None or p.high is None:
        raise ValueError(f"Parameter {p.name} declares no low/high range to search.")
    return float(p.low), float(p.high)


def _score(m: dict, objective: str) -> float:
    v = m.get(OBJECTIVES[objective])
    if v is None or (isinstance(v, float) and (math.isnan(v))):
        return -1e9
    if math.isinf(v):
        return 1e6
    return float(v)


def _suggest(trial: optuna.Trial, p: Param):
    if p.kind == "int":
        low, high = _bounds(p)
        return trial.suggest_int(p.name, int(low), int(high), step=int(p.step or 1))
    if p.kind == "float":
        low, high = _bounds(p)
        if p.step:
            hi = low + math.floor((high - low) / p.step + 1e-9) * p.step
            return trial.suggest_float(p.name, low, float(hi), step=float(p.step))
        return trial.suggest_float(p.name, low, high)
    if p.kind == "bool":
        return trial.suggest_categorical(p.name, [False, True])
    return trial.suggest_categorical(p.name, list(p.choices))


def _grid(p: Param, size: int) -> list:
    low, high = _bounds(p)
    if p.kind == "int":
        vals = np.unique(np.round(np.linspace(low, high, size)).astype(int))
        return [int(v) for v in vals]
    return [float(v) for v in np.linspace(low, high, size)]


@dataclass(frozen=True)
class _WindowTask:
    """One window's parameter search (picklable: shipped to a worker by a mapper)."""

    strategy: str
    fixed: dict
    searched: tuple
    model: tuple  # (strategy has a ``model`` attribute, its value)
    inputs: MarketInputs
    config: EngineConfig
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    rf: pd.Series
    objective: str
    n_trials: int
    seed: int


def _window_study(task: _WindowTask, callback=None) -> dict | None:
    """Optuna TPE search of one window; the best parameters found (None: no valid set)."""
    cls = STRATEGIES[task.strategy]
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective_fn(trial: optuna.Trial) -> float:
        params = dict(task.fixed)
        for p in task.searched:
            params[p.name] = _suggest(trial, p)
        try:
            strat = cls(**params)
        except InputError:
            raise optuna.TrialPruned() from None
        if task.model[0]:
            cast(Any, strat).model = task.model[1]
        m, _, _, _ = evaluate(
            strat, task.inputs, task.config, task.train_start, task.train_end, task.rf
        )
        trial.set_user_attr("return", m["total_return_pct"])
        return _score(m, task.objective)

    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=task.seed)
    )
    study.optimize(objective_fn, n_trials=task.n_trials, callbacks=[callback] if callback else [])
    if not any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):
        return None
    return dict(study.best_trial.params)


@dataclass(frozen=True)
class _HeatmapRow:
    """One row (one value of the second parameter) of the stability heatmap."""

    strategy: str
    params: dict
    pair: tuple
    xs: list
    y: object
    model: tuple  # as :attr:`_WindowTask.model`
    bars: dict
    config: EngineConfig
    start: pd.Timestamp
    end: pd.Timestamp
    rf: pd.Series
    objective: str


def _heatmap_row(row: _HeatmapRow) -> list[float]:
    """The objective at each ``xs`` value of the row (NaN: invalid or no score)."""
    cls = STRATEGIES[row.strategy]
    out = []
    for xv in row.xs:
        try:
            strat = cls(**(row.params | {row.pair[0]: xv, row.pair[1]: row.y}))
        except InputError:
            out.append(math.nan)
            continue
        if row.model[0]:
            cast(Any, strat).model = row.model[1]
        m, _, _, _ = evaluate(strat, row.bars, row.config, row.start, row.end, row.rf)
        sc = _score(m, row.objective)
        out.append(math.nan if sc <= -1e9 else sc)
    return out


def walk_forward(
    store: Store,
    strategy: str,
    tickers: Sequence[str] | str,
    start=None,
    end=None,
    *,
    fixed_params: dict | None = None,
    config: EngineConfig | None = None,
    n_windows: int = 4,
    train_ratio: float = 2.0,
    anchored: bool = False,
    objective: str = "sharpe",
    n_trials: int = 30,
    heatmap: tuple[str, str] | None | bool = True,
    heatmap_size: int = 7,
    adjusted: bool = False,
    seed: int = 0,
    progress: Progress | None = None,
    mapper: Mapper | None = None,
) -> WalkForwardResult:
    """Walk-forward optimisation of ``strategy`` (see the module docstring).

    Parameters
    ----------
    strategy : str
        Strategy name; its parameters with ``optimize=True`` are searched, the others
        stay at ``fixed_params`` or their defaults.
    tickers : list of str
    start, end : date-like, optional
    n_windows : int
        Number of out-of-sample test spans.
    train_ratio : float
        Training span length in test spans (rolling) / initial training span (anchored).
    anchored : bool
    objective : str
        Key of :data:`OBJECTIVES`.
    n_trials : int
        Optuna trials per window.
    heatmap : tuple of two names, True (the first two numeric parameters) or None/False
    seed : int
        Sampler seed (reproducible).
    progress : callable, optional
    mapper : Mapper, optional
        Runs the windows' searches and the heatmap's rows (independent chunks); None = in
        this process with per-trial progress. The result does not depend on it.

    Returns
    -------
    WalkForwardResult

    Raises
    ------
    InputError
        Unknown strategy/objective, a strategy with nothing to optimise, or too short a
        period.
    """
    prog: Progress = progress or _no_progress
    if objective not in OBJECTIVES:
        raise InputError(f"Objetivo desconhecido {objective!r}: use {', '.join(OBJECTIVES)}.")
    if strategy not in STRATEGIES:
        raise InputError(f"Estratégia desconhecida {strategy!r}.")
    if n_trials < 1:
        raise InputError("Use ao menos 1 tentativa por janela.")
    cls = STRATEGIES[strategy]
    fixed = dict(fixed_params or {})
    searched = [p for p in cls.params if p.optimize and p.name not in fixed]
    if not searched:
        raise InputError(f"{strategy} não tem parâmetros a otimizar.")
    config = config or EngineConfig()
    if isinstance(tickers, str):
        tickers = tickers.replace(",", " ").split()
    tickers = [t.upper() for t in tickers]
    s_ts = pd.Timestamp(start) if start else None
    e_ts = pd.Timestamp(end) if end else None
    probe = get_strategy(strategy, **fixed)
    probe.prepare(store)
    if config.reinvest is None:
        from dataclasses import replace

        config = replace(config, reinvest=bool(probe.reinvests))
    inputs = load_inputs(store, tickers, e_ts, adjusted=adjusted, lot_size=config.sizing.lot_size)
    bars = inputs.bars
    index = bars[tickers[0]].index
    for t in tickers[1:]:
        index = index.union(bars[t].index)
    window_idx = index[index >= s_ts] if s_ts is not None else index
    if s_ts is None and len(window_idx) > probe.warmup() + 100:
        window_idx = window_idx[probe.warmup() :]  # leave room for the indicators' warm-up
    rf = cdi_daily_returns(store, index)
    bounds = window_bounds(len(window_idx), n_windows, train_ratio, anchored)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rows: list = []
    window_strats: list = []
    total_steps = n_windows * (n_trials + 1) + (heatmap_size**2 if heatmap else 0)
    step = 0
    best_params: dict = {}
    # (has a model attribute, its value): an ML filter's model travels with the chunks
    model = (hasattr(probe, "model"), getattr(probe, "model", None))
    spans = [
        (window_idx[a], window_idx[b - 1], window_idx[c], window_idx[d - 1])
        for a, b, c, d in bounds
    ]
    tasks = [
        _WindowTask(
            strategy, fixed, tuple(searched), model, inputs, config, tr_s, tr_e, rf,
            objective, n_trials, seed + w,
        )
        for w, (tr_s, tr_e, _, _) in enumerate(spans)
    ]  # fmt: skip
    if mapper is None:
        studies = []
        for w, task in enumerate(tasks):

            def cb(study, trial, w=w):
                nonlocal step
                step += 1
                prog(
                    min(0.99, step / total_steps),
                    f"Janela {w + 1}/{n_windows}: tentativa {trial.number + 1}/{n_trials}",
                )

            studies.append(_window_study(task, cb))
    else:

        def done(k, n):
            prog(min(0.99, k * (n_trials + 1) / total_steps), f"Janelas otimizadas: {k}/{n}")

        studies = mapper(_window_study, tasks, done)
        step = n_windows * n_trials
    for w, (tr_s, tr_e, te_s, te_e) in enumerate(spans):
        found = studies[w]
        if found is None:
            raise InputError(f"Nenhuma combinação válida de parâmetros na janela {w + 1}.")
        best_params = dict(fixed) | dict(found)
        strat = cls(**best_params)
        _share_model(probe, strat)
        m_is, _, _, _ = evaluate(strat, inputs, config, tr_s, tr_e, rf)
        m_oos, eq_oos, tr_oos, ex_oos = evaluate(strat, inputs, config, te_s, te_e, rf)
        step += 1
        window_strats.append((te_s, te_e, strat))
        rows.append(
            {
                "window": w + 1,
                "train_start": tr_s,
                "train_end": tr_e,
                "test_start": te_s,
                "test_end": te_e,
                "params": best_params,
                "is_score": _score(m_is, objective),
                "oos_score": _score(m_oos, objective),
                "is_return_pct": m_is["total_return_pct"],
                "oos_return_pct": m_oos["total_return_pct"],
                "is_trades": m_is["n_trades"],
                "oos_trades": m_oos["n_trades"],
            }
        )
    # one capital path over every test span, each acting on its window's signals
    last_end = window_strats[-1][1]
    full = _slice(inputs, last_end)
    stitched_sigs: dict[str, pd.DataFrame] = {}
    for t in full.bars:
        idx_t = full.signal_bars[t].index
        parts = []
        for w, (te_s, te_e, strat) in enumerate(window_strats):
            sl = _slice(inputs, te_e)
            if t not in sl.signal_bars:
                continue
            sig = compute_signals(
                strat, {t: sl.signal_bars[t]}, None if sl.adjusted else {t: sl.bars[t]}
            )[t]
            # the signal of the bar before a span's first session acts in that span
            lo = int(idx_t.searchsorted(te_s)) - 1 if w > 0 else 0
            hi = int(idx_t.searchsorted(te_e, side="right"))
            parts.append(sig.iloc[max(lo, 0) : hi])
        if not parts:
            from core.strategies.base import empty_signals

            stitched_sigs[t] = empty_signals(idx_t)
            continue
        cat = pd.concat(parts)
        stitched_sigs[t] = cat[~cat.index.duplicated(keep="last")].reindex(idx_t)
        for col in ("entry_long", "exit_long", "entry_short", "exit_short"):
            if col in stitched_sigs[t].columns:
                stitched_sigs[t][col] = stitched_sigs[t][col].fillna(False).astype(bool)
    first_start = window_strats[0][0]
    res = run_engine(
        full.bars,
        stitched_sigs,
        config,
        start=first_start,
        actions=full.actions,
        lots=full.lots,
    )
    oos_res = finish_result(store, probe, tickers, full, res, config, None)
    oos_res.params = dict(best_params)
    starts = pd.DatetimeIndex([ws[0] for ws in window_strats])
    trades_all = oos_res.trades.copy()
    if len(trades_all):
        trades_all["window"] = (
            starts.searchsorted(pd.DatetimeIndex(trades_all["entry_date"]), side="right")
        ).clip(1, len(starts))
    oos_res.trades = trades_all
    stitched = oos_res.equity
    bench = oos_res.benchmarks
    oos_m = oos_res.metrics
    # stability heatmap
    hm, hm_params = None, None
    numeric = [p for p in searched if p.kind in ("int", "float")]
    if heatmap:
        pair: tuple[str, ...] | None
        if heatmap is True:
            pair = tuple(p.name for p in numeric[:2]) if len(numeric) >= 2 else None
        elif not isinstance(heatmap, bool):
            pair = tuple(heatmap)
        else:
            pair = None
        if pair:
            declared = {p.name: p for p in cls.params}
            for nme in pair:
                if nme not in declared or declared[nme].kind not in ("int", "float"):
                    raise InputError(f"Parâmetro do mapa de estabilidade inválido: {nme}.")
            px, py = declared[pair[0]], declared[pair[1]]
            xs, ys = _grid(px, heatmap_size), _grid(py, heatmap_size)
            hs, he = window_idx[0], window_idx[-1]
            rows_hm = [
                _HeatmapRow(
                    strategy, best_params, pair, xs, yv, model, bars, config, hs, he, rf,
                    objective,
                )
                for yv in ys
            ]  # fmt: skip
            base_step = step

            def row_done(k, n):
                prog(min(0.99, (base_step + k * len(xs)) / total_steps), "Mapa de estabilidade")

            z = np.array((mapper or local_map)(_heatmap_row, rows_hm, row_done), dtype="float64")
            z = z.reshape(len(ys), len(xs))
            hm = pd.DataFrame(
                z, index=pd.Index(ys, name=pair[1]), columns=pd.Index(xs, name=pair[0])
            )
            hm_params = (pair[0], pair[1])
    prog(1.0, "Pronto")
    return WalkForwardResult(
        strategy=strategy,
        tickers=tickers,
        objective=objective,
        anchored=anchored,
        n_trials=n_trials,
        windows=pd.DataFrame(rows),
        oos_equity=stitched,
        oos_metrics=oos_m,
        oos_trades=trades_all,
        heatmap=hm,
        heatmap_params=hm_params,
        config=config,
        oos_benchmarks=bench,
        oos_result=oos_res,
    )


# --------------------------------------------------------------------------- sweeps
def _sweep_chunk(args) -> list[tuple[int, str, float, float, int]]:
    strategy, param_sets, bars, config, start = args
    cls = STRATEGIES[strategy]
    prices = {
        t: tuple(b[c].to_numpy(dtype="float64") for c in ("open", "high", "low", "close"))
        for t, b in bars.items()
    }
    starts = {
        t: 0 if start is None else int(b.index.searchsorted(pd.Timestamp(start)))
        for t, b in bars.items()
    }
    out = []
    for i, params in param_sets:
        try:
            strat = cls(**params)
        except InputError:
            continue
        for t, b in bars.items():
            eq, tr = simulate_single(prices[t], strat.signals(b), config, starts[t])
            eq = eq[starts[t] :]
            r = np.diff(eq) / eq[:-1]
            sd = r.std(ddof=1) if len(r) > 1 else 0.0
            sharpe = float(r.mean() / sd * math.sqrt(PERIODS_PER_YEAR)) if sd > 0 else math.nan
            out.append((i, t, 100.0 * (eq[-1] / eq[0] - 1.0), sharpe, len(tr)))
    return out


def sweep(
    strategy: str,
    param_sets: Sequence[dict],
    bars: dict[str, pd.DataFrame],
    config: EngineConfig | None = None,
    *,
    start=None,
    n_jobs: int | None = None,
    progress: Progress | None = None,
    mapper: Mapper | None = None,
) -> pd.DataFrame:
    """Backtest every parameter set on every ticker separately (a brute-force grid).

    Parameters
    ----------
    param_sets : sequence of dict
    bars : dict of ticker -> canonical bars
    n_jobs : int, optional
        Worker processes (default: CPU count; 1 runs in this process).
    mapper : Mapper, optional
        Runs the chunks instead of the process pool (e.g. over Celery workers).

    Returns
    -------
    pandas.DataFrame
        Columns ``set, ticker, total_return_pct, sharpe (excess over 0, annualised),
        n_trades``; invalid parameter sets are skipped.
    """
    config = config or EngineConfig()
    n_jobs = n_jobs or os.cpu_count() or 1
    items = list(enumerate(param_sets))
    n_chunks = max(1, min(len(items), n_jobs * 4))
    chunks = [items[i::n_chunks] for i in range(n_chunks)]
    rows: list = []
    prog: Callable[..., None] = progress or (lambda f, m="": None)
    if mapper is not None:
        args = [(strategy, ch, bars, config, start) for ch in chunks]
        for part in mapper(_sweep_chunk, args, lambda k, n: prog(k / n, "Varredura")):
            rows += part
    elif n_jobs == 1:
        for k, ch in enumerate(chunks):
            rows += _sweep_chunk((strategy, ch, bars, config, start))
            prog((k + 1) / len(chunks), "Varredura")
    else:
        with ProcessPoolExecutor(max_workers=n_jobs) as ex:
            futs = [ex.submit(_sweep_chunk, (strategy, ch, bars, config, start)) for ch in chunks]
            for k, f in enumerate(futs):
                rows += f.result()
                prog((k + 1) / len(chunks), "Varredura")
    return pd.DataFrame(rows, columns=["set", "ticker", "total_return_pct", "sharpe", "n_trades"])
