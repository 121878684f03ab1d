"""Honest out-of-sample evaluation of direction models.

:func:`build_dataset` turns bars into a pooled, date-sorted design matrix; :func:`evaluate`
runs one model through a time-ordered splitter (:mod:`core.ml.validation`), refitting the
whole pipeline (scaler included) on each training window, and scores only the test rows.

What is reported (:class:`ModelEvaluation`)
------------------------------------------
* metrics on the pooled out-of-sample predictions: accuracy, precision, recall, F1 (binary:
  of the "up" class; three-class: macro averages), ROC-AUC (one-vs-rest macro for three
  classes), Brier score (mean squared error of the class probabilities, summed over
  classes) and log loss; each with a 95 % percentile bootstrap CI (Efron & Tibshirani,
  1993) over ``n_boot`` iid resamples of the test rows. With several tickers the rows of one
  date are correlated, so the iid CI is then optimistic (said in the page and docs);
* baselines on the same rows: majority class of each fold's training window, always-up, and
  the previous session's direction (three-class: the last label already known, ``y_{t-k}``);
* a one-sided exact binomial test (scipy ``binomtest``) of "accuracy > accuracy of the best
  baseline" — H0: the model is right with the best baseline's probability; and, because rows
  of one date are correlated when several tickers are pooled, a date-clustered companion
  (``p_value_dates``: one-sided t-test across dates of the per-date mean of model hit minus
  best-baseline hit);
* the per-fold table, confusion matrix, and feature importance: "gain" (XGBoost/LightGBM
  total gain, Random Forest mean impurity decrease, logistic regression |coefficient| on
  standardised inputs; none for SVM) and permutation importance (drop of ROC-AUC — accuracy
  for three classes — when a column is shuffled, on at most 1,000 of the last fold's test rows; Breiman 2001).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from core.errors import InputError
from core.ml import stats
from core.ml.features import BASE_FEATURES, INDEX_FEATURES, build_features
from core.ml.models import MODEL_LABELS, base_estimator, calibration_method, make_model
from core.ml.targets import TargetSpec, make_target
from core.ml.validation import date_splits, make_splitter

__all__ = [
    "Dataset",
    "EvalConfig",
    "ModelEvaluation",
    "build_dataset",
    "evaluate",
    "classification_metrics",
    "bootstrap_metrics",
    "baseline_predictions",
    "fingerprint",
    "METRIC_NAMES",
    "CONFIDENCE_EDGES",
]

Progress = Callable[[float, str], None]
METRIC_NAMES = ("accuracy", "precision", "recall", "f1", "roc_auc", "brier", "log_loss")
#: Edges of the P(up) bins in which "proven" (significantly better than the baseline)
#: predictions are identified.
CONFIDENCE_EDGES = (0.0, 0.40, 0.45, 0.50, 0.55, 0.60, 1.0)


@dataclass
class Dataset:
    """A pooled design matrix, sorted by (date, ticker).

    Attributes
    ----------
    X : pandas.DataFrame
        ``(n_rows, n_features)`` float64 features; a plain RangeIndex.
    y : numpy.ndarray
        ``(n_rows,)`` integer class codes (:mod:`core.ml.targets`).
    dates : pandas.DatetimeIndex
        Date of each row (the decision date ``t``).
    tickers : numpy.ndarray
        Ticker of each row.
    prev : numpy.ndarray
        The previous-direction baseline's prediction of each row.
    fwd_ret : numpy.ndarray
        Next-session simple return ``C_{t+1}/C_t - 1`` (fraction), for the trading view.
    spec : TargetSpec
        The target.
    features : list of str
        Base feature names (before the lookback expansion).
    lookback : int
        Flattened window length.
    """

    X: pd.DataFrame
    y: np.ndarray
    dates: pd.DatetimeIndex
    tickers: np.ndarray
    prev: np.ndarray
    fwd_ret: np.ndarray
    spec: TargetSpec
    features: list[str]
    lookback: int

    def __len__(self) -> int:
        return len(self.y)


def fingerprint(frames: dict[str, pd.DataFrame]) -> str:
    """SHA-256 (first 16 hex digits) of the bars used: tickers, dates and adjusted closes."""
    h = hashlib.sha256()
    for t in sorted(frames):
        b = frames[t]
        h.update(t.encode())
        h.update(np.asarray(b.index.values, dtype="datetime64[ns]").astype("int64").tobytes())
        h.update(np.round(b["adj_close"].to_numpy(dtype="float64"), 6).tobytes())
    return h.hexdigest()[:16]


def build_dataset(
    frames: dict[str, pd.DataFrame],
    spec: TargetSpec = TargetSpec(),
    *,
    index_bars: pd.DataFrame | None = None,
    features: list[str] | tuple[str, ...] | None = None,
    lookback: int = 1,
) -> Dataset:
    """Features and labels of one or several instruments, pooled and sorted by date.

    Parameters
    ----------
    frames : dict of str -> pandas.DataFrame
        Canonical daily bars per ticker.
    spec : TargetSpec
        The target.
    index_bars : pandas.DataFrame, optional
        ^BVSP bars for the ``idx_*`` features (ignored for the index itself).
    features : sequence of str, optional
        Base features (default: all base features, plus ``idx_*`` when ``index_bars``).
    lookback : int
        Flattened window.

    Returns
    -------
    Dataset
        Rows with every feature and the label defined (warm-up and the last ``horizon``
        rows dropped).

    Raises
    ------
    InputError
        When no row remains (too little history).
    """
    if not frames:
        raise InputError("Escolha pelo menos um ativo.")
    feats = (
        list(features)
        if features is not None
        else list(BASE_FEATURES) + (list(INDEX_FEATURES) if index_bars is not None else [])
    )
    parts = []
    for t, bars in frames.items():
        if len(bars) < 80:
            raise InputError(f"{t}: histórico curto demais ({len(bars)} sessões; mínimo 80).")
        X = build_features(bars, index_bars, features=feats, lookback=lookback)
        y = make_target(bars, spec)
        c = bars["adj_close"].astype("float64")
        if spec.name == "direction":
            prev = (c / c.shift(1) > 1).astype("float64")
        else:
            prev = y.shift(spec.horizon)
        fwd = c.shift(-1) / c - 1
        df = X.assign(__y=y.to_numpy(), __prev=prev.to_numpy(), __fwd=fwd.to_numpy(), __t=t)
        df.index.name = "date"
        parts.append(df.reset_index())
    df = pd.concat(parts, ignore_index=True)
    cols = [c for c in df.columns if c not in ("date", "__y", "__prev", "__fwd", "__t")]
    ok = df[cols].notna().all(axis=1) & df["__y"].notna() & df["__prev"].notna()
    df = df[ok].sort_values(["date", "__t"], kind="stable").reset_index(drop=True)
    if len(df) < 100:
        raise InputError(
            f"Dados insuficientes após o aquecimento dos atributos ({len(df)} linhas)."
        )
    return Dataset(
        X=df[cols].astype("float64"),
        y=df["__y"].to_numpy().astype(int),
        dates=pd.DatetimeIndex(df["date"]),
        tickers=df["__t"].to_numpy(dtype=object),
        prev=df["__prev"].to_numpy().astype(int),
        fwd_ret=df["__fwd"].to_numpy(dtype="float64"),
        spec=spec,
        features=feats,
        lookback=lookback,
    )


# --------------------------------------------------------------------------- metrics
def _onehot(y: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y] = 1.0
    return out


def _auc(y: np.ndarray, score: np.ndarray, w: np.ndarray) -> float:
    """Weighted ROC-AUC (Mann–Whitney form, ties count ½); equals scikit-learn's
    ``roc_auc_score(y, score, sample_weight=w)`` and is ~20× faster in the bootstrap."""
    y = np.asarray(y)
    pos = (y == 1) & (w > 0)
    neg = (y != 1) & (w > 0)
    wp, wn = float(w[pos].sum()), float(w[neg].sum())
    if wp == 0 or wn == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    s, wpos, wneg = score[order], (w * pos)[order], (w * neg)[order]
    # group ties: negatives strictly below + half of the tied negatives, per positive
    uniq, start = np.unique(s, return_index=True)
    neg_in = np.add.reduceat(wneg, start)
    pos_in = np.add.reduceat(wpos, start)
    below = np.concatenate([[0.0], np.cumsum(neg_in)[:-1]])
    return float((pos_in * (below + 0.5 * neg_in)).sum() / (wp * wn))


def classification_metrics(
    y: np.ndarray, proba: np.ndarray, n_classes: int, weights: np.ndarray | None = None
) -> dict[str, float]:
    """Accuracy, precision, recall, F1, ROC-AUC, Brier and log loss (module docstring).

    Parameters
    ----------
    y : numpy.ndarray
        ``(n,)`` true class codes.
    proba : numpy.ndarray
        ``(n, n_classes)`` predicted probabilities (rows sum to 1).
    n_classes : int
    weights : numpy.ndarray, optional
        ``(n,)`` non-negative sample weights (bootstrap multiplicities).

    Returns
    -------
    dict
        Keys of :data:`METRIC_NAMES`, fractions (Brier and log loss: lower is better).
    """
    w = np.ones(len(y)) if weights is None else weights.astype("float64")
    W = w.sum()
    pred = proba.argmax(axis=1)
    acc = float((w * (pred == y)).sum() / W)
    classes = [1] if n_classes == 2 else list(range(n_classes))
    ps, rs, fs = [], [], []
    for c in classes:
        tp = (w * ((pred == c) & (y == c))).sum()
        pp = (w * (pred == c)).sum()
        ap = (w * (y == c)).sum()
        p = tp / pp if pp > 0 else 0.0
        r = tp / ap if ap > 0 else 0.0
        ps.append(p)
        rs.append(r)
        fs.append(2 * p * r / (p + r) if p + r > 0 else 0.0)
    oh = _onehot(y, n_classes)
    brier = float((w * ((proba - oh) ** 2).sum(axis=1)).sum() / W)
    if n_classes == 2:
        brier = brier / 2.0  # the usual binary Brier: mean (p_up - y)^2
    pt = np.clip(proba[np.arange(len(y)), y], 1e-15, 1.0)
    ll = float(-(w * np.log(pt)).sum() / W)
    if n_classes == 2:
        auc = _auc(y, proba[:, 1], w)
    else:
        aucs = [_auc((y == c).astype(int), proba[:, c], w) for c in range(n_classes)]
        auc = float(np.nanmean(aucs)) if not all(np.isnan(aucs)) else float("nan")
    return {
        "accuracy": acc,
        "precision": float(np.mean(ps)),
        "recall": float(np.mean(rs)),
        "f1": float(np.mean(fs)),
        "roc_auc": auc,
        "brier": brier,
        "log_loss": ll,
    }


def _date_codes(dates) -> tuple[np.ndarray, int]:
    codes, uniq = pd.factorize(pd.DatetimeIndex(dates), sort=True)
    return codes, len(uniq)


def bootstrap_metrics(
    y: np.ndarray,
    proba: np.ndarray,
    n_classes: int,
    *,
    n_boot: int = 300,
    seed: int = 0,
    dates=None,
) -> dict[str, dict[str, float]]:
    """Point value and 95 % percentile bootstrap CI of every metric.

    Parameters
    ----------
    dates : array-like, optional
        ``(n,)`` date of each row. When given, whole dates are resampled (date-clustered
        bootstrap: rows of one date move together when several tickers are pooled);
        otherwise rows are resampled iid.

    Returns
    -------
    dict
        ``{metric: {"value", "lo", "hi"}}``.
    """
    point = classification_metrics(y, proba, n_classes)
    rng = np.random.default_rng(seed)
    n = len(y)
    codes, n_dates = _date_codes(dates) if dates is not None else (None, 0)
    draws: dict[str, list[float]] = {k: [] for k in point}
    for _ in range(n_boot):
        if codes is not None:
            w = stats.cluster_weights(codes, n_dates, rng)
        else:
            w = np.bincount(rng.integers(0, n, n), minlength=n).astype("float64")
        m = classification_metrics(y, proba, n_classes, w)
        for k, v in m.items():
            draws[k].append(v)
    out = {}
    for k, v in point.items():
        arr = np.asarray(draws[k], dtype="float64")
        arr = arr[~np.isnan(arr)]
        lo, hi = np.percentile(arr, [2.5, 97.5]) if len(arr) else (np.nan, np.nan)
        out[k] = {"value": v, "lo": float(lo), "hi": float(hi)}
    return out


def _acc_ci(correct: np.ndarray, n_boot: int, seed: int, dates=None) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    n = len(correct)
    if dates is not None:
        codes, n_dates = _date_codes(dates)
        boots = []
        for _ in range(n_boot):
            w = stats.cluster_weights(codes, n_dates, rng)
            boots.append(float((w * correct).sum() / w.sum()))
    else:
        boots = [correct[rng.integers(0, n, n)].mean() for _ in range(n_boot)]
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return {"value": float(correct.mean()), "lo": float(lo), "hi": float(hi)}


def baseline_predictions(ds: Dataset, train: np.ndarray, test: np.ndarray) -> dict[str, np.ndarray]:
    """Predicted classes of the three baselines on ``test`` (module docstring)."""
    majority = int(np.bincount(ds.y[train], minlength=ds.spec.n_classes).argmax())
    return {
        "majority": np.full(len(test), majority),
        "always_up": np.full(len(test), ds.spec.up_class),
        "previous": ds.prev[test],
    }


BASELINE_LABELS = {
    "majority": "Classe majoritária",
    "always_up": "Sempre alta",
    "previous": "Direção anterior",
}


# --------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate.

    Attributes
    ----------
    model : str
        Model name (:data:`core.ml.models.MODEL_NAMES`).
    validation : str
        ``holdout``, ``walk-forward`` or ``purged-kfold``.
    folds : int
        Folds (walk-forward / purged k-fold).
    mode : str
        Walk-forward window: ``expanding`` or ``rolling``.
    params : dict
        Estimator parameters (update the defaults).
    tune : bool
        Optuna TPE inside each training window (:mod:`core.ml.tuning`).
    tune_seconds : float
        Time box per fold for tuning.
    n_boot : int
        Bootstrap resamples for the CIs.
    importance : bool
        Compute feature importances.
    test_size : float
        Holdout test fraction.
    calibration : {"none", "auto", "sigmoid", "isotonic"}
        Probability calibration inside each training window (:mod:`core.ml.models`).
    """

    model: str = "xgboost"
    validation: str = "walk-forward"
    folds: int = 5
    mode: str = "expanding"
    params: dict = field(default_factory=dict)
    tune: bool = False
    tune_seconds: float = 20.0
    n_boot: int = 300
    importance: bool = True
    test_size: float = 0.2
    calibration: str = "none"


