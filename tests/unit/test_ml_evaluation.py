"""Evaluation: metrics vs scikit-learn, baselines, scalers fitted on training rows only,
the leakage canary on permuted real returns, and a positive control."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.preprocessing import StandardScaler

from core.data.bundled import read_bundled_bars
from core.ml.evaluation import (
    EvalConfig,
    build_dataset,
    classification_metrics,
    evaluate,
)
from core.ml.targets import TargetSpec, direction, three_class

SMALL = {  # keep the suite fast on 2 shared cores
    "logreg": {},
    "rf": {"n_estimators": 40, "max_depth": 4},
    "xgboost": {"n_estimators": 40},
    "lightgbm": {"n_estimators": 40},
    "svm": {},
}


@pytest.fixture(scope="module")
def bvsp():
    return read_bundled_bars("^BVSP")[0]


def test_metrics_match_scikit_learn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p1 = np.clip(0.5 + 0.2 * (y - 0.5) + rng.normal(0, 0.2, 500), 0.01, 0.99)
    proba = np.column_stack([1 - p1, p1])
    m = classification_metrics(y, proba, 2)
    pred = (p1 >= 0.5).astype(int)
    assert m["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert m["precision"] == pytest.approx(precision_score(y, pred))
    assert m["recall"] == pytest.approx(recall_score(y, pred))
    assert m["f1"] == pytest.approx(f1_score(y, pred))
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p1))
    assert m["brier"] == pytest.approx(brier_score_loss(y, p1))
    assert m["log_loss"] == pytest.approx(log_loss(y, proba))
    y3 = rng.integers(0, 3, 300)
    pr3 = rng.dirichlet([1, 1, 1], 300)
    m3 = classification_metrics(y3, pr3, 3)
    assert m3["f1"] == pytest.approx(f1_score(y3, pr3.argmax(1), average="macro"))
    assert m3["roc_auc"] == pytest.approx(roc_auc_score(y3, pr3, multi_class="ovr"))


def test_targets_are_forward_looking_labels(bvsp):
    y = direction(bvsp)
    c = bvsp["adj_close"]
    assert y.iloc[:-1].equals((c.shift(-1) > c).astype(float).iloc[:-1])
    assert np.isnan(y.iloc[-1])
    y3 = three_class(bvsp, 5, 0.02)
    fwd = c.shift(-5) / c - 1
    assert (y3[fwd > 0.02] == 2).all() and (y3[fwd < -0.02] == 0).all()
    assert y3.iloc[-5:].isna().all()


def test_scalers_never_see_test_rows(bvsp, monkeypatch):
    ds = build_dataset({"^BVSP": bvsp.iloc[-1500:]}, TargetSpec())
    seen: list[set] = []
    orig = StandardScaler.fit

    def spy(self, X, y=None, sample_weight=None):
        seen.append(set(X.index))
        return orig(self, X, y, sample_weight)

    monkeypatch.setattr(StandardScaler, "fit", spy)
    ev = evaluate(ds, EvalConfig(model="logreg", folds=4, n_boot=20, importance=False))
    assert len(seen) == 4
    test_positions = [
        set(np.flatnonzero(ds.dates.isin(ev.oos.loc[ev.oos.fold == k, "date"])))
        for k in range(1, 5)
    ]
    for fit_rows, test_rows in zip(seen, test_positions):
        assert not fit_rows & test_rows
        assert max(fit_rows) < min(test_rows)


def test_baselines_are_computed_on_the_test_rows(bvsp):
    ds = build_dataset({"^BVSP": bvsp.iloc[-1200:]}, TargetSpec())
    ev = evaluate(ds, EvalConfig(model="logreg", folds=3, n_boot=50, importance=False))
    y = ev.oos["y"].to_numpy()
    assert ev.baselines["always_up"]["value"] == pytest.approx((y == 1).mean())
    assert ev.n == len(y) and ev.folds["n_test"].sum() == ev.n
    for m in ev.metrics.values():
        assert m["lo"] <= m["value"] <= m["hi"]
    assert 0 <= ev.p_value <= 1
    assert np.array(ev.confusion).sum() == ev.n


def _permuted_market(bars: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Real ^BVSP session returns (with their own range and volume) in a random order."""
    rng = np.random.default_rng(seed)
    c = bars["adj_close"].to_numpy()
    r = np.log(c[1:] / c[:-1])
    hi = np.log(
        bars["high"].to_numpy()[1:] / np.maximum(bars["open"], bars["close"]).to_numpy()[1:]
    )
    lo = np.log(np.minimum(bars["open"], bars["close"]).to_numpy()[1:] / bars["low"].to_numpy()[1:])
    vol = bars["volume"].to_numpy()[1:]
    perm = rng.permutation(len(r))
    r, hi, lo, vol = r[perm], hi[perm], lo[perm], vol[perm]
    close = c[0] * np.exp(np.cumsum(r))
    open_ = np.concatenate([[c[0]], close[:-1]])
    high = np.maximum(open_, close) * np.exp(np.clip(hi, 0, None))
    low = np.minimum(open_, close) * np.exp(-np.clip(lo, 0, None))
    return pd.DataFrame(
        {
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "adj_close": close,
            "volume": vol,
        },
        index=bars.index[1:],
    )


