"""Registry round trip on SQLite and PostgreSQL, approval gates, the champion contract and
the prediction log."""

from __future__ import annotations

import pandas as pd
import pytest

from core.data.bundled import read_bundled_bars
from core.data.store import init_db
from core.errors import InputError, StoreError
from core.ml.predictions import live_accuracy, log_predictions, predict_next, score_predictions
from core.ml.registry import ApprovalGates, ModelRegistry, load_champion
from core.ml.training import TrainRequest, retrain, train_models

pytestmark = pytest.mark.integration

OPEN = ApprovalGates(
    min_accuracy=0,
    min_roc_auc=0,
    min_fold_share=0,
    beat_baseline=False,
    max_p_value=None,
    min_log_loss_skill=None,
)


@pytest.fixture
def small_store(store_url):
    store = init_db(store_url)
    for t, kind in (("PETR4", "stock"), ("^BVSP", "index")):
        bars = read_bundled_bars(t)[0].loc["2019-01-01":]
        store.upsert_instrument(t, kind=kind)
        store.write_bars(t, bars.iloc[:-3] if t == "PETR4" else bars, "test")
    yield store
    store.dispose()


def _train(store, reg, model="logreg"):
    req = TrainRequest(tickers=("PETR4",), models=(model,), validation="walk-forward", folds=3)
    return train_models(store, reg, req, n_boot=30)[0]


def test_round_trip_gates_champion_and_predictions(small_store, tmp_path):
    store = small_store
    reg = ModelRegistry(store, tmp_path / "models")
    res = _train(store, reg)
    mid = res["model_id"]
    meta = reg.get(mid)
    assert meta["tickers"] == ["PETR4"] and meta["target"] == "direction"
    assert meta["status"] == "challenger" and meta["n_train"] > 500
    assert len(meta["data_fingerprint"]) == 16 and "idx_ret_1" in meta["features"]
    assert meta["metrics"]["metrics"]["accuracy"]["value"] == pytest.approx(
        res["summary"]["metrics"]["accuracy"]["value"]
    )
    assert load_champion(store) is None

    # a strict gate refuses; nothing changes
    rep = reg.promote(mid, ApprovalGates(min_accuracy=0.99))
    assert not rep.promoted and "Acurácia mínima" in rep.failed()
    assert reg.get(mid)["status"] == "challenger" and reg.promotions().empty

    # an open gate promotes
    assert reg.promote(mid, OPEN).promoted
    champ = load_champion(store)
    assert champ.model_id == mid and champ.trained_until == meta["train_end"]

    # contract: P(up) at t uses only bars up to t; NaN during warm-up
    bars = store.bars("PETR4")
    p = champ.predict_proba_up(bars)
    assert p.index.equals(bars.index) and p.iloc[:20].isna().all()
    assert p.dropna().between(0, 1).all()
    t = bars.index[-40]
    p_cut = champ.predict_proba_up(bars.loc[:t])
    pd.testing.assert_series_equal(p_cut, p.loc[:t])

    # a second model must beat the champion on the same out-of-sample rows (paired test)
    res2 = _train(store, reg, "xgboost")
    rep2 = reg.promote(res2["model_id"], OPEN)
    beat = [c for c in rep2.checks if c["gate"] == "beat_champion"][0]
    a, b = reg.oos(res2["model_id"]), reg.oos(mid)
    assert len(a) == len(b) == res["summary"]["n"]  # same rows: same data and splits
    assert "linhas em comum" in beat["detail"] and beat["value"] == beat["value"]
    if rep2.promoted:
        assert reg.get(mid)["status"] == "retired"
        assert reg.promotions().iloc[0]["previous_model_id"] == mid
    assert len(reg.list_models()) == 2

    # predictions only for the instruments the model was evaluated on (^BVSP is skipped
    # with its reason), logged idempotently and scored when the bar arrives
    champ = load_champion(store)
    preds = predict_next(store, champ)
    assert set(preds["ticker"]) == {"PETR4"}
    assert {s["ticker"] for s in preds.attrs["skipped"]} == {"^BVSP"}
    assert preds["p_up"].between(0, 1).all()
    assert log_predictions(store, champ.model_id, preds) == 1
    assert log_predictions(store, champ.model_id, preds) == 0
    assert score_predictions(store) == 0
    full = read_bundled_bars("PETR4")[0].loc["2019-01-01":]
    store.write_bars("PETR4", full, "test")  # the next sessions arrive
    assert score_predictions(store) == 1
    live = live_accuracy(store, champ.model_id, wf_lo=0.5)
    as_of = preds.set_index("ticker").loc["PETR4", "as_of"]
    nxt = full.index[full.index > as_of][0]
    up = full.loc[nxt, "adj_close"] > full.loc[as_of, "adj_close"]
    p_up = preds.set_index("ticker").loc["PETR4", "p_up"]
    assert live["n"] == 1 and live["accuracy"] == float((p_up >= 0.5) == up)

    # tampered artifact is refused
    path = reg.get(champ.model_id)["artifact_path"]
    with open(path, "ab") as f:
        f.write(b"x")
    with pytest.raises(StoreError):
        load_champion(store)


