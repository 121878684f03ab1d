"""Imports on SQLite and PostgreSQL: same counts, idempotent, all-or-nothing, actions."""

from __future__ import annotations

import pandas as pd
import pytest

from core.data.actions import load_actions
from core.data.imports import import_files, import_log
from core.data.store import init_db
from tests.datafiles import cotahist_daily

pytestmark = pytest.mark.integration


def test_import_roundtrip_on_both_backends(store_url, tmp_path):
    s = init_db(store_url)
    try:
        cot = cotahist_daily(tmp_path)
        yahoo = tmp_path / "VALE3.SA.csv"
        yahoo.write_text(
            "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits\n"
            "2021-06-24 00:00:00-03:00,110.0,112.0,109.5,111.0,1000,0.0,0.0\n"
            "2021-06-25 00:00:00-03:00,111.5,113.0,111.0,112.0,1200,1.5,0.0\n"
            "2021-06-28 00:00:00-03:00,112.0,113.5,111.0,113.0,900,0.0,0.0\n"
        )
        rep = import_files(s, [cot, yahoo], everything=True)  # the whole market
        assert rep.status == "ok", rep.errors
        # VALE3 2021-06-25 comes from both: COTAHIST (B3 official) wins
        assert (rep.inserted, rep.kept) == (1086 + 2, 1)
        assert s.bars("VALE3", "2021-06-25", "2021-06-25")["close"].iloc[0] == 112.40
        assert len(load_actions(s, ["VALE3"])) == 1
        # idempotent
        again = import_files(s, [cot, yahoo])
        assert (again.inserted, again.updated) == (0, 0)
        # all or nothing: a bad second file leaves everything as it was
        n_before = len(s.bars("PETR4"))
        bad = tmp_path / "bad.TXT"
        bad.write_bytes(cot.read_bytes()[:5000])
        failed = import_files(s, [yahoo, bad])
        assert failed.status == "failed" and failed.errors[0]["file"] == "bad.TXT"
        assert len(s.bars("PETR4")) == n_before
        log = import_log(s)
        assert list(log["status"]) == ["failed", "ok", "ok"]
        assert isinstance(log["started_at"].iloc[0], pd.Timestamp)
    finally:
        s.dispose()