@pytest.mark.parametrize("model", ["logreg", "rf", "xgboost", "lightgbm", "svm"])
def test_leakage_canary_on_permuted_returns(bvsp, model):
    """No model may find an edge where none exists: accuracy within chance, p ≥ 1 %."""
    fake = _permuted_market(bvsp, seed=7)
    ds = build_dataset({"FAKE": fake}, TargetSpec())
    ev = evaluate(
        ds, EvalConfig(model=model, folds=4, n_boot=100, importance=False, params=SMALL[model])
    )
    acc = ev.metrics["accuracy"]
    assert ev.p_value >= 0.01, (model, ev.accuracy, ev.p_value)
    base = ev.baselines[ev.best_baseline]["value"]
    assert acc["value"] < base + 0.03
    assert acc["lo"] <= max(0.5, base)  # chance is inside the CI
    assert ev.metrics["roc_auc"]["lo"] < 0.5 < ev.metrics["roc_auc"]["hi"] + 0.01


def test_positive_control_detects_a_real_signal(bvsp):
    """The same machinery must find an edge when a feature does carry the future."""
    fake = _permuted_market(bvsp, seed=7).iloc[-1500:]
    ds = build_dataset({"FAKE": fake}, TargetSpec(), features=["ret_1", "mom_5"])
    noisy = ds.y + np.random.default_rng(0).normal(0, 0.8, len(ds.y))
    ds.X["leak"] = noisy  # a noisy copy of the label: a planted, genuine signal
    ev = evaluate(ds, EvalConfig(model="logreg", folds=3, n_boot=50, importance=False))
    assert ev.accuracy > 0.65 and ev.p_value < 1e-6


def test_calibration_inside_training_windows_improves_log_loss_skill():
    """Regression: PETR4 XGBoost's raw probabilities had a log loss above a coin's (0.735 vs
    0.693). Calibrated inside each training window (Platt/isotonic on later inner blocks),
    the log-loss skill against the base rate improves and the calibrator is fitted only on
    training rows (TimeSeriesSplit inside CalibratedClassifierCV)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import TimeSeriesSplit

    from core.data.bundled import read_bundled_bars
    from core.ml.evaluation import EvalConfig, build_dataset, evaluate
    from core.ml.models import calibration_method, make_model

    pipe = make_model("xgboost", calibration="auto", n_rows=2000)
    est = pipe.named_steps["model"]
    assert isinstance(est, CalibratedClassifierCV) and isinstance(est.cv, TimeSeriesSplit)
    assert est.method == "sigmoid" and calibration_method("auto", 8000) == "isotonic"
    ds = build_dataset({"PETR4": read_bundled_bars("PETR4")[0]})
    kw = dict(model="xgboost", folds=3, n_boot=20, importance=False)
    raw = evaluate(ds, EvalConfig(**kw))
    cal = evaluate(ds, EvalConfig(**kw, calibration="sigmoid"))
    assert raw.skill["log_loss"] > raw.skill["log_loss_ref"]  # raw: worse than the base rate
    assert cal.skill["log_loss_skill"] > raw.skill["log_loss_skill"]
    assert cal.calibration == "sigmoid" and raw.calibration is None