def test_retrain_uses_default_recipe_and_gates(small_store, tmp_path):
    res = retrain(
        small_store,
        tmp_path / "m",
        gates=ApprovalGates(min_accuracy=0.99),
        request=TrainRequest(tickers=("PETR4",), models=("logreg",), folds=3),
    )
    assert res["model_id"] and not res["promoted"]
    assert "não promovido" in res["message"]


def test_gate_parsing():
    g = ApprovalGates.from_string("min_accuracy=0.52, max_p_value=0.05,beat_champion=false")
    assert g.min_accuracy == 0.52 and g.max_p_value == 0.05 and not g.beat_champion
    assert ApprovalGates.from_string("") == ApprovalGates()
    with pytest.raises(InputError):
        ApprovalGates.from_string("bogus=1")
    with pytest.raises(InputError):
        ApprovalGates.from_string("min_accuracy=abc")


def _metrics(acc, auc=0.55, share=0.8, base=0.51, p=0.01, p_dates=0.02, skill=0.01):
    return {
        "metrics": {"accuracy": {"value": acc}, "roc_auc": {"value": auc}},
        "baselines": {"always_up": {"value": base}},
        "best_baseline": "always_up",
        "consistency": 0.99,
        "fold_share": share,
        "folds": [{}] * 5,
        "p_value": p,
        "p_value_dates": p_dates,
        "skill": {"log_loss_skill": skill},
    }


def test_gate_checks_each_condition():
    g = ApprovalGates()
    assert g.check(_metrics(0.53)).passed
    assert not g.check(_metrics(0.505)).passed  # below the best baseline
    assert not g.check(_metrics(0.53, auc=0.49)).passed
    # regression: the consistency gate (1 - std ≈ 0.99) could not fail; the fold share can
    assert not g.check(_metrics(0.53, share=0.4)).passed
    holdout = g.check(_metrics(0.53, share=float("nan")))  # one fold
    assert not holdout.passed
    assert any("holdout não pode ser promovido" in c["detail"] for c in holdout.checks)
    # regression: significance is on by default and the date-clustered p decides (0.166)
    assert not g.check(_metrics(0.514, p=0.017, p_dates=0.166)).passed
    # Holm: p = 0.02 passes alone, fails among 5 models tried
    assert g.check(_metrics(0.53, p=0.02, p_dates=0.02)).passed
    assert not g.check(_metrics(0.53, p=0.02, p_dates=0.02), family_p=[0.5] * 4).passed
    # calibrated probabilities must beat the base rate
    assert not g.check(_metrics(0.53, skill=-0.02)).passed
    # a champion: the challenger must cover its instruments and win the paired test
    win = {
        "n_common": 900,
        "p_hits": 0.01,
        "dm_stat": 1.0,
        "dm_p": 0.2,
        "acc_challenger": 0.55,
        "acc_champion": 0.5,
        "b": 90,
        "c": 45,
        "ll_challenger": 0.69,
        "ll_champion": 0.70,
    }
    tie = {**win, "p_hits": 0.4, "b": 50, "c": 45}
    ch = _metrics(0.52)
    assert g.check(
        _metrics(0.55), ch, paired=win, tickers=["A", "B"], champion_tickers=["A", "B"]
    ).passed
    assert not g.check(
        _metrics(0.55), ch, paired=tie, tickers=["A", "B"], champion_tickers=["A", "B"]
    ).passed  # a tie keeps the champion
    narrow = g.check(_metrics(0.55), ch, paired=win, tickers=["A"], champion_tickers=["A", "B"])
    assert not narrow.passed and "Cobre os ativos do campeão" in narrow.failed()
    old = ApprovalGates(max_p_value=None, min_log_loss_skill=None, min_fold_share=0)
    assert old.check(_metrics(0.514, p=0.017, p_dates=0.166)).passed


