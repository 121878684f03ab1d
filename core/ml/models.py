"""The model zoo: scikit-learn Pipelines ``StandardScaler -> estimator``.

The scaler lives inside the pipeline, so it is fitted on whatever rows ``fit`` receives —
the training window of a fold and never its test rows. Every estimator has a fixed
``random_state`` and runs single-threaded by default (``n_jobs=1``; the machine is shared).

Defaults are deliberately small (fast, little capacity to overfit noise):

* ``logreg``: L2 logistic regression, lbfgs, C=1, 1000 iterations (the baseline model);
* ``rf``: Random Forest, 200 trees, depth 5, min 20 rows per leaf;
* ``xgboost``: 200 trees, depth 3, learning rate 0.05, subsample/colsample 0.8;
* ``lightgbm``: 200 trees, 15 leaves, depth 4, learning rate 0.05, subsample/colsample 0.8;
* ``svm``: RBF SVC, C=1, gamma "scale", probabilities by Platt (sigmoid) calibration on
  3 inner folds of the training window (``CalibratedClassifierCV(ensemble=False)``).
"""

from __future__ import annotations

from typing import Any

from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from core.errors import InputError

__all__ = ["MODEL_NAMES", "MODEL_LABELS", "DEFAULT_PARAMS", "make_model", "RANDOM_STATE"]

RANDOM_STATE = 42
MODEL_NAMES = ("logreg", "rf", "xgboost", "lightgbm", "svm")
MODEL_LABELS = {
    "logreg": "Regressão logística",
    "rf": "Random Forest",
    "xgboost": "XGBoost",
    "lightgbm": "LightGBM",
    "svm": "SVM (RBF)",
}

DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "logreg": {"C": 1.0, "max_iter": 1000, "solver": "lbfgs"},
    "rf": {"n_estimators": 200, "max_depth": 5, "min_samples_leaf": 20},
    "xgboost": {
        "n_estimators": 200,
        "max_depth": 3,
        "learning_rate": 0.05,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
    },
    "lightgbm": {
        "n_estimators": 200,
        "num_leaves": 15,
        "max_depth": 4,
        "learning_rate": 0.05,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
    },
    "svm": {"C": 1.0, "gamma": "scale"},
}


def _estimator(name: str, params: dict[str, Any], random_state: int, n_jobs: int):
    if name == "logreg":
        return LogisticRegression(random_state=random_state, **params)
    if name == "rf":
        return RandomForestClassifier(random_state=random_state, n_jobs=n_jobs, **params)
    if name == "xgboost":
        from xgboost import XGBClassifier

        return XGBClassifier(
            random_state=random_state, n_jobs=n_jobs, tree_method="hist", verbosity=0, **params
        )
    if name == "lightgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier(random_state=random_state, n_jobs=n_jobs, verbose=-1, **params)
    if name == "svm":
        from sklearn.calibration import CalibratedClassifierCV

        return CalibratedClassifierCV(
            SVC(kernel="rbf", random_state=random_state, **params),
            method="sigmoid",
            cv=3,
            ensemble=False,
        )
    raise InputError(f"Modelo desconhecido {name!r}; use {', '.join(MODEL_NAMES)}.")


def make_model(
    name: str,
    params: dict[str, Any] | None = None,
    *,
    random_state: int = RANDOM_STATE,
    n_jobs: int = 1,
) -> Pipeline:
    """An unfitted ``Pipeline([("scaler", StandardScaler()), ("model", estimator)])``.

    Parameters
    ----------
    name : {"logreg", "rf", "xgboost", "lightgbm", "svm"}
    params : dict, optional
        Estimator parameters; they update :data:`DEFAULT_PARAMS` ``[name]``.
    random_state : int
        Seed of the estimator.
    n_jobs : int
        Threads for the tree ensembles.

    Raises
    ------
    InputError
        On an unknown model name or invalid parameters.
    """
    if name not in MODEL_NAMES:
        raise InputError(f"Modelo desconhecido {name!r}; use {', '.join(MODEL_NAMES)}.")
    p = {**DEFAULT_PARAMS[name], **(params or {})}
    try:
        est = _estimator(name, p, random_state, n_jobs)
    except TypeError as exc:
        raise InputError(f"Parâmetros inválidos para {name}: {exc}") from exc
    return Pipeline([("scaler", StandardScaler()), ("model", est)])


def fresh(model: Pipeline) -> Pipeline:
    """An unfitted clone of ``model`` (same parameters)."""
    return clone(model)
