"""Model registry: artifacts on disk, metadata in the database, champion/challenger.

Every trained model is stored: the fitted pipeline as a joblib file under
``<artifact_dir>`` (normally ``<PREGAO_DATA_DIR>/models``) and one ``ml_models`` row holding
tickers, features, target, parameters, training window, data fingerprint, out-of-sample
metrics, artifact path and its SHA-256 (checked on load). A new model starts as a
*challenger*; :meth:`ModelRegistry.promote` makes it the *champion* of its target only if
it passes the :class:`ApprovalGates`; the previous champion is *retired* and the change is
written to ``ml_promotions``.

Contract for other features (``ml_filter`` strategy)
-----------------------------------------------------
``load_champion(store, target="direction") -> ChampionModel | None`` returns the current
champion or None. ``ChampionModel.predict_proba_up(bars, index_bars=None) -> pd.Series``
gives, for every date ``t`` of ``bars`` (canonical frame), the probability that the session
after ``t`` closes up, computed only from bars dated ``<= t`` (NaN during the feature
warm-up). When the model uses ^BVSP features and ``index_bars`` is None, the index bars are
read from the store. Attributes: ``model_id``, ``name``, ``trained_until`` (last training
date; predictions for dates after it are out of sample), ``target``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sqlalchemy import select, update

from core.data.store import Store
from core.errors import InputError, StoreError
from core.ml.features import FEATURE_VERSION, INDEX_FEATURES, build_features
from core.ml.tables import MLModel, MLPromotion

__all__ = [
    "ApprovalGates",
    "paired_comparison",
    "library_versions",
    "GateReport",
    "ChampionModel",
    "ModelRegistry",
    "load_champion",
    "to_json",
]

_M = MLModel.__table__
_P = MLPromotion.__table__
INDEX_TICKER = "^BVSP"


def _default(o: Any):
    if isinstance(o, pd.Timestamp | dt.datetime | dt.date):
        return o.isoformat()
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if np.isnan(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o)}")


def _clean(o: Any):
    if isinstance(o, float) and (o != o or o in (float("inf"), float("-inf"))):
        return None
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_clean(v) for v in o]
    return o


def to_json(obj: Any) -> str:
    """Compact JSON (NaN → null, Timestamps → ISO) for the registry's text columns."""
    return json.dumps(_clean(obj), default=_default, ensure_ascii=False)


# --------------------------------------------------------------------------- gates
def _flag(v: str) -> bool:
    return v.lower() in ("1", "true", "yes", "sim")