@dataclass
class ModelEvaluation:
    """Out-of-sample results of one model (see the module docstring).

    Attributes
    ----------
    oos : pandas.DataFrame
        One row per test prediction: ``date, ticker, fold, y, pred, p_up`` and ``p_<k>``
        class probabilities, ``fwd_ret``.
    folds : pandas.DataFrame
        Per fold: ``fold, train_start, train_end, test_start, test_end, n_train, n_test,
        accuracy, roc_auc, baseline`` (best baseline accuracy on that fold).
    metrics : dict
        ``{metric: {"value", "lo", "hi"}}``.
    baselines : dict
        ``{baseline: {"value", "lo", "hi"}}`` accuracies on the same rows.
    best_baseline : str
    p_value : float
        One-sided binomial test of accuracy against the best baseline's accuracy.
    consistency : float
        ``1 - std(fold accuracies)`` (ddof=0; NaN with one fold, so a holdout model cannot
        pass the consistency gate).
    confusion : list of list of int
        Rows true class, columns predicted class.
    importance : pandas.DataFrame
        ``feature, gain, permutation`` sorted by permutation importance (may be empty).
    params : dict
        Parameters of the last fold's model (tuned ones when ``tune``).
    seconds : float
        Wall time.
    fold_models : list of (pipeline, test_start, test_end)
        Each fold's fitted model and its test window (for the engine backtest of the
        signals, :func:`core.ml.trading.signal_backtest`); not in :meth:`summary`.
    """

    model: str
    target: str
    validation: str
    n: int
    oos: pd.DataFrame
    folds: pd.DataFrame
    metrics: dict
    baselines: dict
    best_baseline: str
    p_value: float
    consistency: float
    confusion: list
    importance: pd.DataFrame
    params: dict
    seconds: float
    n_classes: int = 2
    tickers: list = field(default_factory=list)
    p_value_dates: float = float("nan")
    fold_share: float = float("nan")
    mde: dict = field(default_factory=dict)
    skill: dict = field(default_factory=dict)
    confidence_bins: list = field(default_factory=list)
    drift: dict | None = None
    base_rate: float = float("nan")
    calibration: str | None = None
    fold_models: list = field(default_factory=list, repr=False)

    @property
    def accuracy(self) -> float:
        """Out-of-sample accuracy (fraction)."""
        return float(self.metrics["accuracy"]["value"])

    def summary(self) -> dict[str, Any]:
        """Plain, JSON-friendly dict (no per-row predictions)."""
        return {
            "model": self.model,
            "model_label": MODEL_LABELS.get(self.model, self.model),
            "target": self.target,
            "validation": self.validation,
            "tickers": list(self.tickers),
            "n": self.n,
            "metrics": self.metrics,
            "baselines": self.baselines,
            "best_baseline": self.best_baseline,
            "p_value": self.p_value,
            "p_value_dates": self.p_value_dates,
            "p_value_reported": stats.reported_p(
                {"p_value": self.p_value, "p_value_dates": self.p_value_dates}
            ),
            "n_dates": int(self.oos["date"].nunique()),
            "consistency": self.consistency,
            "fold_share": self.fold_share,
            "mde": self.mde,
            "skill": self.skill,
            "confidence_bins": self.confidence_bins,
            "drift": self.drift,
            "base_rate": self.base_rate,
            "calibration": self.calibration,
            "ci_method": "bootstrap agrupado por data",
            "confusion": self.confusion,
            "folds": self.folds.to_dict("records"),
            "importance": self.importance.head(25).to_dict("records"),
            "params": self.params,
            "seconds": self.seconds,
        }


