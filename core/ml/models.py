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

Calibration (``calibration=``): ``"sigmoid"`` (Platt 1999), ``"isotonic"`` (Zadrozny &
Elkan 2002) or ``"auto"`` (isotonic when each of the 3 inner calibration blocks holds at
least :data:`ISOTONIC_MIN_ROWS` rows, Platt otherwise — isotonic regression overfits small
calibration sets, Niculescu-Mizil & Caruana 2005) wrap the estimator in
``CalibratedClassifierCV(cv=TimeSeriesSplit(3), ensemble=True)``: inside the training window
of each fold, the estimator is fitted on the earlier rows and its probabilities are mapped on
the later rows, never on test rows. ``"none"`` keeps the raw probabilities (the seed study).
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

__all__ = [
    "MODEL_NAMES",
    "MODEL_LABELS",
    "DEFAULT_PARAMS",
    "make_model",
    "RANDOM_STATE",
    "CALIBRATIONS",
    "calibration_method",
    "base_estimator",
]

#: Calibration choices (see the module docstring).
CALIBRATIONS = ("auto", "sigmoid", "isotonic", "none")
#: Rows per inner calibration block from which ``"auto"`` uses isotonic regression.
ISOTONIC_MIN_ROWS = 1000

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


def calibration_method(calibration: str, n_rows: int | None) -> str | None:
    """The calibration actually used: ``"sigmoid"``, ``"isotonic"`` or None.

    Raises
    ------
    InputError
        On an unknown choice.
    """
    if calibration not in CALIBRATIONS:
        raise InputError(f"Calibração desconhecida {calibration!r}; use {', '.join(CALIBRATIONS)}.")
    if calibration == "none":
        return None
    if calibration == "auto":
        return "isotonic" if (n_rows or 0) // 4 >= ISOTONIC_MIN_ROWS else "sigmoid"
    return calibration


def base_estimator(pipe: Pipeline):
    """The fitted estimator inside ``pipe`` (the first inner one when calibrated)."""
    from sklearn.calibration import CalibratedClassifierCV

    est = pipe.named_steps["model"]
    if isinstance(est, CalibratedClassifierCV) and hasattr(est, "calibrated_classifiers_"):
        inner = est.calibrated_classifiers_[0].estimator
        if isinstance(inner, CalibratedClassifierCV | SVC):
            return est
        return inner
    return est


def make_model(
    name: str,
    params: dict[str, Any] | None = None,
    *,
    random_state: int = RANDOM_STATE,
    n_jobs: int = 1,
    calibration: str = "none",
    n_rows: int | None = None,
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
    calibration : {"auto", "sigmoid", "isotonic", "none"}
        Probability calibration inside the training rows (module docstring).
    n_rows : int, optional
        Training rows (for ``"auto"``).

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
    method = calibration_method(calibration, n_rows)
    if method is not None and name != "svm":  # the SVM is Platt-calibrated already
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.model_selection import TimeSeriesSplit

        est = CalibratedClassifierCV(est, method=method, cv=TimeSeriesSplit(3), ensemble=True)
    return Pipeline([("scaler", StandardScaler()), ("model", est)])


def fresh(model: Pipeline) -> Pipeline:
    """An unfitted clone of ``model`` (same parameters)."""
    return clone(model)