def _fin(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v


@dataclass(frozen=True)
class ApprovalGates:
    """Conditions a challenger must meet to become champion (all out of sample).

    Every gate can fail on a model without an edge; with the defaults, a model is promoted
    only when its edge over the best naive baseline is significant after correcting for
    every model tried, its calibrated probabilities beat the base rate, most folds beat
    their baseline and — when there is a champion — it covers the champion's instruments and
    beats it on the same out-of-sample rows in a paired test.

    Attributes
    ----------
    min_accuracy : float
        Accuracy ≥ this (fraction).
    min_roc_auc : float
        ROC-AUC ≥ this.
    min_fold_share : float
        Share of folds whose accuracy beats their own best baseline ≥ this (0.6 = 3 of 5).
        It replaces the seed's consistency gate, which cannot fail (see ``min_consistency``).
    min_consistency : float or None
        The seed's ``1 − std(fold accuracies)`` ≥ this. Off by default: fold accuracies of
        direction models differ by about 1 pp, so the figure sits near 0.99 for any model,
        good or useless, and the gate never says no.
    beat_baseline : bool
        Accuracy strictly above the best baseline's on the same rows.
    max_p_value : float or None
        The reported p-value against the best baseline (max of the binomial and the
        date-clustered p, :func:`core.ml.stats.reported_p`), Holm-adjusted for every model
        of the same target in the registry (``holm``), must be ≤ this. Default 0.05.
    holm : bool
        Apply Holm's correction for the number of models tried.
    min_log_loss_skill : float or None
        Log-loss skill against the base-rate forecast ``1 − LL/LL_base`` must be > this
        (0: the calibrated probabilities must beat the base rate).
    beat_champion : bool
        With a champion: the challenger must beat it on the same out-of-sample rows — hits
        by the exact McNemar test and a date-clustered paired t-test (the larger p ≤
        ``alpha_champion``) — without a worse log loss (Diebold–Mariano statistic ≥ 0). A
        tie keeps the champion.
    cover_champion : bool
        With a champion: the challenger must have been evaluated on every instrument the
        champion covers (a model predicts only for instruments it was evaluated on).
    alpha_champion : float
        Level of the paired test against the champion.
    """

    min_accuracy: float = 0.50
    min_roc_auc: float = 0.50
    min_fold_share: float = 0.60
    min_consistency: float | None = None
    beat_baseline: bool = True
    max_p_value: float | None = 0.05
    holm: bool = True
    min_log_loss_skill: float | None = 0.0
    beat_champion: bool = True
    cover_champion: bool = True
    alpha_champion: float = 0.05

    @classmethod
    def from_string(cls, text: str) -> ApprovalGates:
        """Parse ``"min_accuracy=0.52,min_roc_auc=0.52,max_p_value=0.05"`` (empty = defaults).

        ``max_p_value``, ``min_consistency`` and ``min_log_loss_skill`` accept ``off``
        (or ``none``) to disable the gate.

        Raises
        ------
        InputError
            On unknown keys or bad values.
        """
        kw: dict[str, Any] = {}
        names = {f for f in cls.__dataclass_fields__}
        for part in filter(None, (p.strip() for p in (text or "").split(","))):
            if "=" not in part:
                raise InputError(f"Regra de aprovação inválida {part!r}: use chave=valor.")
            k, v = (s.strip() for s in part.split("=", 1))
            if k not in names:
                raise InputError(f"Regra de aprovação desconhecida {k!r}; use {sorted(names)}.")
            if k in ("beat_baseline", "beat_champion", "holm", "cover_champion"):
                kw[k] = _flag(v)
            elif k in ("max_p_value", "min_consistency", "min_log_loss_skill") and v.lower() in (
                "",
                "none",
                "off",
            ):
                kw[k] = None
            else:
                try:
                    kw[k] = float(v)
                except ValueError as exc:
                    raise InputError(f"Valor inválido para {k}: {v!r}.") from exc
        return cls(**kw)

    def check(
        self,
        metrics: dict,
        champion_metrics: dict | None = None,
        *,
        family_p: list[float] | None = None,
        paired: dict | None = None,
        tickers: list[str] | None = None,
        champion_tickers: list[str] | None = None,
    ) -> GateReport:
        """Apply the gates to a model's stored metrics summary.

        Parameters
        ----------
        metrics : dict
            :meth:`core.ml.evaluation.ModelEvaluation.summary` of the challenger.
        champion_metrics : dict, optional
            The champion's summary (None: no champion).
        family_p : list of float, optional
            Reported p-values of the *other* models tried for the same target (Holm).
        paired : dict, optional
            :func:`paired_comparison` of challenger vs champion on their common rows
            (None with a champion: its out-of-sample rows were not stored — a model
            trained before the comparison existed — and the paired gate says so).
        tickers, champion_tickers : list of str, optional
            Universes of the challenger and the champion.

        Returns
        -------
        GateReport
            One check per gate: ``gate, label, value, threshold, comparison, passed,
            detail`` (pt-BR, with the numbers).
        """
        from core.ml.stats import holm_adjust, reported_p
        from core.textfmt import num

        m = metrics["metrics"]
        acc = _fin(m["accuracy"]["value"])
        auc = _fin(m["roc_auc"]["value"])
        base = _fin(metrics["baselines"][metrics["best_baseline"]]["value"])
        checks: list[dict] = []

        def add(gate, label, value, threshold, comparison, ok, detail=""):
            checks.append(
                {
                    "gate": gate,
                    "label": label,
                    "value": value,
                    "threshold": threshold,
                    "comparison": comparison,
                    "passed": bool(ok),
                    "detail": detail,
                }
            )

        add(
            "min_accuracy", "Acurácia mínima", acc, self.min_accuracy, "≥", acc >= self.min_accuracy
        )
        add("min_roc_auc", "ROC-AUC mínima", auc, self.min_roc_auc, "≥", auc >= self.min_roc_auc)
        share = _fin(metrics.get("fold_share"))
        nf = len(metrics.get("folds") or [])
        add(
            "min_fold_share",
            "Dobras que superam a sua referência",
            share,
            self.min_fold_share,
            "≥",
            share >= self.min_fold_share,
            f"{round(share * nf) if share == share else 0} de {nf} dobras"
            if share == share
            else "exige validação com 2 ou mais dobras (walk-forward ou purged k-fold); "
            "um holdout não pode ser promovido",
        )
        if self.min_consistency is not None:
            cons = _fin(metrics.get("consistency"))
            add(
                "min_consistency",
                "Consistência (1 − desvio das dobras)",
                cons,
                self.min_consistency,
                "≥",
                cons >= self.min_consistency,
            )
        if self.beat_baseline:
            add("beat_baseline", "Supera a melhor referência", acc, base, ">", acc > base)
        if self.max_p_value is not None:
            p = reported_p(metrics)
            others = [x for x in (family_p or []) if x == x]
            adj = float(holm_adjust([p, *others])[0]) if self.holm and p == p else p
            add(
                "max_p_value",
                "Valor-p vs. referência (maior entre binomial e agrupado por data"
                + (", corrigido por Holm)" if self.holm else ")"),
                adj,
                self.max_p_value,
                "≤",
                adj <= self.max_p_value,
                f"p = {num(p, 3)} antes da correção; "
                + (
                    "1 modelo testado"
                    if not others
                    else f"{len(others) + 1} modelos testados para este alvo"
                )
                if p == p
                else "sem valor-p",
            )
        if self.min_log_loss_skill is not None:
            sk = _fin((metrics.get("skill") or {}).get("log_loss_skill"))
            add(
                "min_log_loss_skill",
                "Log-loss melhor que a taxa-base (probabilidades calibradas)",
                sk,
                self.min_log_loss_skill,
                ">",
                sk > self.min_log_loss_skill,
                ""
                if sk == sk
                else "modelo sem medida de habilidade (treinado antes da calibração)",
            )
        if champion_metrics is not None and self.cover_champion:
            need = set(champion_tickers or [])
            have = set(tickers or [])
            miss = sorted(need - have)
            add(
                "cover_champion",
                "Cobre os ativos do campeão",
                float(len(need & have)),
                float(len(need)),
                "≥",
                not miss,
                ("faltam " + ", ".join(miss[:8]) + ("…" if len(miss) > 8 else "")) if miss else "",
            )
        if champion_metrics is not None and self.beat_champion:
            if paired is None:
                add(
                    "beat_champion",
                    "Supera o campeão nas mesmas linhas (teste pareado)",
                    float("nan"),
                    self.alpha_champion,
                    "≤",
                    True,
                    "o campeão foi treinado antes do registro das previsões fora da amostra: "
                    "comparação pareada impossível, valem as demais regras",
                )
            else:
                ph = _fin(paired.get("p_hits"))
                dm = _fin(paired.get("dm_stat"))
                ok = paired["n_common"] > 0 and ph <= self.alpha_champion and not dm < 0
                add(
                    "beat_champion",
                    "Supera o campeão nas mesmas linhas (McNemar e Diebold–Mariano)",
                    ph,
                    self.alpha_champion,
                    "≤",
                    ok,
                    f"{paired['n_common']} linhas em comum; acerto "
                    f"{num(paired['acc_challenger'], 4)} vs {num(paired['acc_champion'], 4)} "
                    f"(só o desafiante acerta {paired['b']}, só o campeão {paired['c']}); "
                    f"log-loss {num(paired['ll_challenger'], 4)} vs "
                    f"{num(paired['ll_champion'], 4)} (DM = {num(dm, 2)}, "
                    f"p = {num(_fin(paired['dm_p']), 3)})"
                    if paired["n_common"] > 0
                    else "nenhuma linha fora da amostra em comum com o campeão",
                )
        return GateReport(passed=all(c["passed"] for c in checks), checks=checks)


def paired_comparison(challenger: pd.DataFrame, champion: pd.DataFrame, *, lag: int = 0) -> dict:
    """Challenger vs champion on their common out-of-sample rows (same dates and tickers).

    Parameters
    ----------
    challenger, champion : pandas.DataFrame
        Out-of-sample rows ``date, ticker, y, pred, ll`` (``ll``: log loss of the true class).
    lag : int
        Newey–West lags for the Diebold–Mariano test (``horizon − 1``).

    Returns
    -------
    dict
        ``n_common, n_dates, acc_challenger, acc_champion, b, c, mcnemar_p, p_hits_dates,
        p_hits`` (max of the two one-sided p-values for "challenger hits more"),
        ``ll_challenger, ll_champion, dm_stat, dm_p`` (one-sided, challenger lower loss).
    """
    from core.ml.stats import clustered_mean_p, diebold_mariano, mcnemar_greater

    j = challenger.merge(champion, on=["date", "ticker"], suffixes=("_a", "_b"))
    j = j[j["y_a"] == j["y_b"]]
    if j.empty:
        return {"n_common": 0, "n_dates": 0, "p_hits": float("nan"), "dm_stat": float("nan")}
    ha = (j["pred_a"] == j["y_a"]).to_numpy()
    hb = (j["pred_b"] == j["y_b"]).to_numpy()
    p_mc, b, c = mcnemar_greater(ha, hb)
    dates = j["date"].to_numpy()
    p_cl = clustered_mean_p(ha.astype(float) - hb.astype(float), dates)
    p_hits = max(p_mc, p_cl) if p_cl == p_cl else p_mc
    dm, dm_p = diebold_mariano(j["ll_a"].to_numpy(), j["ll_b"].to_numpy(), dates, lag=lag)
    return {
        "n_common": int(len(j)),
        "n_dates": int(j["date"].nunique()),
        "acc_challenger": float(ha.mean()),
        "acc_champion": float(hb.mean()),
        "b": b,
        "c": c,
        "mcnemar_p": p_mc,
        "p_hits_dates": p_cl,
        "p_hits": float(p_hits),
        "ll_challenger": float(j["ll_a"].mean()),
        "ll_champion": float(j["ll_b"].mean()),
        "dm_stat": dm,
        "dm_p": dm_p,
    }


@dataclass
class GateReport:
    """Outcome of :meth:`ApprovalGates.check`: ``passed`` and one dict per gate.

    ``champion_id`` names the champion it was compared with (None: there was none).
    """

    passed: bool
    checks: list[dict] = field(default_factory=list)
    promoted: bool = False
    message: str = ""
    champion_id: int | None = None

    def failed(self) -> list[str]:
        """Labels of the failed gates."""
        return [c["label"] for c in self.checks if not c["passed"]]


# --------------------------------------------------------------------------- champion
@dataclass
class ChampionModel:
    """A fitted model from the registry, ready to predict (see the module docstring)."""

    model_id: int
    name: str
    model_type: str
    target: str
    trained_until: pd.Timestamp
    features: list[str]
    lookback: int
    uses_index: bool
    columns: list[str]
    pipeline: Any
    metrics: dict
    up_class: int = 1
    _store: Store | None = None
    tickers: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    data_end: pd.Timestamp | None = None
    data_fingerprint: str = ""
    horizon: int = 1
    request: dict = field(default_factory=dict)
    data_ends: dict = field(default_factory=dict)

    def _index_bars(self, bars: pd.DataFrame) -> pd.DataFrame | None:
        if not self.uses_index:
            return None
        if self._store is None:
            raise InputError("Este modelo usa o ^BVSP: passe index_bars.")
        start = bars.index.min() - pd.Timedelta(days=120)
        return self._store.bars(INDEX_TICKER, start, bars.index.max())

    def features_of(
        self, bars: pd.DataFrame, index_bars: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """The model's feature matrix for ``bars`` (NaN rows during the warm-up)."""
        if index_bars is None:
            index_bars = self._index_bars(bars)
        X = build_features(bars, index_bars, features=self.features, lookback=self.lookback)
        return X[self.columns]

    def predict_proba_up(
        self, bars: pd.DataFrame, index_bars: pd.DataFrame | None = None
    ) -> pd.Series:
        """P(next session closes up) for each date of ``bars``; NaN during the warm-up.

        Parameters
        ----------
        bars : pandas.DataFrame
            Canonical daily bars of one instrument.
        index_bars : pandas.DataFrame, optional
            ^BVSP bars (read from the store when needed and not given).

        Returns
        -------
        pandas.Series
            Float in [0, 1], index = ``bars.index``, name ``p_up``. For a three-class model
            it is the probability of the "up" class.
        """
        X = self.features_of(bars, index_bars)
        out = pd.Series(np.nan, index=bars.index, name="p_up")
        ok = X.notna().all(axis=1).to_numpy()
        if ok.any():
            p = self.pipeline.predict_proba(X[ok])
            classes = list(
                self.pipeline.label_map_
                if hasattr(self.pipeline, "label_map_")
                else self.pipeline.named_steps["model"].classes_
            )
            if self.up_class in classes:
                out[ok] = p[:, classes.index(self.up_class)]
            else:
                out[ok] = 0.0
        return out


# --------------------------------------------------------------------------- registry
_LIBS = ("numpy", "pandas", "scikit-learn", "xgboost", "lightgbm", "scipy")


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries a stored model depends on."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for lib in _LIBS:
        try:
            out[lib] = version(lib)
        except PackageNotFoundError:
            out[lib] = ""
    return out


def version_warnings(meta: dict) -> list[str]:
    """pt-BR warnings when a stored model was trained under other library/feature versions."""
    from core.ml.features import FEATURE_VERSION

    out = []
    stored = meta.get("versions") or {}
    if not stored:
        out.append(
            f"Modelo #{meta['id']}: versões das bibliotecas não registradas (treinado antes do "
            "registro de versões); retreine para ter certeza do resultado."
        )
    else:
        now = library_versions()
        diff = [f"{k} {stored[k]} → {now.get(k, '?')}" for k in stored if stored[k] != now.get(k)]
        if diff:
            out.append(
                f"Modelo #{meta['id']} treinado com outras versões ({'; '.join(diff)}): as "
                "probabilidades podem mudar; retreine."
            )
    fv = meta.get("feature_version")
    if fv and fv != FEATURE_VERSION:
        out.append(
            f"Modelo #{meta['id']} usa a versão {fv} dos atributos; a atual é "
            f"{FEATURE_VERSION}: retreine."
        )
    elif not fv:
        out.append(f"Modelo #{meta['id']}: versão dos atributos não registrada.")
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class ModelRegistry:
    """Store and promote trained models.

    Parameters
    ----------
    store : Store
        The migrated store (tables of migration 0004).
    artifact_dir : str or Path
        Folder for the joblib artifacts (created when missing).
    """

    def __init__(self, store: Store, artifact_dir: str | Path) -> None:
        self.store = store
        self.artifact_dir = Path(artifact_dir)

    # -- writing ------------------------------------------------------------------------
    def register(
        self,
        *,
        name: str,
        model_type: str,
        pipeline: Any,
        columns: list[str],
        target: str,
        horizon: int,
        threshold: float,
        validation: str,
        tickers: list[str],
        features: list[str],
        lookback: int,
        params: dict,
        train_start: pd.Timestamp,
        train_end: pd.Timestamp,
        n_train: int,
        data_fingerprint: str,
        metrics: dict,
        oos: pd.DataFrame | None = None,
        data_end: pd.Timestamp | None = None,
    ) -> int:
        """Write the artifact and its metadata row; returns the new model id (a challenger).

        ``oos`` (out-of-sample rows ``date, ticker, y, pred, ll``) is stored in the artifact
        for the paired comparison with later challengers; ``data_end`` is the last bar date of
        the training data (fingerprint check at predict time). Library versions and
        :data:`core.ml.features.FEATURE_VERSION` are recorded.

        Raises
        ------
        StoreError
            When the artifact cannot be written.
        """
        self.artifact_dir.mkdir(parents=True, exist_ok=True)
        path = (self.artifact_dir / f"{model_type}-{uuid.uuid4().hex[:12]}.joblib").resolve()
        try:
            art = {"pipeline": pipeline, "columns": list(columns)}
            if oos is not None:
                art["oos"] = oos[["date", "ticker", "y", "pred", "ll"]].reset_index(drop=True)
            joblib.dump(art, path, compress=3)
        except OSError as exc:
            raise StoreError(f"Não foi possível gravar o modelo em {path}: {exc}") from exc
        uses_index = any(f in INDEX_FEATURES for f in features)
        row = {
            "name": name,
            "model_type": model_type,
            "target": target,
            "horizon": int(horizon),
            "threshold": float(threshold),
            "validation": validation,
            "tickers": to_json(list(tickers)),
            "features": to_json(list(features)),
            "lookback": int(lookback),
            "uses_index": int(uses_index),
            "params": to_json(params),
            "train_start": pd.Timestamp(train_start).to_pydatetime(),
            "train_end": pd.Timestamp(train_end).to_pydatetime(),
            "n_train": int(n_train),
            "data_fingerprint": data_fingerprint,
            "metrics": to_json(metrics),
            "artifact_path": str(path),
            "artifact_sha256": _sha256(path),
            "status": "challenger",
            "gate_report": "{}",
            "created_at": _now(),
            "versions": to_json(library_versions()),
            "feature_version": FEATURE_VERSION,
            "data_end": None if data_end is None else pd.Timestamp(data_end).to_pydatetime(),
        }
        with self.store.transaction() as conn:
            res = conn.execute(_M.insert().values(**row))
            return int(res.inserted_primary_key[0])

    def promote(
        self,
        model_id: int,
        gates: ApprovalGates = ApprovalGates(),
        *,
        reason: str = "",
        record: bool = False,
    ) -> GateReport:
        """Promote ``model_id`` to champion of its target if it passes ``gates``.

        Parameters
        ----------
        model_id : int
        gates : ApprovalGates
        reason : str
            Stored in the promotion history.
        record : bool
            Also record a refusal in the history (``outcome`` ``kept`` when the champion
            stays, ``rejected`` when there is none): the retrain does, so a tie is visible.

        Returns
        -------
        GateReport
            ``promoted`` True when it became champion; the gate report is stored on the
            model row either way.

        Raises
        ------
        InputError
            When the model does not exist.
        """
        from core.ml.stats import reported_p

        m = self.get(model_id)
        champ = self.champion_row(m["target"])
        if champ is not None and champ["id"] == model_id:
            return GateReport(True, [], promoted=False, message="Este modelo já é o campeão.")
        family = [
            reported_p(r["metrics"])
            for r in self._rows(m["target"])
            if r["id"] != model_id and r.get("metrics")
        ]
        paired = None
        if champ is not None and gates.beat_champion:
            a, b = self.oos(model_id), self.oos(champ["id"])
            if a is not None and b is not None:
                paired = paired_comparison(a, b, lag=max(0, int(m["horizon"]) - 1))
        report = gates.check(
            m["metrics"],
            champ["metrics"] if champ else None,
            family_p=family,
            paired=paired,
            tickers=m["tickers"],
            champion_tickers=champ["tickers"] if champ else None,
        )
        report.champion_id = champ["id"] if champ else None
        report.promoted = report.passed
        if report.passed:
            report.message = f"Modelo #{model_id} promovido a campeão."
        elif champ is not None:
            report.message = (
                f"Modelo #{model_id} não promovido: falhou em {', '.join(report.failed())}. "
                f"O campeão #{champ['id']} continua."
            )
        else:
            report.message = (
                f"Modelo #{model_id} não promovido: falhou em {', '.join(report.failed())}."
            )
        with self.store.transaction() as conn:
            conn.execute(
                update(_M).where(_M.c.id == model_id).values(gate_report=to_json(asdict(report)))
            )
            if report.passed:
                if champ is not None:
                    conn.execute(update(_M).where(_M.c.id == champ["id"]).values(status="retired"))
                conn.execute(update(_M).where(_M.c.id == model_id).values(status="champion"))
            if report.passed or record:
                conn.execute(
                    _P.insert().values(
                        target=m["target"],
                        model_id=model_id,
                        previous_model_id=champ["id"] if champ else None,
                        reason=(reason or "aprovado nas regras")
                        if report.passed
                        else f"{reason or 'retreino'}: falhou em {', '.join(report.failed())}",
                        promoted_at=_now(),
                        outcome="promoted"
                        if report.passed
                        else ("kept" if champ is not None else "rejected"),
                    )
                )
        return report

    def oos(self, model_id: int) -> pd.DataFrame | None:
        """Stored out-of-sample rows of a model (None for models trained before 0008).

        Raises
        ------
        StoreError
            When the artifact is missing or altered.
        """
        meta = self.get(model_id)
        return _artifact(meta).get("oos")

    def _rows(self, target: str | None = None) -> list[dict]:
        q = select(_M).order_by(_M.c.id.desc())
        if target:
            q = q.where(_M.c.target == target)
        with self.store.engine.connect() as conn:
            return [self._decode(r) for r in conn.execute(q)]

    # -- reading ------------------------------------------------------------------------
    @staticmethod
    def _decode(row) -> dict:
        d = dict(row._mapping)
        for k in ("tickers", "features", "params", "metrics", "gate_report", "versions"):
            d[k] = json.loads(d[k]) if d.get(k) else {}
        if d.get("data_end") is not None:
            d["data_end"] = pd.Timestamp(d["data_end"])
        d["uses_index"] = bool(d["uses_index"])
        for k in ("train_start", "train_end", "created_at"):
            d[k] = pd.Timestamp(d[k])
        return d

    def get(self, model_id: int) -> dict:
        """Metadata of one model (JSON columns decoded).

        Raises
        ------
        InputError
            When there is no such model.
        """
        with self.store.engine.connect() as conn:
            row = conn.execute(select(_M).where(_M.c.id == int(model_id))).first()
        if row is None:
            raise InputError(f"Modelo #{model_id} não encontrado no registro.")
        return self._decode(row)

    def champion_row(self, target: str = "direction") -> dict | None:
        """Metadata of the champion of ``target`` or None."""
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(_M)
                .where(_M.c.target == target, _M.c.status == "champion")
                .order_by(_M.c.id.desc())
                .limit(1)
            ).first()
        return None if row is None else self._decode(row)

    def list_models(self, target: str | None = None) -> pd.DataFrame:
        """Every model, newest first: ``id, name, model_type, target, status, tickers,
        train_end, accuracy, roc_auc, baseline, p_value, created_at``, and (additions)
        ``p_value_dates, p_value_reported`` (the one shown: :func:`core.ml.stats.reported_p`),
        ``fold_share, log_loss_skill, calibration, feature_version``."""
        from core.ml.stats import reported_p

        rows = self._rows(target)
        recs = []
        for d in rows:
            m = d["metrics"]
            recs.append(
                {
                    "id": d["id"],
                    "name": d["name"],
                    "model_type": d["model_type"],
                    "target": d["target"],
                    "status": d["status"],
                    "tickers": d["tickers"],
                    "validation": d["validation"],
                    "train_end": d["train_end"],
                    "accuracy": m["metrics"]["accuracy"]["value"],
                    "roc_auc": m["metrics"]["roc_auc"]["value"],
                    "baseline": m["baselines"][m["best_baseline"]]["value"],
                    "p_value": m["p_value"],
                    "n": m["n"],
                    "created_at": d["created_at"],
                    "p_value_dates": m.get("p_value_dates"),
                    "p_value_reported": reported_p(m),
                    "fold_share": m.get("fold_share"),
                    "log_loss_skill": (m.get("skill") or {}).get("log_loss_skill"),
                    "calibration": m.get("calibration"),
                    "feature_version": d.get("feature_version"),
                }
            )
        cols = [
            "id",
            "name",
            "model_type",
            "target",
            "status",
            "tickers",
            "validation",
            "train_end",
            "accuracy",
            "roc_auc",
            "baseline",
            "p_value",
            "n",
            "created_at",
            "p_value_dates",
            "p_value_reported",
            "fold_share",
            "log_loss_skill",
            "calibration",
            "feature_version",
        ]
        return pd.DataFrame(recs, columns=cols)

    def promotions(self, target: str | None = None) -> pd.DataFrame:
        """Promotion history, newest first: ``id, target, model_id, previous_model_id,
        reason, promoted_at, outcome`` (``promoted``; ``kept``: a retrain left the champion
        ``previous_model_id`` in place; ``rejected``: no champion and the model failed)."""
        q = select(_P).order_by(_P.c.id.desc())
        if target:
            q = q.where(_P.c.target == target)
        with self.store.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
        cols = [
            "id",
            "target",
            "model_id",
            "previous_model_id",
            "reason",
            "promoted_at",
            "outcome",
        ]
        return pd.DataFrame(rows, columns=cols)

    def load(self, model_id: int) -> ChampionModel:
        """The fitted model of ``model_id`` (artifact checked against its SHA-256).

        Raises
        ------
        StoreError
            When the artifact is missing or altered.
        """
        return _load(self.store, self.get(model_id))


def _artifact(meta: dict) -> dict:
    path = Path(meta["artifact_path"])
    if not path.is_file():
        raise StoreError(f"Artefato do modelo #{meta['id']} não encontrado: {path}.")
    if _sha256(path) != meta["artifact_sha256"]:
        raise StoreError(f"Artefato do modelo #{meta['id']} foi alterado (SHA-256 diferente).")
    return joblib.load(path)


def _load(store: Store, meta: dict) -> ChampionModel:
    import logging

    art = _artifact(meta)
    warns = version_warnings(meta)
    for w in warns:
        logging.getLogger(__name__).warning(w)
    return ChampionModel(
        model_id=int(meta["id"]),
        name=meta["name"],
        model_type=meta["model_type"],
        target=meta["target"],
        trained_until=pd.Timestamp(meta["train_end"]),
        features=list(meta["features"]),
        lookback=int(meta["lookback"]),
        uses_index=bool(meta["uses_index"]),
        columns=list(art["columns"]),
        pipeline=art["pipeline"],
        metrics=meta["metrics"],
        up_class=1 if meta["target"] == "direction" else 2,
        _store=store,
        tickers=list(meta["tickers"]),
        warnings=warns,
        data_end=meta.get("data_end"),
        data_fingerprint=meta.get("data_fingerprint") or "",
        horizon=int(meta.get("horizon") or 1),
        request=dict((meta.get("params") or {}).get("_request") or {}),
        data_ends=dict((meta.get("params") or {}).get("_data_ends") or {}),
    )


def load_champion(store: Store, target: str = "direction") -> ChampionModel | None:
    """The champion of ``target`` ready to predict, or None (see the module docstring).

    Raises
    ------
    StoreError
        When the champion's artifact is missing or altered.
    """
    meta = ModelRegistry(store, ".").champion_row(target)
    return None if meta is None else _load(store, meta)