def _gain_importance(pipe, columns: list[str]) -> np.ndarray:
    est = base_estimator(pipe)
    name = type(est).__name__
    try:
        if name == "XGBClassifier":
            score = est.get_booster().get_score(importance_type="total_gain")
            keys = [f"f{i}" for i in range(len(columns))]
            if score and not any(k in score for k in keys):
                keys = columns
            v = np.array([score.get(k, 0.0) for k in keys], dtype=float)
        elif name == "LGBMClassifier":
            v = np.asarray(est.booster_.feature_importance("gain"), dtype=float)
        elif name == "RandomForestClassifier":
            v = np.asarray(est.feature_importances_, dtype=float)
        elif name == "LogisticRegression":
            v = np.abs(est.coef_).sum(axis=0)
        else:
            return np.full(len(columns), np.nan)
    except (AttributeError, ValueError):
        return np.full(len(columns), np.nan)
    s = v.sum()
    return v / s if s > 0 else v


def _proba_full(pipe, X, n_classes: int) -> np.ndarray:
    p = pipe.predict_proba(X)
    classes = list(
        pipe.label_map_ if hasattr(pipe, "label_map_") else pipe.named_steps["model"].classes_
    )
    if len(classes) == n_classes:
        return p
    out = np.zeros((len(X), n_classes))
    for j, c in enumerate(classes):
        out[:, int(c)] = p[:, j]
    return out


