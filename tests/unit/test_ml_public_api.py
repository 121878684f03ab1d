"""Public names of core.ml are pinned; core.ml never imports the UI layers; components build."""

from __future__ import annotations

import importlib
import sys

import pytest

MODULES = [
    "features",
    "targets",
    "models",
    "validation",
    "evaluation",
    "trading",
    "tuning",
    "training",
    "registry",
    "predictions",
    "anomalies",
    "study",
    "tables",
    "stats",
    "meta",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name):
    mod = importlib.import_module(f"core.ml.{name}")
    assert mod.__all__, name
    for n in mod.__all__:
        assert hasattr(mod, n), f"core.ml.{name}.{n}"


def test_core_ml_does_not_import_ui():
    import subprocess

    code = (
        "import sys, importlib\n"
        f"for m in {MODULES!r}: importlib.import_module('core.ml.' + m)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('dash', 'flask', 'plotly', 'components', 'pages', 'dashboard')]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_component_builders_on_a_real_result(bundled_store):
    from components import models as cm
    from core.ml.training import TrainRequest, train_models

    res = train_models(
        bundled_store,
        None,
        TrainRequest(tickers=("VALE3",), models=("logreg",), folds=3),
        n_boot=20,
    )[0]
    card = cm.result_card(res)
    assert card is not None and "models-result" in card.className
    fig = cm.confusion_figure(res["summary"])
    assert sum(map(sum, fig.data[0].z)) == res["summary"]["n"]
    assert cm.roc_figure(res["roc"]).data[0].x[0] == 0.0
    eq = cm.equity_figure(res["trading"])
    assert len(eq.data) == 3  # model, buy-and-hold and the CDI (engine backtest)
    assert cm.predictions_table([]).id == "models-no-champion"
