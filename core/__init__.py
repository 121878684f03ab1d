"""Pregão's domain core: B3 data, analytics, models, portfolios and backtests.

This package is plain Python. It never imports dash, flask, plotly, ``components``,
``pages`` or ``dashboard``; a test pins that (``tests/unit/test_architecture.py``).

Conventions kept throughout
---------------------------
* Prices are in BRL (R$); the IBOVESPA (``^BVSP``) is in index points.
* Returns are fractions (0.01 == 1 %), simple unless a name says ``log``.
* Annualisation uses 252 B3 sessions a year.
* Dates are tz-naive session dates (daily bars) or America/Sao_Paulo wall time (intraday).
"""

__all__ = ["errors"]
