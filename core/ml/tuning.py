"""Hyper-parameter tuning with Optuna's TPE sampler, nested in one training window.

:func:`tune` only ever sees the training rows it is given (the outer walk-forward fold's
window); it scores each trial by the mean log loss of an inner walk-forward (3 folds,
expanding) inside that window, so the outer test rows never influence the choice. The
search stops after ``n_trials`` or ``seconds`` (time box), whichever comes first.
Reference: Bergstra et al., "Algorithms for Hyper-Parameter Optimization", NeurIPS 2011.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.ml.models import RANDOM_STATE, make_model
from core.ml.targets import TargetSpec
from core.ml.validation import WalkForwardSplit, date_splits

__all__ = ["tune", "search_space"]


def search_space(trial, model: str) -> dict:
    """Parameters of one Optuna ``trial`` for ``model`` (small, regularised ranges)."""
    if model == "logreg":
        return {"C": trial.suggest_float("C", 1e-3, 10.0, log=True)}
    if model == "rf":
        return {
            "max_depth": trial.suggest_int("max_depth", 2, 8),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 10, 100, log=True),
            "n_estimators": 100,
        }
    if model == "xgboost":
        return {
            "max_depth": trial.suggest_int("max_depth", 2, 5),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
            "n_estimators": trial.suggest_int("n_estimators", 50, 300, step=50),
            "reg_lambda": trial.suggest_float("reg_lambda", 0.1, 20.0, log=True),
        }
    if model == "lightgbm":
        return {
            "num_leaves": trial.suggest_int("num_leaves", 4, 31),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
            "n_estimators": trial.suggest_int("n_estimators", 50, 300, step=50),
            "reg_lambda": trial.suggest_float("reg_lambda", 0.1, 20.0, log=True),
        }
    return {
        "C": trial.suggest_float("C", 0.05, 10.0, log=True),
        "gamma": trial.suggest_float("gamma", 1e-4, 1e-1, log=True),
    }


def tune(
    model: str,
    X: pd.DataFrame,
    y: np.ndarray,
    spec: TargetSpec = TargetSpec(),
    *,
    n_trials: int = 30,
    seconds: float = 20.0,
    inner_folds: int = 3,
    seed: int = RANDOM_STATE,
    dates: pd.DatetimeIndex | None = None,
) -> dict:
    """Best parameters for ``model`` on the training window ``(X, y)``.

    Parameters
    ----------
    model : str
        Model name.
    X, y : training window only (time-ordered).
    spec : TargetSpec
        For the inner splitter's gap (``horizon - 1``).
    n_trials : int
        Maximum trials.
    seconds : float
        Time box in seconds.
    inner_folds : int
        Inner walk-forward folds.
    seed : int
        TPE sampler seed.
    dates : pandas.DatetimeIndex, optional
        Date of each row. With several tickers pooled, rows share dates: the inner folds are
        then split by date (:func:`core.ml.validation.date_splits`) so that no date, and no
        multi-session label, straddles an inner train/test boundary.

    Returns
    -------
    dict
        Best parameters (empty when no trial finished).
    """
    import optuna
    from sklearn.metrics import log_loss

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    inner = WalkForwardSplit(inner_folds, horizon=spec.horizon)
    splits = date_splits(dates, inner) if dates is not None else list(inner.split(len(y)))
    labels = list(range(spec.n_classes))

    def objective(trial):
        params = search_space(trial, model)
        losses = []
        for tr, te in splits:
            if len(np.unique(y[tr])) < 2:
                continue
            pipe = make_model(model, params).fit(X.iloc[tr], y[tr])
            p = pipe.predict_proba(X.iloc[te])
            cls = list(pipe.named_steps["model"].classes_)
            full = np.full((len(te), spec.n_classes), 1e-6)
            for j, c in enumerate(cls):
                full[:, int(c)] = p[:, j]
            full /= full.sum(axis=1, keepdims=True)
            losses.append(log_loss(y[te], full, labels=labels))
        return float(np.mean(losses)) if losses else float("inf")

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=n_trials, timeout=seconds)
    done = [t for t in study.trials if t.value is not None and np.isfinite(t.value)]
    if not done:
        return {}
    params = dict(study.best_params)
    if model == "rf":
        params["n_estimators"] = 100
    return params
