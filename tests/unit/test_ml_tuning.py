"""Optuna tuning is nested in the training window and time-boxed."""

from __future__ import annotations

import time

import numpy as np

import core.ml.tuning as tuning
from core.data.bundled import read_bundled_bars
from core.ml.evaluation import EvalConfig, build_dataset, evaluate
from core.ml.targets import TargetSpec


def test_tuning_sees_only_training_rows_and_respects_time_box(monkeypatch):
    bars = read_bundled_bars("ITUB4")[0].iloc[-900:]
    ds = build_dataset({"ITUB4": bars}, TargetSpec(), features=["ret_1", "mom_5", "vol_20"])
    seen = []
    real = tuning.tune

    def spy(model, X, y, spec, **kw):
        seen.append(int(X.index.max()))
        t0 = time.perf_counter()
        out = real(model, X, y, spec, n_trials=500, seconds=1.0)
        assert time.perf_counter() - t0 < 4.0  # 1 s box + one trial in flight
        return out

    monkeypatch.setattr(tuning, "tune", spy)
    ev = evaluate(ds, EvalConfig(model="logreg", folds=2, tune=True, n_boot=20, importance=False))
    assert len(seen) == 2
    for k, last_train in enumerate(seen, start=1):
        first_test = np.flatnonzero(ds.dates.isin(ev.oos.loc[ev.oos.fold == k, "date"])).min()
        assert last_train < first_test
    assert "C" in ev.params
