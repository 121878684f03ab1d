"""Statistics behind the gates: Holm, McNemar, Diebold–Mariano, power, clustering, CUSUM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from core.ml import stats


def test_reported_p_is_the_larger_of_binomial_and_clustered():
    assert stats.reported_p({"p_value": 0.017, "p_value_dates": 0.166}) == 0.166
    assert stats.reported_p({"p_value": 0.03, "p_value_dates": float("nan")}) == 0.03
    text = stats.p_verdict({"p_value": 0.017, "p_value_dates": 0.166})
    assert text.startswith("p = 0,166") and "não significativo" in text
    assert "binomial 0,017" in text and "agrupado por data 0,166" in text


def test_holm_matches_the_step_down_definition():
    p = [0.01, 0.04, 0.03, 0.5]
    adj = stats.holm_adjust(p)
    # sorted 0.01, 0.03, 0.04, 0.5 -> 4*0.01, max(.04, 3*.03), max(.09, 2*.04), max(.09, .5)
    np.testing.assert_allclose(adj, [0.04, 0.09, 0.09, 0.5])
    assert np.isnan(stats.holm_adjust([np.nan, 0.02])[0])
    assert stats.holm_adjust([np.nan, 0.02])[1] == 0.02  # NaN does not count in m


def test_mcnemar_exact_one_sided():
    a = np.array([1] * 30 + [0] * 10 + [1] * 50, dtype=bool)
    b = np.array([0] * 30 + [1] * 10 + [1] * 50, dtype=bool)
    p, nb, nc = stats.mcnemar_greater(a, b)
    assert (nb, nc) == (30, 10)
    assert p == pytest.approx(binomtest(30, 40, 0.5, alternative="greater").pvalue)
    assert stats.mcnemar_greater(a, a)[0] == 1.0


def test_diebold_mariano_detects_lower_loss_and_not_equal_loss():
    rng = np.random.default_rng(0)
    dates = np.repeat(np.arange(300), 5)
    la = rng.normal(0.68, 0.05, len(dates))
    lb = la + 0.01 + rng.normal(0, 0.02, len(dates))  # b worse by 0.01
    stat, p = stats.diebold_mariano(la, lb, dates)
    assert stat > 3 and p < 1e-3
    stat2, p2 = stats.diebold_mariano(lb, la, dates)
    assert stat2 < 0 and p2 > 0.99
    same = la + rng.normal(0, 0.02, len(dates))
    assert stats.diebold_mariano(la, same, dates)[1] > 0.01


def test_mde_of_the_706_row_holdout():
    # the figure: a 706-row holdout detects a true 55 % only about half the time
    mde = stats.minimum_detectable_effect(706, 0.5184)
    assert 0.45 < mde.power_55 < 0.6
    assert 0.55 < mde.accuracy < 0.57
    assert stats.power_at(mde.accuracy, 706, 0.5184) == pytest.approx(0.8, abs=1e-3)
    # clustering shrinks the effective sample and raises the MDE
    assert stats.minimum_detectable_effect(706, 0.5184, deff=3).accuracy > mde.accuracy


def test_design_effect_of_perfectly_correlated_dates():
    dates = np.repeat(np.arange(200), 10)
    rng = np.random.default_rng(1)
    hits = np.repeat(rng.integers(0, 2, 200), 10).astype(float)  # one outcome per date
    assert stats.design_effect(hits, dates) == pytest.approx(10, rel=0.05)
    iid = rng.integers(0, 2, 2000).astype(float)
    assert stats.design_effect(iid, dates) < 1.5


def test_date_clustered_bootstrap_ci_is_wider_for_correlated_rows():
    from core.ml.evaluation import _acc_ci

    dates = pd.DatetimeIndex(pd.bdate_range("2020-01-01", periods=300)).repeat(20)
    rng = np.random.default_rng(2)
    correct = np.repeat(rng.integers(0, 2, 300), 20).astype(float)
    iid = _acc_ci(correct, 300, 0)
    cl = _acc_ci(correct, 300, 0, dates.to_numpy())
    assert (cl["hi"] - cl["lo"]) > 3 * (iid["hi"] - iid["lo"])


def test_cusum_calibration_controls_false_alarms_and_detects_drift():
    rng = np.random.default_rng(3)
    hist = rng.standard_t(5, 2000) * 0.02  # in-control per-date differentials
    spec = stats.calibrate_cusum(hist, horizon=250)
    assert spec is not None and spec.h > 0
    fresh = [(stats.cusum(rng.standard_t(5, 250) * 0.02, spec) > spec.h).any() for _ in range(400)]
    assert np.mean(fresh) <= 0.08  # ≈ 5 % on new in-control paths
    drifted = [
        (stats.cusum(rng.standard_t(5, 250) * 0.02 + 0.02, spec) > spec.h).any() for _ in range(100)
    ]
    assert np.mean(drifted) > 0.9


def test_drift_false_alarm_rate_on_the_models_own_oos_history():
    """The CUSUM's false-alarm rate on an evaluated model's own out-of-sample history (no
    drift by construction) is ≤ 5 %; the old rule (one session's hit rate below the
    walk-forward CI) fired on about half the sessions (regression)."""
    from core.data.bundled import read_bundled_bars
    from core.ml.evaluation import EvalConfig, build_dataset, evaluate

    tickers = ["PETR4", "VALE3", "ITUB4", "BBDC4", "ABEV3", "BBAS3", "GGBR4", "B3SA3"]
    frames = {t: read_bundled_bars(t)[0] for t in tickers}
    ds = build_dataset(frames, index_bars=read_bundled_bars("^BVSP")[0])
    ev = evaluate(ds, EvalConfig(model="logreg", folds=5, n_boot=20, importance=False))
    oos = ev.oos
    y_up = (oos["y"] == 1).astype(float)
    d = stats.binary_log_loss(oos["p_up"], y_up) - stats.binary_log_loss(oos["p_base_up"], y_up)
    per_date = pd.Series(d).groupby(oos["date"].to_numpy()).mean().sort_index().to_numpy()
    spec = stats.CusumSpec(**ev.drift)
    L = spec.horizon
    windows = range(0, len(per_date) - L + 1)
    rate = np.mean([(stats.cusum(per_date[s : s + L], spec) > spec.h).any() for s in windows])
    print(f"CUSUM false-alarm rate over {len(windows)} windows of {L} sessions: {rate:.3f}")
    assert rate <= 0.05
    # a real deterioration (log loss worse by one standard deviation) is caught
    worse = per_date[-L:] + 1.0 * spec.sd
    assert (stats.cusum(worse, spec) > spec.h).any()
    # the old alarm: a session's hit rate (8 correlated predictions) below the CI's lower end
    hits = (oos["pred"] == oos["y"]).astype(float).groupby(oos["date"].to_numpy()).mean()
    old_rate = float((hits < ev.metrics["accuracy"]["lo"]).mean())
    print(f"old rule false-alarm rate per session: {old_rate:.3f}")
    assert old_rate > 0.3


def test_sessions_behind_counts_b3_sessions():
    import datetime as dt

    from core.ml.predictions import last_closed_session, sessions_behind

    # Friday 14/11/2024 -> Tuesday 19/11/2024: 18 and 19 (20/11 is a B3 holiday since 2024)
    assert sessions_behind("2024-11-14", "2024-11-19") == 2
    assert sessions_behind("2024-11-19", "2024-11-19") == 0
    # before the close, today's session does not count yet
    assert last_closed_session(dt.datetime(2024, 11, 19, 10, 0)) == pd.Timestamp("2024-11-18")
    assert last_closed_session(dt.datetime(2024, 11, 19, 19, 0)) == pd.Timestamp("2024-11-19")
    assert last_closed_session(dt.datetime(2024, 11, 17, 12, 0)) == pd.Timestamp("2024-11-14")


def _oos(p_up, y, base, dates):
    return pd.DataFrame(
        {
            "date": dates,
            "p_up": p_up,
            "pred": (np.asarray(p_up) >= 0.5).astype(int),
            "y": y,
            "base_majority": base,
        }
    )


def test_confidence_bins_are_proven_only_when_they_beat_the_baseline():
    from core.ml.evaluation import _confidence_bins

    rng = np.random.default_rng(4)
    n = 6000
    dates = pd.bdate_range("2010-01-01", periods=n)
    p = rng.uniform(0.3, 0.7, n)
    # noise: outcomes independent of p -> no bin is proven
    y = rng.integers(0, 2, n)
    bins = _confidence_bins(_oos(p, y, np.ones(n, int), dates), "majority")
    assert not any(b["proven"] for b in bins)
    # signal only where p >= 0.6: that bin is proven, the others are not
    y2 = np.where(p >= 0.6, (rng.uniform(size=n) < 0.75).astype(int), y)
    bins2 = {
        (b["lo"], b["hi"]): b
        for b in _confidence_bins(_oos(p, y2, np.zeros(n, int), dates), "majority")
    }
    assert bins2[(0.6, 1.0)]["proven"]
    assert not bins2[(0.45, 0.5)]["proven"]


def test_fast_weighted_auc_equals_scikit_learn():
    from sklearn.metrics import roc_auc_score

    from core.ml.evaluation import _auc

    rng = np.random.default_rng(5)
    for _ in range(20):
        n = 300
        y = rng.integers(0, 2, n)
        s = np.round(rng.uniform(size=n), 2)  # ties
        w = rng.integers(0, 3, n).astype(float)
        assert _auc(y, s, w) == pytest.approx(roc_auc_score(y, s, sample_weight=w), abs=1e-12)
