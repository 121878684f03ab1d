"""The ML commands end to end through ``dashboard.cli.main`` on a copy of the bundled data."""

from __future__ import annotations

import json
import shutil

import pytest

from core.ml.study import SEED_CSV
from dashboard.cli import main


@pytest.fixture
def data_dir(tmp_path, seeded_sqlite, monkeypatch):
    for k in list(__import__("os").environ):
        if k.startswith("PREGAO_"):
            monkeypatch.delenv(k)
    shutil.copy(seeded_sqlite, tmp_path / "pregao.db")
    monkeypatch.setenv("PREGAO_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_evaluate_file_json(data_dir, capsys):
    rc = main(
        [
            "evaluate",
            "--file",
            str(SEED_CSV),
            "--model",
            "logreg",
            "--validation",
            "holdout",
            "--json",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    s = out[0]["summary"]
    assert s["model"] == "logreg" and s["validation"] == "holdout" and s["n"] > 600
    assert set(s["baselines"]) == {"majority", "always_up", "previous"}
    assert 0 <= s["p_value"] <= 1 and len(s["folds"]) == 1
    acc = s["metrics"]["accuracy"]
    assert acc["lo"] <= acc["value"] <= acc["hi"]


def test_evaluate_ticker_text_and_errors(data_dir, capsys):
    assert (
        main(
            [
                "evaluate",
                "--ticker",
                "PETR4",
                "--model",
                "logreg",
                "--folds",
                "3",
                "--target",
                "three_class",
                "--validation",
                "purged-kfold",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Acurácia > melhor referência" in out and "p = " in out
    assert "majority" in out and "Dobra" in out and "Efeito mínimo detectável" in out
    assert main(["evaluate", "--ticker", "PETR9"]) == 2
    assert "PETR9" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["evaluate", "--model", "logreg"])  # --ticker or --file is required


def test_retrain_predict_models_promote(data_dir, capsys, monkeypatch):
    # regression: the default gates promoted the pooled XGBoost (date-clustered p ≈ 0.17)
    monkeypatch.delenv("PREGAO_ML_GATES", raising=False)
    assert main(["retrain", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert not res["promoted"] and len(res["summary"]["tickers"]) == 23
    failed = {c["gate"] for c in res["gate_report"]["checks"] if not c["passed"]}
    assert "max_p_value" in failed
    monkeypatch.setenv(
        "PREGAO_ML_GATES",
        "min_accuracy=0,min_roc_auc=0,min_fold_share=0,beat_baseline=false,max_p_value=off,"
        "min_log_loss_skill=off",
    )
    assert main(["promote", str(res["model_id"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["promoted"]
    assert main(["predict", "--json"]) == 0
    pred = json.loads(capsys.readouterr().out)
    # regression: trained until 18/11/2024, it forecast PETR4 (data to 14/11) "for 18/11";
    # now only PRIO3 and VIVA3 (data to 19/11) get a forecast; the others are listed with
    # the reason, and ^BVSP (not evaluated on) too
    assert pred["model_id"] == res["model_id"] and pred["trained_until"][:10] == "2024-11-18"
    assert {p["ticker"] for p in pred["predictions"]} == {"PRIO3", "VIVA3"}
    skipped = {s["ticker"]: s["reason"] for s in pred["skipped"]}
    # 21 stocks seen up to their last bar, plus ^BVSP and WINFUT (not in the model's universe)
    assert len(skipped) == 23 and "avaliado" in skipped["^BVSP"] and "WINFUT" in skipped
    assert "já viu" in skipped["PETR4"]
    assert all(0 <= p["p_up"] <= 1 for p in pred["predictions"])
    assert all(p["sessions_behind"] > 100 for p in pred["predictions"])  # bundled data: 2024
    assert main(["models", "--json"]) == 0
    reg = json.loads(capsys.readouterr().out)
    assert reg["models"][0]["status"] == "champion"
    # the refused retrain is in the history too
    assert [p["outcome"] for p in reg["promotions"]] == ["promoted", "rejected"]
    assert main(["promote", str(res["model_id"])]) == 0
    assert "já é o campeão" in capsys.readouterr().out


def test_study_seed_ibov_json_and_markdown(data_dir, capsys):
    md = data_dir / "study.md"
    assert main(["study", "seed-ibov", "--json", "--markdown", str(md)]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["data"]["sessions"] == 3592 and res["data"]["n_inputs"] == 100
    assert res["split"]["test"] == 30
    assert set(res["models"]) == {"logreg", "xgboost", "lightgbm"}
    for m in res["models"].values():
        assert len(m["walk_forward"]["folds"]) == 3
        assert m["holdout"]["n"] == res["split"]["validation"]
    text = md.read_text()
    assert "Seed vs ours" in text and "53.75%" in text