def fit_pipeline(
    model: str,
    X: pd.DataFrame,
    y: np.ndarray,
    params: dict | None = None,
    *,
    calibration: str = "none",
):
    """Fit ``make_model(model, params, calibration=...)`` on ``(X, y)``; classes 0..k-1.

    When the training window lacks a class (rare, three-class), XGBoost needs contiguous
    labels, so the labels are re-encoded and :func:`_proba_full` maps them back.
    """
    pipe = make_model(model, params, calibration=calibration, n_rows=len(y))
    uniq = np.unique(y)
    if len(uniq) < 2:
        raise InputError("A janela de treino tem uma só classe; use mais dados.")
    if model == "xgboost" and not np.array_equal(uniq, np.arange(len(uniq))):
        pipe.fit(X, np.searchsorted(uniq, y))
        pipe.label_map_ = uniq  # class codes of the probability columns, see _proba_full
        return pipe
    pipe.fit(X, y)
    return pipe


def evaluate(
    ds: Dataset,
    config: EvalConfig = EvalConfig(),
    *,
    progress: Progress | None = None,
    progress_span: tuple[float, float] = (0.0, 1.0),
    label: str = "",
) -> ModelEvaluation:
    """Evaluate one model out of sample on ``ds`` (module docstring).

    Parameters
    ----------
    ds : Dataset
        From :func:`build_dataset`.
    config : EvalConfig
    progress : callable(fraction, message), optional
        Called before every fold ("dobra i de n").
    progress_span : (float, float)
        The slice of the overall progress bar this call covers.
    label : str
        Prefix of the progress messages (e.g. "modelo 2 de 3").

    Returns
    -------
    ModelEvaluation

    Raises
    ------
    InputError
        On bad configuration or too little data.
    """
    t0 = time.perf_counter()
    splitter = make_splitter(
        config.validation,
        config.folds,
        ds.spec.horizon,
        mode=config.mode,
        test_size=config.test_size,
    )
    splits = date_splits(ds.dates, splitter)
    k = ds.spec.n_classes
    a, b = progress_span
    rows = []
    fold_rows = []
    fold_models: list = []
    params = dict(config.params)
    pipe = None
    for i, (tr, te) in enumerate(splits):
        if progress:
            progress(
                a + (b - a) * i / len(splits),
                f"{label}{MODEL_LABELS.get(config.model, config.model)}: dobra {i + 1} de "
                f"{len(splits)}",
            )
        Xtr, ytr = ds.X.iloc[tr], ds.y[tr]
        if config.tune:
            from core.ml.tuning import tune

            params = {
                **config.params,
                **tune(
                    config.model,
                    Xtr,
                    ytr,
                    ds.spec,
                    seconds=config.tune_seconds,
                    dates=ds.dates[tr],
                ),
            }
        pipe = fit_pipeline(config.model, Xtr, ytr, params, calibration=config.calibration)
        proba = _proba_full(pipe, ds.X.iloc[te], k)
        base_up = float(np.mean(ytr == ds.spec.up_class))
        pred = proba.argmax(axis=1)
        base = baseline_predictions(ds, tr, te)
        fold = pd.DataFrame(
            {
                "date": ds.dates[te],
                "ticker": ds.tickers[te],
                "fold": i + 1,
                "y": ds.y[te],
                "pred": pred,
                "fwd_ret": ds.fwd_ret[te],
                **{f"p_{c}": proba[:, c] for c in range(k)},
                **{f"base_{n}": v for n, v in base.items()},
                "p_base_up": base_up,
                "ll": -np.log(np.clip(proba[np.arange(len(te)), ds.y[te]], 1e-15, 1.0)),
            }
        )
        rows.append(fold)
        fold_models.append((pipe, ds.dates[te].min(), ds.dates[te].max()))
        fm = classification_metrics(ds.y[te], proba, k)
        base_acc = max(float((v == ds.y[te]).mean()) for v in base.values())
        fold_rows.append(
            {
                "fold": i + 1,
                "train_start": ds.dates[tr].min(),
                "train_end": ds.dates[tr].max(),
                "test_start": ds.dates[te].min(),
                "test_end": ds.dates[te].max(),
                "n_train": len(tr),
                "n_test": len(te),
                "accuracy": fm["accuracy"],
                "roc_auc": fm["roc_auc"],
                "baseline": base_acc,
            }
        )
    oos = pd.concat(rows, ignore_index=True)
    oos["p_up"] = oos[f"p_{ds.spec.up_class}"]
    y = oos["y"].to_numpy()
    proba = oos[[f"p_{c}" for c in range(k)]].to_numpy()
    odates = oos["date"].to_numpy()
    metrics = bootstrap_metrics(y, proba, k, n_boot=config.n_boot, dates=odates)
    baselines = {
        n: _acc_ci((oos[f"base_{n}"].to_numpy() == y).astype(float), config.n_boot, 1, odates)
        for n in ("majority", "always_up", "previous")
    }
    best = max(baselines, key=lambda n: baselines[n]["value"])
    hits = oos["pred"].to_numpy() == y
    correct = int(hits.sum())
    p0 = min(max(baselines[best]["value"], 1e-9), 1 - 1e-9)
    p_value = float(binomtest(correct, len(y), p0, alternative="greater").pvalue)
    p_value_dates = _date_clustered_p(oos, best)
    folds = pd.DataFrame(fold_rows)
    accs = folds["accuracy"].to_numpy()
    # undefined with a single fold (holdout): the consistency gate then fails
    consistency = float(1 - accs.std()) if len(accs) > 1 else float("nan")
    fold_share = (
        float((folds["accuracy"] > folds["baseline"]).mean()) if len(folds) > 1 else float("nan")
    )
    mde = stats.minimum_detectable_effect(
        len(y), p0, deff=stats.design_effect(hits.astype(float), odates)
    ).as_dict()
    y_up = (y == ds.spec.up_class).astype(float)
    p_up = oos["p_up"].to_numpy()
    ll_up = stats.binary_log_loss(p_up, y_up)
    ll_base = stats.binary_log_loss(oos["p_base_up"].to_numpy(), y_up)
    brier_up = float(np.mean((p_up - y_up) ** 2))
    brier_ref = float(np.mean((oos["p_base_up"].to_numpy() - y_up) ** 2))
    skill = {
        "brier": brier_up,
        "brier_ref": brier_ref,
        "brier_skill": 1 - brier_up / brier_ref if brier_ref > 0 else float("nan"),
        "log_loss": float(ll_up.mean()),
        "log_loss_ref": float(ll_base.mean()),
        "log_loss_skill": 1 - float(ll_up.mean()) / float(ll_base.mean())
        if ll_base.mean() > 0
        else float("nan"),
    }
    bins = _confidence_bins(oos, best) if k == 2 else []
    per_date = pd.Series(ll_up - ll_base).groupby(odates).mean().to_numpy()
    spec_cusum = stats.calibrate_cusum(per_date)
    drift = None if spec_cusum is None else spec_cusum.as_dict()
    from sklearn.metrics import confusion_matrix

    confusion = confusion_matrix(y, oos["pred"], labels=list(range(k))).tolist()
    importance = pd.DataFrame(columns=["feature", "gain", "permutation"])
    if config.importance and pipe is not None:
        importance = _importance(pipe, ds, splits[-1][1], k)
    if progress:
        progress(b, f"{label}{MODEL_LABELS.get(config.model, config.model)}: concluído")
    return ModelEvaluation(
        model=config.model,
        target=ds.spec.name,
        validation=config.validation,
        n=len(y),
        oos=oos,
        folds=folds,
        metrics=metrics,
        baselines=baselines,
        best_baseline=best,
        p_value=p_value,
        p_value_dates=p_value_dates,
        consistency=consistency,
        confusion=confusion,
        importance=importance,
        params=params,
        seconds=time.perf_counter() - t0,
        n_classes=k,
        tickers=sorted(set(ds.tickers.tolist())),
        fold_share=fold_share,
        mde=mde,
        skill=skill,
        confidence_bins=bins,
        drift=drift,
        base_rate=float(np.mean(ds.y == ds.spec.up_class)),
        calibration=calibration_method(config.calibration, len(splits[-1][0])),
        fold_models=fold_models,
    )


