"""Train, evaluate and register models: the one function behind the button, CLI and scheduler.

:func:`train_models` loads bars from the store, builds the pooled dataset, evaluates every
requested model out of sample (:func:`core.ml.evaluation.evaluate`), then fits each model
once more on every labelled row (the model that will predict the future) and stores it in
the registry as a challenger with its out-of-sample metrics. :func:`retrain` does the same
for the champion's recipe (or :data:`DEFAULT_REQUEST`) and promotes the result if it passes
the approval gates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from core.data.store import Store
from core.errors import InputError
from core.ml.evaluation import (
    EvalConfig,
    ModelEvaluation,
    build_dataset,
    evaluate,
    fingerprint,
    fit_pipeline,
)
from core.ml.features import BASE_FEATURES, INDEX_FEATURES
from core.ml.models import MODEL_LABELS, MODEL_NAMES
from core.ml.registry import INDEX_TICKER, ApprovalGates, ModelRegistry
from core.ml.targets import TargetSpec
from core.ml.trading import signal_backtest, trading_view

__all__ = [
    "TrainRequest",
    "DEFAULT_REQUEST",
    "load_frames",
    "train_models",
    "retrain",
    "retrain_and_refresh",
    "roc_points",
    "calibration_bins",
]

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class TrainRequest:
    """What to train.

    Attributes
    ----------
    tickers : tuple of str
        Instruments (pooled into one dataset); empty = every stock in the store.
    target : {"direction", "three_class"}
    horizon, threshold : three-class horizon (sessions) and threshold (fraction).
    models : tuple of str
        Model names (:data:`core.ml.models.MODEL_NAMES`).
    validation : {"holdout", "walk-forward", "purged-kfold"}
    folds : int
    mode : {"expanding", "rolling"}
    lookback : int
        Flattened feature window.
    use_index : bool
        Add the ^BVSP features (stocks only).
    tune : bool
        Nested Optuna tuning in every training window.
    tune_seconds : float
        Time box per fold.
    start : str, optional
        First date (``YYYY-MM-DD``) of the bars used.
    calibration : {"auto", "sigmoid", "isotonic", "none"}
        Probability calibration inside every training window (:mod:`core.ml.models`);
        ``auto`` (default): isotonic with enough rows, Platt otherwise.
    """

    tickers: tuple[str, ...] = ()
    target: str = "direction"
    horizon: int = 1
    threshold: float = 0.02
    models: tuple[str, ...] = ("xgboost",)
    validation: str = "walk-forward"
    folds: int = 5
    mode: str = "expanding"
    lookback: int = 1
    use_index: bool = True
    tune: bool = False
    tune_seconds: float = 15.0
    start: str | None = None
    calibration: str = "auto"

    def spec(self) -> TargetSpec:
        """The target spec (direction has horizon 1)."""
        if self.target == "direction":
            return TargetSpec("direction", 1, self.threshold)
        return TargetSpec(self.target, self.horizon, self.threshold)


#: The scheduled retrain's recipe when there is no champion yet: pooled XGBoost on every stock.
DEFAULT_REQUEST = TrainRequest(models=("xgboost",))


def load_frames(
    store: Store, tickers: list[str] | tuple[str, ...], start=None, *, use_index: bool = True
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None]:
    """Daily bars of ``tickers`` (empty = every stock) and of ^BVSP from the store.

    Raises
    ------
    UnknownTickerError
        For a ticker not in the store.
    """
    tickers = [t.strip().upper() for t in tickers if t and t.strip()] or store.tickers("stock")
    if not tickers:
        raise InputError("Não há ações no banco para treinar.")
    frames = {t: store.bars(t, start) for t in tickers}
    index_bars = None
    if use_index and INDEX_TICKER in store.tickers() and any(t != INDEX_TICKER for t in tickers):
        index_bars = store.bars(INDEX_TICKER, start)
    return frames, index_bars


def roc_points(y: np.ndarray, score: np.ndarray, max_points: int = 200) -> dict:
    """ROC curve (``fpr``, ``tpr`` lists, at most ``max_points``) of a binary score."""
    from sklearn.metrics import roc_curve

    if len(np.unique(y)) < 2:
        return {"fpr": [], "tpr": []}
    fpr, tpr, _ = roc_curve(y, score)
    if len(fpr) > max_points:
        sel = np.unique(np.linspace(0, len(fpr) - 1, max_points).astype(int))
        fpr, tpr = fpr[sel], tpr[sel]
    return {"fpr": fpr.tolist(), "tpr": tpr.tolist()}


def calibration_bins(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> dict:
    """Reliability diagram: mean predicted vs observed frequency in equal-count bins."""
    if len(y) == 0:
        return {"predicted": [], "observed": [], "count": []}
    order = np.argsort(p, kind="stable")
    pred, obs, cnt = [], [], []
    for chunk in np.array_split(order, min(n_bins, len(y))):
        if len(chunk):
            pred.append(float(p[chunk].mean()))
            obs.append(float(y[chunk].mean()))
            cnt.append(int(len(chunk)))
    return {"predicted": pred, "observed": obs, "count": cnt}


def _trading(ev: ModelEvaluation, store, ds, index_bars, up_class: int) -> dict:
    """The engine backtest of the signals (costs, taxes, CDI) when the bars come from the
    store; the simple return-based view otherwise (``--file``), said in ``engine``."""
    if store is not None:
        try:
            return signal_backtest(
                store,
                ev,
                tickers=sorted(set(ev.tickers)),
                features=ds.features,
                lookback=ds.lookback,
                columns=list(ds.X.columns),
                index_bars=index_bars,
                up_class=up_class,
            )
        except InputError:
            pass
    tv = trading_view(ev.oos)
    tv["engine"] = False
    tv["sharpe_vs"] = "0"
    return tv


def _result(
    ev: ModelEvaluation,
    model_id: int | None,
    up_class: int,
    *,
    store=None,
    ds=None,
    index_bars=None,
) -> dict:
    y_up = (ev.oos["y"].to_numpy() == up_class).astype(int)
    p_up = ev.oos["p_up"].to_numpy()
    tv = _trading(ev, store, ds, index_bars, up_class)
    eq = tv["equity"]
    return {
        "model_id": model_id,
        "summary": ev.summary(),
        "roc": roc_points(y_up, p_up),
        "calibration": calibration_bins(y_up, p_up),
        "trading": {
            **{k: v for k, v in tv.items() if k != "equity"},
            "equity": {
                "date": [d.strftime("%Y-%m-%d") for d in eq["date"]],
                **{c: eq[c].tolist() for c in eq.columns if c != "date"},
            },
        },
    }


def train_models(
    store: Store | None,
    registry: ModelRegistry | None,
    request: TrainRequest,
    *,
    progress: Progress | None = None,
    n_boot: int = 300,
    frames: dict[str, pd.DataFrame] | None = None,
    index_bars: pd.DataFrame | None = None,
) -> list[dict]:
    """Evaluate and register every model of ``request`` (module docstring).

    Parameters
    ----------
    store : Store or None
        Where bars and the champion live; None only together with ``frames``.
    registry : ModelRegistry or None
        Where to store the models (None: evaluate only, nothing stored).
    request : TrainRequest
    progress : callable(fraction, message), optional
        "modelo j de m — dobra i de n" messages.
    n_boot : int
        Bootstrap resamples for the CIs.
    frames, index_bars : optional
        Bars to use instead of reading ``request.tickers`` from the store (``--file``).

    Returns
    -------
    list of dict
        Per model: ``model_id`` (None without registry), ``summary``
        (:meth:`ModelEvaluation.summary`), ``roc``, ``calibration``, ``trading``.

    Raises
    ------
    InputError, UnknownTickerError
        On bad requests or too little data.
    """
    bad = [m for m in request.models if m not in MODEL_NAMES]
    if bad or not request.models:
        raise InputError(f"Modelo desconhecido {bad}; use {', '.join(MODEL_NAMES)}.")
    if progress:
        progress(0.0, "Carregando dados e calculando atributos")
    if frames is None:
        if store is None:
            raise ValueError("train_models needs a store or frames.")
        frames, index_bars = load_frames(
            store, request.tickers, request.start, use_index=request.use_index
        )
    spec = request.spec()
    feats = list(BASE_FEATURES) + (list(INDEX_FEATURES) if index_bars is not None else [])
    ds = build_dataset(
        frames, spec, index_bars=index_bars, features=feats, lookback=request.lookback
    )
    fp = fingerprint(frames if index_bars is None else {**frames, INDEX_TICKER: index_bars})
    out = []
    m = len(request.models)
    for j, name in enumerate(request.models):
        cfg = EvalConfig(
            model=name,
            validation=request.validation,
            folds=request.folds,
            mode=request.mode,
            tune=request.tune,
            tune_seconds=request.tune_seconds,
            n_boot=n_boot,
            calibration=request.calibration,
        )
        span = (0.05 + 0.9 * j / m, 0.05 + 0.9 * (j + 1) / m)
        ev = evaluate(
            ds, cfg, progress=progress, progress_span=span, label=f"modelo {j + 1} de {m} — "
        )
        model_id = None
        if registry is not None:
            if progress:
                progress(span[1], f"modelo {j + 1} de {m}: ajuste final em todos os dados")
            pipe = fit_pipeline(name, ds.X, ds.y, ev.params, calibration=request.calibration)
            label = ", ".join(sorted(frames)) if len(frames) <= 3 else f"{len(frames)} ativos"
            model_id = registry.register(
                name=f"{MODEL_LABELS[name]} · {spec.name} · {label}",
                model_type=name,
                pipeline=pipe,
                columns=list(ds.X.columns),
                target=spec.name,
                horizon=spec.horizon,
                threshold=spec.threshold,
                validation=request.validation,
                tickers=sorted(frames),
                features=feats,
                lookback=request.lookback,
                params={
                    **ev.params,
                    "_request": asdict(replace(request, models=(name,))),
                    "_data_ends": {
                        t: b.index.max().strftime("%Y-%m-%d")
                        for t, b in ({**frames, INDEX_TICKER: index_bars}.items())
                        if b is not None and len(b)
                    },
                },
                train_start=ds.dates.min(),
                train_end=ds.dates.max(),
                n_train=len(ds),
                data_fingerprint=fp,
                metrics=ev.summary(),
                oos=ev.oos,
                data_end=max(b.index.max() for b in frames.values()),
            )
        if progress:
            progress(span[1], f"modelo {j + 1} de {m}: backtest dos sinais (custos, IR, CDI)")
        out.append(_result(ev, model_id, spec.up_class, store=store, ds=ds, index_bars=index_bars))
    if progress:
        progress(1.0, "Treino concluído")
    return out


def retrain(
    store: Store,
    artifact_dir: str | Path,
    *,
    gates: ApprovalGates = ApprovalGates(),
    target: str = "direction",
    request: TrainRequest | None = None,
    progress: Progress | None = None,
) -> dict:
    """Retrain the champion's recipe (or :data:`DEFAULT_REQUEST`) and promote if it passes.

    Returns
    -------
    dict
        ``model_id``, ``summary``, ``gate_report`` (dict), ``promoted`` (bool), ``message``,
        ``seconds``. A refusal (a tie keeps the champion) is recorded in the promotion
        history with outcome ``kept`` (or ``rejected`` without a champion).
    """
    t0 = time.perf_counter()
    reg = ModelRegistry(store, artifact_dir)
    if request is None:
        champ = reg.champion_row(target)
        if champ is not None and "_request" in champ["params"]:
            r = dict(champ["params"]["_request"])
            r["tickers"] = tuple(r.get("tickers") or ())
            r["models"] = tuple(r.get("models") or (champ["model_type"],))
            known = TrainRequest.__dataclass_fields__
            request = TrainRequest(**{k: v for k, v in r.items() if k in known})
        else:
            request = replace(DEFAULT_REQUEST, target=target)
    res = train_models(store, reg, request, progress=progress)[0]
    report = reg.promote(res["model_id"], gates, reason="retreino", record=True)
    return {
        "model_id": res["model_id"],
        "summary": res["summary"],
        "gate_report": asdict(report),
        "promoted": report.promoted,
        "message": report.message,
        "seconds": time.perf_counter() - t0,
    }


def retrain_and_refresh(
    store: Store,
    artifact_dir: str | Path,
    *,
    gates: ApprovalGates = ApprovalGates(),
    target: str = "direction",
    progress: Progress | None = None,
) -> dict:
    """The weekly job, the CLI ``retrain`` and the page's "Retreinar agora": one function.

    :func:`retrain` (promote only through the gates; a tie keeps the champion and is
    recorded), then :func:`core.ml.predictions.refresh_predictions` with ``write=True``
    (score earlier predictions, log the champion's new ones).

    Returns
    -------
    dict
        :func:`retrain`'s dict plus ``predictions_scored``, ``predictions_logged``,
        ``predictions_skipped`` (ints) and ``champion_id`` (int or None).
    """
    from core.ml.predictions import refresh_predictions

    res = retrain(store, artifact_dir, gates=gates, target=target, progress=progress)
    if progress:
        progress(1.0, "Atualizando as previsões do campeão")
    ref = refresh_predictions(store, write=True) if target == "direction" else None
    res.update(
        predictions_scored=ref.scored_now if ref else 0,
        predictions_logged=ref.logged if ref else 0,
        predictions_skipped=len(ref.skipped) if ref else 0,
        champion_id=ref.model_id if ref else None,
    )
    return res
