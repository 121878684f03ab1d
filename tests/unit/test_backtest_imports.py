"""Pin the public names of the backtest and strategy modules."""

import importlib

import pytest

PUBLIC = {
    "core.backtest.costs": ["B3Costs", "B3_DEFAULT", "NO_COSTS", "COST_PRESETS", "cost_preset"],
    "core.backtest.sizing": [
        "Sizing",
        "SIZING_METHODS",
        "round_shares",
        "split_lots",
        "kelly_fraction",
    ],
    "core.backtest.engine": [
        "EngineConfig",
        "EngineResult",
        "run_engine",
        "simulate",
        "simulate_single",
        "TRADE_COLUMNS",
        "SIGNAL_COLUMNS",
    ],
    "core.backtest.metrics": [
        "METRIC_INFO",
        "compute_metrics",
        "wilson_interval",
        "drawdown",
        "monthly_returns",
        "MIN_TRADES",
    ],
    "core.backtest.taxes": ["TaxRules", "tax_report", "total_tax", "TAX_COLUMNS"],
    "core.backtest.runner": ["run_backtest", "BacktestResult", "load_bars", "adjust_bars"],
    "core.backtest.runs": ["save_run", "load_run", "list_runs", "delete_run", "code_version"],
    "core.backtest.optimize": [
        "walk_forward",
        "WalkForwardResult",
        "sweep",
        "OBJECTIVES",
        "window_bounds",
    ],
    "core.strategies": [
        "Strategy",
        "Param",
        "STRATEGIES",
        "get_strategy",
        "parse_params",
        "NoModelError",
    ],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names(module):
    mod = importlib.import_module(module)
    for name in PUBLIC[module]:
        assert name in mod.__all__, f"{module}.{name} missing from __all__"
        assert hasattr(mod, name)


def test_every_strategy_one_module_each():
    from core.strategies import STRATEGIES

    assert list(STRATEGIES) == [
        "sma_cross",
        "trend_following",
        "mean_reversion",
        "breakout",
        "macd_crossover",
        "rsi_divergence",
        "wave3",
        "ml_filter",
        "adaptive",
        "buy_and_hold",
        "opening_range_breakout",
        "vwap_reversion",
    ]
    for name, cls in STRATEGIES.items():
        assert cls.__module__ == f"core.strategies.{name}"