def _confidence_bins(oos: pd.DataFrame, best: str) -> list[dict]:
    """Out-of-sample hit rate per P(up) bin against the best baseline on the same rows.

    A bin is ``proven`` when its hit rate beats the baseline's with the reported p-value
    (max of binomial and date-clustered) ≤ 5 % after Holm's correction over the bins.
    """
    edges = CONFIDENCE_EDGES
    p = oos["p_up"].to_numpy()
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    out: list[dict[str, Any]] = []
    for b in range(len(edges) - 1):
        sel = idx == b
        n = int(sel.sum())
        rec: dict[str, Any] = {"lo": edges[b], "hi": edges[b + 1], "n": n}
        if n == 0:
            out.append({**rec, "hit": None, "base": None, "p": None})
            continue
        sub = oos[sel]
        hit = (sub["pred"] == sub["y"]).to_numpy()
        base = (sub[f"base_{best}"] == sub["y"]).to_numpy()
        b0 = min(max(float(base.mean()), 1e-9), 1 - 1e-9)
        p_b = float(binomtest(int(hit.sum()), n, b0, alternative="greater").pvalue)
        p_c = stats.clustered_mean_p(hit.astype(float) - base, sub["date"].to_numpy())
        rec.update(
            hit=float(hit.mean()),
            base=float(base.mean()),
            p=stats.reported_p({"p_value": p_b, "p_value_dates": p_c}),
        )
        out.append(rec)
    adj = stats.holm_adjust([np.nan if r["p"] is None else r["p"] for r in out])
    for r, a in zip(out, adj, strict=True):
        r["p_holm"] = None if np.isnan(a) else float(a)
        r["proven"] = bool(
            r["p_holm"] is not None and r["p_holm"] <= stats.ALPHA and r["hit"] > r["base"]
        )
    return out


