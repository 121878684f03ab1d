"""Market-data sources: each turns an external format or service into canonical bars.

* :mod:`.cotahist` – B3's official COTAHIST files (fixed width).
* :mod:`.csvfile` – Yahoo, investing.com, ProfitChart and user-mapped CSV files.
* :mod:`.yahoo` – yfinance downloads (``.SA`` tickers, ``^BVSP``).
* :mod:`.mt5` – MetaTrader 5 terminals (``MetaTrader5`` on Windows or the ``mt5linux`` bridge).
* :mod:`.base` – the small interface every online source implements.
"""

__all__: list[str] = []
