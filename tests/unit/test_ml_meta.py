"""Meta-labelling: triple barrier, uniqueness weights, bet size, and the end-to-end report
against seed 002's gates on real bundled data (with filter vs without on the same trades)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.ml.meta import (
    MetaGates,
    MetaRequest,
    _uniqueness,
    bet_size,
    meta_label,
    triple_barrier,
)


def _bars(highs, lows, closes):
    idx = pd.bdate_range("2024-01-01", periods=len(closes))
    return pd.DataFrame({"high": highs, "low": lows, "close": closes}, index=idx)


def test_triple_barrier_first_touch_and_conservative_tie():
    b = _bars([101, 103, 111, 100], [99, 98, 100, 90], [100, 102, 110, 95])
    t1, ret, which = triple_barrier(b, b.index[0], 100.0, 0.05, pt=2, sl=2, max_hold=10)
    assert which == "alvo" and t1 == b.index[2] and ret == pytest.approx(0.10)
    # a bar touching both barriers counts as the stop
    b2 = _bars([101, 120], [99, 80], [100, 100])
    assert triple_barrier(b2, b2.index[0], 100.0, 0.05, pt=2, sl=2, max_hold=10)[2] == "stop"
    # time limit: the close of the last allowed session, net of costs
    b3 = _bars([101, 102, 103], [99, 99, 99], [100, 101, 102])
    t1, ret, which = triple_barrier(
        b3, b3.index[0], 100.0, 0.05, pt=2, sl=2, max_hold=2, cost=0.001
    )
    assert which == "tempo" and t1 == b3.index[1] and ret == pytest.approx(0.01 - 0.001)


def test_uniqueness_halves_overlapping_labels():
    s = pd.bdate_range("2024-01-01", periods=10)
    u = _uniqueness([(s[0], s[3]), (s[0], s[3]), (s[5], s[6])], s)
    np.testing.assert_allclose(u, [0.5, 0.5, 1.0])


def test_bet_size_is_zero_at_a_coin_and_grows_with_p():
    sz = bet_size([0.3, 0.5, 0.6, 0.9])
    assert sz[0] == 0 and sz[1] == pytest.approx(0) and 0 < sz[2] < sz[3] < 1


def test_request_validation_and_gate_parsing():
    with pytest.raises(InputError):
        MetaRequest(strategy="nope").validate()
    with pytest.raises(InputError):
        MetaRequest(threshold=1.2).validate()
    g = MetaGates.from_string("min_trades=30,min_accuracy=0.6,sharpe_improves=false")
    assert g.min_trades == 30 and g.min_accuracy == 0.6 and not g.sharpe_improves
    with pytest.raises(InputError):
        MetaGates.from_string("bogus=1")


def test_wave3_meta_labelling_reports_against_seed_gates(bundled_store):
    res = meta_label(
        bundled_store, MetaRequest(strategy="wave3", tickers=("PETR4", "VALE3", "ITUB4"))
    )
    assert res.n_oos >= 10 and res.n_oos <= res.n_trades
    # with vs without on the same out-of-sample trades
    c = res.comparison
    assert c["without"]["trades"] == c["with_filter"]["trades"] == res.n_oos
    assert c["with_filter"]["taken"] == int(res.trades["take"].sum())
    assert {g["gate"] for g in res.gates} == {
        "min_trades",
        "min_accuracy",
        "min_roc_auc",
        "min_win_rate_gain",
        "min_consistency",
        "sharpe_improves",
    }
    failed = [g["label"] for g in res.gates if not g["passed"]]
    assert res.passed == (not failed)
    if failed:
        assert "REPROVADO" in res.message and all(f in res.message for f in failed)
    # every label ends after its signal; weights are uniqueness-based (mean 1 over all trades)
    t = res.trades
    assert (t["t1"] > t["signal_date"]).all() and (t["weight"] > 0).all()
    # no test trade was used to train its own fold: folds are time-ordered
    assert t.groupby("fold")["signal_date"].min().is_monotonic_increasing
    # the page's report renders every gate and the three sides
    from components.models import meta_report

    text = str(meta_report(res.to_dict()))
    assert "Regras da semente 002" in text and "Sem filtro" in text and "Com filtro" in text