def _date_clustered_p(oos: pd.DataFrame, best: str) -> float:
    """One-sided t-test that the per-date mean of (model hit − best-baseline hit) is > 0.

    Rows of one date (several tickers) move together, so the binomial test, which assumes
    independent rows, is optimistic for pooled data; averaging within each date first and
    testing across dates is the conservative companion figure.
    """
    d = (oos["pred"] == oos["y"]).astype(float) - (oos[f"base_{best}"] == oos["y"]).astype(float)
    return stats.clustered_mean_p(d.to_numpy(), oos["date"].to_numpy())


def _importance(pipe, ds: Dataset, test: np.ndarray, k: int) -> pd.DataFrame:
    from sklearn.inspection import permutation_importance

    cols = list(ds.X.columns)
    gain = _gain_importance(pipe, cols)
    Xte, yte = ds.X.iloc[test], ds.y[test]
    if len(test) > 1000:
        sel = np.random.default_rng(0).choice(len(test), 1000, replace=False)
        Xte, yte = Xte.iloc[np.sort(sel)], yte[np.sort(sel)]
    scoring = "roc_auc" if k == 2 and len(np.unique(yte)) == 2 else "accuracy"
    try:
        perm = permutation_importance(
            pipe, Xte, yte, scoring=scoring, n_repeats=3, random_state=0, n_jobs=1
        ).importances_mean
    except ValueError:
        perm = np.full(len(cols), np.nan)
    return (
        pd.DataFrame({"feature": cols, "gain": gain, "permutation": perm})
        .sort_values("permutation", ascending=False, na_position="last")
        .reset_index(drop=True)
    )
