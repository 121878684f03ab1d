"""Mercado (issue 14): B3 sectors of the bundled stocks, the sector treemap sized by traded
value and the grid's one-month text sparkline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from components.market import (
    SPARK_BARS,
    grid_rows,
    market_grid,
    sector_treemap,
    sparkline_text,
)
from core.data.bundled import bundled_instruments
from core.data.sectors import UNCLASSIFIED, load_sectors


def test_every_bundled_stock_has_a_b3_sector():
    inst = bundled_instruments()
    stocks = set(inst.loc[inst["kind"] == "stock", "ticker"])
    sectors = load_sectors()
    assert stocks <= set(sectors), stocks - set(sectors)
    assert sectors["PETR4"].sector == "Petróleo, Gás e Biocombustíveis"
    assert sectors["ITUB4"].segment == "Bancos"
    assert all(s.sector and s.subsector and s.segment for s in sectors.values())


def test_sparkline_scales_between_min_and_max():
    assert sparkline_text([1.0, 2.0, 3.0]) == SPARK_BARS[0] + SPARK_BARS[4] + SPARK_BARS[-1]
    assert sparkline_text([5.0, np.nan, 5.0]) == SPARK_BARS[3] * 2
    assert sparkline_text([1.0]) == "" and sparkline_text(None) == ""


def _snap():
    return pd.DataFrame(
        {
            "ticker": ["PETR4", "PRIO3", "ITUB4", "^BVSP"],
            "name": ["Petrobras PN", "PRIO ON", "Itaú PN", "Ibovespa"],
            "kind": ["stock", "stock", "stock", "index"],
            "sector": ["Petróleo", "Petróleo", "Financeiro", UNCLASSIFIED],
            "chg_1d": [0.02, -0.04, 0.01, 0.005],
            "traded_value": [3e9, 1e9, 2e9, np.nan],
        }
    )


def test_treemap_groups_by_sector_sized_by_traded_value():
    tr = sector_treemap(_snap()).data[0]
    leaves = {i: (p, v) for i, p, v in zip(tr.ids, tr.parents, tr.values) if i.startswith("t:")}
    assert set(leaves) == {"t:PETR4", "t:PRIO3", "t:ITUB4"}  # the index has no traded value
    assert leaves["t:PETR4"] == ("s:Petróleo", 3e9)
    colors = dict(zip(tr.ids, tr.marker.colors))
    # the sector's colour is its change weighted by traded value: (3·2 % − 1·4 %) / 4
    assert colors["s:Petróleo"] == pytest.approx(0.5)
    assert colors["t:PRIO3"] == pytest.approx(-4.0)
    assert "+2,0%" in list(tr.text)


def test_grid_rows_carry_the_sparkline_not_the_prices():
    snap = _snap().assign(
        last_date=pd.Timestamp("2024-11-14"), spark_1m=[[1.0, 2.0], [2.0, 1.0], [], [3.0, 3.0]]
    )
    rows = {r["ticker"]: r for r in grid_rows(snap)}
    assert rows["PETR4"]["spark"] == SPARK_BARS[0] + SPARK_BARS[-1]
    assert rows["ITUB4"]["spark"] == "" and "spark_1m" not in rows["PETR4"]
    fields = [c["field"] for c in market_grid(list(rows.values()), "g").columnDefs]
    assert "sector" in fields and "spark" in fields
