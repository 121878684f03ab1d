"""GET /models writes nothing: rendering the Modelos page with a champion logs no prediction.

Regression: the page render logged the champion's predictions (check-then-insert); two
concurrent loads collided on the unique index and the IntegrityError escaped.
"""

from __future__ import annotations

import shutil

import dash
import pytest
from sqlalchemy import func, select

pytestmark = pytest.mark.integration


def test_models_page_render_does_not_write(tmp_path, seeded_sqlite, monkeypatch):
    from core.ml.registry import ApprovalGates, ModelRegistry, load_champion
    from core.ml.tables import MLPrediction
    from core.ml.training import TrainRequest, train_models
    from dashboard import create_app, runtime
    from dashboard.settings import load_settings

    shutil.copy(seeded_sqlite, tmp_path / "pregao.db")
    monkeypatch.setattr(runtime, "_settings", None)
    monkeypatch.setattr(runtime, "_store", None)
    settings = load_settings(
        env={"PREGAO_DATA_DIR": str(tmp_path), "PREGAO_SCHEDULER": "0"}, env_file=None
    )
    create_app("app", settings)
    store = runtime.get_store()
    reg = ModelRegistry(store, tmp_path / "models")
    req = TrainRequest(tickers=("PETR4",), models=("logreg",), validation="walk-forward", folds=3)
    mid = train_models(store, reg, req, n_boot=30)[0]["model_id"]
    open_gates = ApprovalGates(  # everything off: this test is about rendering, not gates
        min_accuracy=0,
        min_roc_auc=0,
        min_fold_share=0,
        min_consistency=0,
        beat_baseline=False,
        max_p_value=None,
        min_log_loss_skill=None,
    )
    assert reg.promote(mid, open_gates).promoted
    assert load_champion(store) is not None

    def n_logged() -> int:
        with store.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(MLPrediction.__table__)).scalar()

    layout = next(p["layout"] for p in dash.page_registry.values() if p["path"] == "/models")
    before = n_logged()
    tree = layout()
    layout()
    assert n_logged() == before == 0
    assert "models-predictions-table" in str(tree)  # the predictions are still shown
    store.dispose()
