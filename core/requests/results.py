"""Typed results at the request facade, where the engines hand back string-keyed dicts.

:class:`BacktestMetrics` is the typed form of the ~30-key metrics dict of a backtest
(:func:`core.backtest.metrics.compute_metrics`; labels and units in
:data:`core.backtest.metrics.METRIC_INFO`); :class:`core.requests.frontier.FrontierResult`
does the same for the portfolio analysis. ``to_dict()`` gives back the exact dict, so the
CLI's JSON keys and the stored runs do not change.

Units follow the key suffixes: ``_brl`` in R$, ``_pct`` in % (already × 100), ``_sessions``
in B3 sessions; ratios are plain numbers; NaN where a figure is undefined (no trades, one
session ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["BacktestMetrics", "backtest_metrics"]

_NAN = math.nan


@dataclass(frozen=True)
class BacktestMetrics:
    """The metrics of one backtest (see :data:`core.backtest.metrics.METRIC_INFO`).

    Every attribute is the metric of the same name; ``extra`` keeps keys a newer engine adds
    that this class does not know yet (they survive ``to_dict()``).
    """

    initial_equity_brl: float = _NAN
    final_equity_brl: float = _NAN
    net_profit_brl: float = _NAN
    total_return_pct: float = _NAN
    annual_return_pct: float = _NAN
    volatility_pct: float = _NAN
    sharpe: float = _NAN
    sortino: float = _NAN
    calmar: float = _NAN
    max_drawdown_pct: float = _NAN
    max_drawdown_sessions: int = 0
    n_trades: int = 0
    too_few_trades: bool = True
    win_rate_pct: float = _NAN
    win_rate_ci_low_pct: float = _NAN
    win_rate_ci_high_pct: float = _NAN
    profit_factor: float = _NAN
    payoff: float = _NAN
    expectancy_brl: float = _NAN
    expectancy_pct: float = _NAN
    avg_holding_sessions: float = _NAN
    exposure_pct: float = _NAN
    turnover: float = _NAN
    costs_brl: float = 0.0
    taxes_brl: float = 0.0
    after_tax_profit_brl: float = _NAN
    after_tax_equity_brl: float = _NAN
    proventos_brl: float = 0.0
    interest_brl: float = 0.0
    jcp_withheld_brl: float = 0.0
    cdi_return_pct: float = _NAN
    buy_hold_return_pct: float = _NAN
    bvsp_return_pct: float = _NAN
    excess_vs_buy_hold_pct: float = _NAN
    excess_vs_bvsp_pct: float = _NAN
    sessions: int = 0
    extra: dict = field(default_factory=dict, compare=False)
    order: tuple = field(default=(), compare=False, repr=False)

    @classmethod
    def from_dict(cls, metrics: dict[str, Any]) -> BacktestMetrics:
        """Typed metrics from the engine's dict (unknown keys go to ``extra``)."""
        known = {f.name for f in fields(cls)} - {"extra", "order"}
        kw: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in known and f.name in metrics:
                v = metrics[f.name]
                if f.type == "int":
                    v = int(v) if v is not None and v == v else 0
                elif f.type == "bool":
                    v = bool(v)
                elif v is not None:
                    v = float(v)
                else:
                    v = _NAN
                kw[f.name] = v
        extra = {k: v for k, v in metrics.items() if k not in known}
        return cls(**kw, extra=extra, order=tuple(metrics))

    def to_dict(self) -> dict[str, Any]:
        """The engine's dict again, keys in the original order (JSON contract unchanged)."""
        values = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("extra", "order")
        }
        values.update(self.extra)
        keys = list(self.order) or list(values)
        return {k: values[k] for k in keys if k in values} | {
            k: v for k, v in values.items() if k not in keys
        }


def backtest_metrics(result: Any) -> BacktestMetrics:
    """The typed metrics of a :class:`core.backtest.runner.BacktestResult` (or of a
    :class:`core.backtest.optimize.WalkForwardResult`'s out-of-sample part)."""
    metrics = getattr(result, "metrics", None)
    if metrics is None:
        metrics = result.oos_metrics
    return BacktestMetrics.from_dict(metrics)
