"""Issue 9: the risk-free rate before 2015 and accrual across data gaps (regression tests:
on the old code every pre-2015 session used the first stored rate, 11,57 % a year, and
2010-2014 compounded to 67,85 %)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.data.calendar import b3_sessions
from core.rates import cdi_annual, cdi_daily_returns, cdi_series, import_sgs


def test_2010_2014_compounds_to_the_published_cdi(bundled_store):
    idx = b3_sessions("2010-01-01", "2014-12-31")
    r = cdi_daily_returns(bundled_store, idx)
    total = float(np.prod(1.0 + r.to_numpy()) - 1.0)
    assert total == pytest.approx(0.5898, abs=0.0005)
    s = cdi_series(bundled_store, "2008-01-01", "2015-01-05")
    assert s.approximated.loc["2008-01-02"] and not s.approximated.loc["2015-01-05"]
    n = len(b3_sessions("2011-01-01", "2011-12-31"))
    assert cdi_annual(bundled_store, "2011-01-01", "2011-12-31") == pytest.approx(
        1.1160 ** (252 / n) - 1, rel=1e-9
    )


def test_a_gap_does_not_skip_interest(bundled_store):
    full = b3_sessions("2019-01-01", "2019-12-31")
    gap = full.delete(slice(100, 110))  # ten sessions missing
    r_full = float(np.prod(1 + cdi_daily_returns(bundled_store, full)))
    r_gap = float(np.prod(1 + cdi_daily_returns(bundled_store, gap)))
    assert r_gap == pytest.approx(r_full, rel=1e-12)


def test_a_daily_sgs_file_replaces_the_approximation(empty_store, tmp_path):
    from core.data.bundled import read_bundled_cdi

    bundled_store = empty_store  # the shared bundled store must not be changed
    bundled_store.write_rates("CDI", read_bundled_cdi())
    days = b3_sessions("2012-01-01", "2012-01-31")
    p = tmp_path / "sgs.json"
    p.write_text(json.dumps([{"data": f"{d:%d/%m/%Y}", "valor": "0.040000"} for d in days]))
    import_sgs(bundled_store, p)
    s = cdi_series(bundled_store, "2012-01-01", "2012-02-10")
    assert not s.approximated.loc["2012-01-31"] and s.approximated.loc["2012-02-01"]
    assert s.daily.loc["2012-01-16"] == pytest.approx(0.04)
    csv = tmp_path / "sgs.csv"
    csv.write_text('"data";"valor"\n"01/02/2012";"0,030000"\n')
    import_sgs(bundled_store, csv)
    assert cdi_series(bundled_store, "2012-02-01", "2012-02-01").daily.iloc[0] == pytest.approx(
        0.03
    )
    assert isinstance(s.daily.index, pd.DatetimeIndex)


def test_sgs_file_imports_through_the_importer(empty_store, tmp_path):
    from core.data.imports import import_files

    p = tmp_path / "cdi.csv"
    p.write_text('"data";"valor"\n"02/01/2012";"0,040000"\n"03/01/2012";"0,040000"\n')
    rep = import_files(empty_store, [p])
    assert rep.status == "ok" and rep.formats == ["sgs"] and rep.inserted == 2
    assert "CDI" in rep.message()
    assert empty_store.rates("CDI").tolist() == [0.04, 0.04]
