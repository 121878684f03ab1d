"""Rendering the Modelos page writes nothing to the database, even under concurrent loads
(regression: GET /models logged predictions with a check-then-insert that collided on the
unique index), and logging the same predictions from two writers at once is safe."""

from __future__ import annotations

import shutil
import threading

import pytest
from sqlalchemy import func, select

from core.ml.predictions import log_predictions, predict_next
from core.ml.registry import ApprovalGates, ModelRegistry
from core.ml.tables import MLPrediction
from core.ml.training import TrainRequest, train_models

pytestmark = pytest.mark.integration

OPEN = ApprovalGates(
    min_accuracy=0,
    min_roc_auc=0,
    min_fold_share=0,
    beat_baseline=False,
    max_p_value=None,
    min_log_loss_skill=None,
)


def _count(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(MLPrediction.__table__)).scalar()


@pytest.fixture
def app_with_champion(tmp_path, seeded_sqlite, monkeypatch):
    for k in list(__import__("os").environ):
        if k.startswith("PREGAO_"):
            monkeypatch.delenv(k)
    shutil.copy(seeded_sqlite, tmp_path / "pregao.db")
    monkeypatch.setenv("PREGAO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PREGAO_SCHEDULER", "0")
    from dashboard import create_app, runtime
    from dashboard.settings import load_settings

    settings = load_settings(env_file=None)
    create_app(settings=settings)
    store = runtime.get_store()
    # a champion whose data ends after its training window (so it forecasts something)
    bars = store.bars("PRIO3")
    req = TrainRequest(tickers=("PRIO3", "VIVA3"), models=("logreg",), folds=3)
    reg = ModelRegistry(store, settings.data_dir / "models")
    res = train_models(store, reg, req, n_boot=20)[0]
    assert reg.promote(res["model_id"], OPEN).promoted
    assert len(bars) > 500
    return store


def test_concurrent_page_renders_write_nothing(app_with_champion):
    import pages.models as pm

    store = app_with_champion
    errors, outs = [], []

    def render():
        try:
            outs.append(pm.layout())
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=render) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(outs) == 2
    assert _count(store) == 0  # no writes on page render
    text = str(outs[0])
    assert "models-predictions-table" in text and "Força do sinal" in text


def test_concurrent_logging_is_idempotent(app_with_champion):
    store = app_with_champion
    preds = predict_next(store)
    assert len(preds) >= 1
    mid = preds.attrs["model_id"]
    added, errors = [], []

    def log():
        try:
            added.append(log_predictions(store, mid, preds))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=log) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sum(added) == len(preds) and _count(store) == len(preds)
