"""Backtesting on B3: engine, costs and taxes, metrics, walk-forward optimisation."""
