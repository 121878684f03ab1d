"""Issue 9: Mercado's watchlist ("Minha lista"), kind filter, pagination and volume units.

Regression: one COTAHIST day used to flood Mercado with 1.087 unpaginated rows and label
^BVSP's volume as "ações"."""

from __future__ import annotations

import pytest

from components.market import PAGE_SIZE, grid_rows, index_header, market_grid
from core.data.watchlist import add_to_watchlist, remove_from_watchlist, set_watchlist, watchlist
from core.errors import InputError, UnknownTickerError
from core.market import market_snapshot


def test_watchlist_is_seeded_persisted_and_edited(bundled_store, empty_store):
    assert "PETR4" in watchlist(bundled_store) and "^BVSP" in watchlist(bundled_store)
    s = empty_store  # edits on a store of its own: the shared bundled one must not change
    for t in ("VALE3", "PETR4", "ITUB4"):
        s.upsert_instrument(t)
    set_watchlist(s, ["VALE3", "PETR4"])
    assert watchlist(s) == ["VALE3", "PETR4"]
    add_to_watchlist(s, ["ITUB4", "VALE3"])
    assert watchlist(s) == ["VALE3", "PETR4", "ITUB4"]
    remove_from_watchlist(s, ["PETR4"])
    assert watchlist(s) == ["VALE3", "ITUB4"]
    with pytest.raises(UnknownTickerError):
        add_to_watchlist(s, ["XXXX3"])
    with pytest.raises(InputError):
        add_to_watchlist(s, ["<script>"])


def test_snapshot_filters_by_list_and_kind(bundled_store):
    snap = market_snapshot(bundled_store, tickers=["PETR4", "^BVSP"])
    assert sorted(snap["ticker"]) == ["PETR4", "^BVSP"]
    only_idx = market_snapshot(bundled_store, kinds=["index"])
    assert list(only_idx["ticker"]) == ["^BVSP"]
    assert only_idx["volume_unit"].iloc[0] == "points"


def test_grid_is_paginated_and_index_volume_has_its_unit(bundled_store):
    snap = market_snapshot(bundled_store, tickers=["PETR4", "^BVSP"])
    rows = grid_rows(snap)
    by = {r["ticker"]: r for r in rows}
    assert by["PETR4"]["volume_unit_label"] == "ações"
    assert by["^BVSP"]["volume_unit_label"] != "ações"
    grid = market_grid(rows, "g")
    assert (
        grid.dashGridOptions["pagination"]
        and grid.dashGridOptions["paginationPageSize"] == PAGE_SIZE
    )
    header = str(index_header(by["^BVSP"]))
    assert "unid. do índice" in header


def test_52_week_range_is_on_todays_share_basis(bundled_store):
    """BBAS3 split 2:1 on 16/04/2024: the traded history halves there, the range must not."""
    snap = market_snapshot(bundled_store, tickers=["BBAS3"]).iloc[0]
    assert snap["dist_high_52w"] > -0.35  # -53 % if the pre-split traded prices were used
    assert snap["high_52w"] < 40
