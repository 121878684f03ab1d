"""The one AG Grid factory: Portuguese texts, raw values, percent columns in percent."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from components.data import instruments_grid_rows
from components.grid import LOCALE_PT, grid, pct_col, percent_values
from components.inputs import data_span, fold, ticker_options
from components.market import grid_rows, market_grid
from core.market import market_snapshot

ROOT = Path(__file__).resolve().parents[2]


def test_every_grid_is_built_by_the_factory():
    offenders = [
        p.name
        for folder in ("components", "pages")
        for p in (ROOT / folder).glob("*.py")
        if p.name != "grid.py" and "dag.AgGrid(" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_locale_covers_filters_pagination_and_empty_grid():
    for key, text in {
        "to": "a",
        "of": "de",
        "thousandSeparator": ".",
        "decimalSeparator": ",",
        "andCondition": "E",
        "orCondition": "OU",
        "greaterThan": "Maior que",
        "contains": "Contém",
    }.items():
        assert LOCALE_PT[key] == text
    assert "Nenhuma" in LOCALE_PT["noMatchingRows"]
    g = grid("g", [], [pct_col("x", "X")], no_rows="Vazio", page_size=25)
    opts = g.dashGridOptions
    assert opts["localeText"]["noRowsToShow"] == "Vazio" and opts["paginationPageSize"] == 25
    assert g.defaultColDef["wrapHeaderText"] and g.defaultColDef["autoHeaderHeight"]


def test_market_rows_hold_raw_values_and_percent_changes(bundled_store):
    """Regression: 'Mês > 10' matched nothing because the cells held fractions."""
    snap = market_snapshot(bundled_store)
    rows = {r["ticker"]: r for r in grid_rows(snap)}
    petr = rows["PETR4"]
    frac = float(snap.set_index("ticker").loc["PETR4", "chg_1m"])
    assert petr["chg_1m"] == frac * 100  # percent value, as displayed
    assert isinstance(petr["close"], float) and petr["last_date"] == "2024-11-14"
    assert petr["kind_label"] == "Ações" and rows["^BVSP"]["kind_label"] == "Índices"
    cols = {c["field"]: c for c in market_grid(list(rows.values()), "m").columnDefs}
    assert cols["chg_1m"]["filter"] == "agNumberColumnFilter"
    assert "ptPctValue" in cols["chg_1m"]["valueFormatter"]["function"]
    assert cols["last_date"]["filter"] == "agDateColumnFilter"


def test_percent_values_leaves_missing_alone():
    assert percent_values([{"a": 0.1, "b": None}], ["a", "b"]) == [{"a": 10.0, "b": None}]


def test_instrument_rows_are_raw_and_portuguese(bundled_store):
    from core.data.quality import quality_report

    rows = instruments_grid_rows(quality_report(bundled_store))
    r = next(x for x in rows if x["ticker"] == "PETR4")
    assert isinstance(r["n_bars"], int) and r["first_date"].count("-") == 2
    assert 0 < r["coverage"] <= 100 and r["kind"] == "Ação"
    assert "bundled" not in r["sources"]


def test_ticker_search_ignores_accents_and_case():
    df = pd.DataFrame({"ticker": ["ITUB4"], "name": ["Itaú Unibanco PN"]})
    (opt,) = ticker_options(df)
    assert "itau" in opt["search"] and opt["label"] == "ITUB4 · Itaú Unibanco PN"
    assert fold("AÇÃO Ônibus") == "acao onibus"


def test_date_span_ends_at_the_stocks_last_session(bundled_store):
    """Regression: Backtest's default end was 27/06/2025 (the index), stocks end 14/11/2024."""
    inst = bundled_store.instruments()
    first, last = data_span(inst, ("stock",))
    assert "2024-11-14" <= last < "2025-01-01" and first < "2011-01-01"
    assert data_span(inst, ("stock",), common=True)[1] == "2024-11-14"


def test_headers_fit_their_longest_word():
    from components.data import instruments_grid

    cols = {c["field"]: c for c in instruments_grid(pd.DataFrame(columns=[])).columnDefs}
    # "Cobertura" (9 letters) needs more than the 100 px it had
    assert cols["coverage"]["width"] >= 9 * 8 and cols["coverage"]["minWidth"] >= 9 * 8