def test_retrain_tie_keeps_champion_and_is_recorded(small_store, tmp_path):
    """Regression: a retrain that does not beat the champion in the paired test keeps it and
    the retrain appears in the history (outcome "kept")."""
    store = small_store
    req = TrainRequest(tickers=("PETR4",), models=("logreg",), folds=3)
    first = retrain(store, tmp_path / "m", gates=OPEN, request=req)
    assert first["promoted"]
    again = retrain(store, tmp_path / "m", gates=ApprovalGates(**{**OPEN.__dict__}), request=req)
    assert not again["promoted"]  # identical data: a tie (no discordant advantage)
    beat = [c for c in again["gate_report"]["checks"] if c["gate"] == "beat_champion"][0]
    assert not beat["passed"] and "linhas em comum" in beat["detail"]
    reg = ModelRegistry(store, tmp_path / "m")
    hist = reg.promotions()
    assert list(hist["outcome"]) == ["kept", "promoted"]
    assert hist.iloc[0]["previous_model_id"] == first["model_id"]
    assert load_champion(store).model_id == first["model_id"]


def test_versions_and_data_fingerprint_are_checked(small_store, tmp_path):
    from sqlalchemy import update

    from core.ml.predictions import fingerprint_warning
    from core.ml.tables import MLModel

    store = small_store
    reg = ModelRegistry(store, tmp_path / "models")
    mid = _train(store, reg)["model_id"]
    meta = reg.get(mid)
    assert meta["versions"]["scikit-learn"] and meta["feature_version"]
    assert reg.promote(mid, OPEN).promoted
    champ = load_champion(store)
    assert champ.warnings == [] and fingerprint_warning(store, champ) is None
    # loaded under other library versions: warned
    with store.transaction() as conn:
        conn.execute(
            update(MLModel.__table__)
            .where(MLModel.__table__.c.id == mid)
            .values(versions='{"scikit-learn": "0.1"}', feature_version="old")
        )
    champ = load_champion(store)
    assert any("outras versões" in w for w in champ.warnings)
    assert any("versão old dos atributos" in w for w in champ.warnings)
    # a revised bar inside the training window changes the fingerprint
    bars = store.bars("PETR4")
    d = bars.index[100]
    fixed = bars.loc[[d]].copy()
    fixed[["open", "high", "low", "close", "adj_close"]] *= 1.01
    store.write_bars("PETR4", fixed, "correção")
    assert "mudaram desde o treino" in (fingerprint_warning(store, champ) or "")


def test_migration_0008_downgrade_and_upgrade(store_url):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from core.data.store import MIGRATIONS_DIR

    store = init_db(store_url)
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))

        def cols(table):
            return {c["name"] for c in inspect(store.engine).get_columns(table)}

        assert {"versions", "feature_version", "data_end"} <= cols("ml_models")
        assert "outcome" in cols("ml_promotions")
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0007")
        assert "versions" not in cols("ml_models") and "outcome" not in cols("ml_promotions")
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        assert "outcome" in cols("ml_promotions")
    finally:
        store.dispose()
