"""Regression (issue 14): Cotações' KPI cards showed the futures series WINFUT in "R$";
its prices are index points (the contract pays R$ 0,20 per point)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from components.format import fmt_price, price_unit
from components.quotes import quote_kpis
from core.market import QuoteStats


def _view(kind: str):
    stats = QuoteStats(
        last=115_230.0,
        last_date=pd.Timestamp("2022-05-18"),
        change_1d=0.01,
        change_range=0.05,
        high_52w=121_000.0,
        low_52w=100_500.0,
        volatility=0.2,
        beta=1.0,
    )
    return SimpleNamespace(
        kind=kind,
        stats=stats,
        start=pd.Timestamp("2022-01-03"),
        end=pd.Timestamp("2022-05-18"),
    )


def test_futures_kpis_in_points_stocks_in_reais():
    fut = str(quote_kpis(_view("future")))
    assert "115.230 pts" in fut and "100.500 pts – 121.000 pts" in fut and "R$" not in fut
    stock = str(quote_kpis(_view("stock")))
    assert "R$ 115.230,00" in stock and "pts" not in stock


def test_one_price_formatter_for_every_kind():
    assert fmt_price(127791.6, "future") == "127.792 pts" == fmt_price(127791.6, "index")
    assert fmt_price(38.5, "stock") == "R$ 38,50"
    assert (price_unit("future"), price_unit("index"), price_unit("fii")) == ("pts", "pts", "R$")
