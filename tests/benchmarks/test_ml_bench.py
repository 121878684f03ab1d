"""ML benchmarks (figures, not pass/fail): the seed study end to end, XGBoost walk-forward
retrain for the 23 bundled stocks, and predicting every instrument.

Goals from issue 5 (2 cores): study ≤ 30 s; retrain of the 23 stocks ≤ 3 min; predictions
for every instrument ≤ 1 s. Each figure is printed beside a reference run in the same
process (so the ratio survives a slower or busier machine).
"""

from __future__ import annotations

import shutil
import statistics
import time

import pytest

from core.data.store import init_db


@pytest.fixture(scope="module")
def store(tmp_path_factory, seeded_sqlite):
    d = tmp_path_factory.mktemp("mlbench")
    shutil.copy(seeded_sqlite, d / "pregao.db")
    s = init_db(f"sqlite:///{d / 'pregao.db'}")
    yield s, d
    s.dispose()


def _t(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def test_bench_seed_study():
    from core.ml.evaluation import build_dataset
    from core.ml.features import SEED_FEATURES
    from core.ml.study import SEED_CSV, read_price_file, seed_ibov_study

    ref, _ = _t(
        lambda: build_dataset(
            {"IBOV": read_price_file(SEED_CSV)}, features=list(SEED_FEATURES), lookback=5
        )
    )
    sec, res = _t(seed_ibov_study)
    print(
        f"\n[ml] seed study end to end: {sec:.1f} s (goal ≤ 30 s); "
        f"reference (read + 100 features): {ref:.2f} s; ratio {sec / ref:.0f}x"
    )
    for name, m in res["models"].items():
        print(
            f"[ml]   {name}: holdout {m['holdout']['accuracy']['value']:.2%} "
            f"(n={m['holdout']['n']}, p={m['holdout']['p_value']:.3f}), "
            f"WF {m['walk_forward']['mean']:.2%} ± {m['walk_forward']['std']:.2%}"
        )


def test_bench_retrain_xgboost_23_stocks(store, tmp_path):
    from core.ml.evaluation import build_dataset, fit_pipeline
    from core.ml.registry import ModelRegistry
    from core.ml.training import TrainRequest, load_frames, train_models

    s, _ = store
    stocks = s.tickers("stock")
    assert len(stocks) == 23
    frames, idx = load_frames(s, stocks)
    ds = build_dataset(frames, index_bars=idx)
    ref, _ = _t(lambda: fit_pipeline("xgboost", ds.X, ds.y))
    reg = ModelRegistry(s, tmp_path / "models")
    pooled, res = _t(
        lambda: train_models(
            s, reg, TrainRequest(tickers=tuple(stocks), models=("xgboost",), folds=5)
        )
    )
    print(
        f"\n[ml] XGBoost walk-forward (5 folds) retrain, 23 stocks pooled "
        f"({len(ds)} rows): {pooled:.1f} s (goal ≤ 180 s); one full fit: {ref:.1f} s; "
        f"ratio {pooled / ref:.1f}x; OOS accuracy "
        f"{res[0]['summary']['metrics']['accuracy']['value']:.2%}"
    )
    per, _ = _t(
        lambda: [
            train_models(
                s, None, TrainRequest(tickers=(t,), models=("xgboost",), folds=5), n_boot=100
            )
            for t in stocks
        ]
    )
    print(
        f"[ml] XGBoost walk-forward, one model per stock, all 23 stocks: {per:.1f} s (goal ≤ 180 s)"
    )


def test_bench_predict_all_instruments(store, tmp_path):
    from core.ml.predictions import predict_next
    from core.ml.registry import ApprovalGates, ModelRegistry, load_champion
    from core.ml.training import TrainRequest, train_models

    s, _ = store
    reg = ModelRegistry(s, tmp_path / "models")
    if load_champion(s) is None:
        r = train_models(
            s,
            reg,
            TrainRequest(tickers=("PETR4", "VALE3"), models=("xgboost",), folds=3),
            n_boot=50,
        )
        reg.promote(
            r[0]["model_id"],
            ApprovalGates(
                min_accuracy=0,
                min_roc_auc=0,
                min_fold_share=0,
                beat_baseline=False,
                max_p_value=None,
                min_log_loss_skill=None,
            ),
        )
    champ = load_champion(s)
    tickers = s.tickers()
    runs, refs = [], []
    for _ in range(5):
        refs.append(_t(lambda: [s.bars(t, "2023-01-01") for t in tickers])[0])
        sec, df = _t(lambda: predict_next(s, champ))
        runs.append(sec)
    med, ref = statistics.median(runs), statistics.median(refs)
    print(
        f"\n[ml] predict next session for {len(df)} instruments: median {med * 1000:.0f} ms "
        f"(goal ≤ 1 s); reference (read 2 years of bars of each): {ref * 1000:.0f} ms; "
        f"ratio {med / ref:.1f}x"
    )
