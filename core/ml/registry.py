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
from core.ml.features import INDEX_FEATURES, build_features
from core.ml.tables import MLModel, MLPromotion

__all__ = [
    "ApprovalGates",
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
@dataclass(frozen=True)
class ApprovalGates:
    """Conditions a challenger must meet to become champion (all out of sample).

    Attributes
    ----------
    min_accuracy : float
        Accuracy ≥ this (fraction).
    min_roc_auc : float
        ROC-AUC ≥ this.
    min_consistency : float
        ``1 - std(fold accuracies)`` ≥ this (the seed's 0.85).
    beat_baseline : bool
        Accuracy strictly above the best baseline's on the same rows.
    beat_champion : bool
        Accuracy strictly above the current champion's (when there is one).
    max_p_value : float or None
        When set, the p-value against the best baseline must be ≤ this (the larger of the
        binomial and the date-clustered p-values).
    """

    min_accuracy: float = 0.50
    min_roc_auc: float = 0.50
    min_consistency: float = 0.85
    beat_baseline: bool = True
    beat_champion: bool = True
    max_p_value: float | None = None

    @classmethod
    def from_string(cls, text: str) -> ApprovalGates:
        """Parse ``"min_accuracy=0.52,min_roc_auc=0.52,max_p_value=0.05"`` (empty = defaults).

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
            if k in ("beat_baseline", "beat_champion"):
                kw[k] = v.lower() in ("1", "true", "yes", "sim")
            elif k == "max_p_value" and v.lower() in ("", "none"):
                kw[k] = None
            else:
                try:
                    kw[k] = float(v)
                except ValueError as exc:
                    raise InputError(f"Valor inválido para {k}: {v!r}.") from exc
        return cls(**kw)

    def check(self, metrics: dict, champion_metrics: dict | None = None) -> GateReport:
        """Apply the gates to a model's stored metrics summary (see :meth:`ModelEvaluation.summary`)."""
        m = metrics["metrics"]
        acc = float(m["accuracy"]["value"])
        auc = m["roc_auc"]["value"]
        auc = float("nan") if auc is None else float(auc)
        base = float(metrics["baselines"][metrics["best_baseline"]]["value"])
        cons = metrics.get("consistency")
        cons = float("nan") if cons is None else float(cons)
        rows = [
            ("min_accuracy", "Acurácia mínima", acc, self.min_accuracy, acc >= self.min_accuracy),
            ("min_roc_auc", "ROC-AUC mínima", auc, self.min_roc_auc, auc >= self.min_roc_auc),
            (
                "min_consistency",
                "Consistência (1 − desvio das dobras)"
                if cons == cons
                else "Consistência (1 − desvio das dobras): exige validação com 2 ou mais dobras "
                "(walk-forward ou purged k-fold); um holdout não pode ser promovido",
                cons,
                self.min_consistency,
                cons >= self.min_consistency,
            ),
        ]
        if self.beat_baseline:
            rows.append(("beat_baseline", "Supera a melhor referência", acc, base, acc > base))
        if self.max_p_value is not None:
            p = float(metrics["p_value"])
            pd_ = metrics.get("p_value_dates")
            if pd_ is not None and pd_ == pd_:
                p = max(p, float(pd_))  # the conservative of the two tests
            rows.append(
                ("max_p_value", "Valor-p máximo", p, self.max_p_value, p <= self.max_p_value)
            )
        if self.beat_champion and champion_metrics is not None:
            ca = float(champion_metrics["metrics"]["accuracy"]["value"])
            rows.append(("beat_champion", "Supera o campeão atual", acc, ca, acc > ca))
        checks = [
            {"gate": g, "label": lbl, "value": v, "threshold": t, "passed": bool(ok)}
            for g, lbl, v, t, ok in rows
        ]
        return GateReport(passed=all(c["passed"] for c in checks), checks=checks)


@dataclass
class GateReport:
    """Outcome of :meth:`ApprovalGates.check`: ``passed`` and one dict per gate."""

    passed: bool
    checks: list[dict] = field(default_factory=list)
    promoted: bool = False
    message: str = ""

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
                getattr(self.pipeline, "label_map_", None)
                if hasattr(self.pipeline, "label_map_")
                else self.pipeline.named_steps["model"].classes_
            )
            if self.up_class in classes:
                out[ok] = p[:, classes.index(self.up_class)]
            else:
                out[ok] = 0.0
        return out


# --------------------------------------------------------------------------- registry
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
    ) -> int:
        """Write the artifact and its metadata row; returns the new model id (a challenger).

        Raises
        ------
        StoreError
            When the artifact cannot be written.
        """
        self.artifact_dir.mkdir(parents=True, exist_ok=True)
        path = (self.artifact_dir / f"{model_type}-{uuid.uuid4().hex[:12]}.joblib").resolve()
        try:
            joblib.dump({"pipeline": pipeline, "columns": list(columns)}, path, compress=3)
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
        }
        with self.store.transaction() as conn:
            res = conn.execute(_M.insert().values(**row))
            return int(res.inserted_primary_key[0])

    def promote(
        self, model_id: int, gates: ApprovalGates = ApprovalGates(), *, reason: str = ""
    ) -> GateReport:
        """Promote ``model_id`` to champion of its target if it passes ``gates``.

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
        m = self.get(model_id)
        champ = self.champion_row(m["target"])
        if champ is not None and champ["id"] == model_id:
            return GateReport(True, [], promoted=False, message="Este modelo já é o campeão.")
        report = gates.check(m["metrics"], champ["metrics"] if champ else None)
        with self.store.transaction() as conn:
            conn.execute(
                update(_M).where(_M.c.id == model_id).values(gate_report=to_json(asdict(report)))
            )
            if report.passed:
                if champ is not None:
                    conn.execute(update(_M).where(_M.c.id == champ["id"]).values(status="retired"))
                conn.execute(update(_M).where(_M.c.id == model_id).values(status="champion"))
                conn.execute(
                    _P.insert().values(
                        target=m["target"],
                        model_id=model_id,
                        previous_model_id=champ["id"] if champ else None,
                        reason=reason or "aprovado nas regras",
                        promoted_at=_now(),
                    )
                )
        report.promoted = report.passed
        report.message = (
            f"Modelo #{model_id} promovido a campeão."
            if report.passed
            else f"Modelo #{model_id} não promovido: falhou em {', '.join(report.failed())}."
        )
        return report

    # -- reading ------------------------------------------------------------------------
    @staticmethod
    def _decode(row) -> dict:
        d = dict(row._mapping)
        for k in ("tickers", "features", "params", "metrics", "gate_report"):
            d[k] = json.loads(d[k]) if d.get(k) else {}
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
        train_end, accuracy, roc_auc, baseline, p_value, created_at``."""
        q = select(_M).order_by(_M.c.id.desc())
        if target:
            q = q.where(_M.c.target == target)
        with self.store.engine.connect() as conn:
            rows = [self._decode(r) for r in conn.execute(q)]
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
        ]
        return pd.DataFrame(recs, columns=cols)

    def promotions(self, target: str | None = None) -> pd.DataFrame:
        """Promotion history, newest first: ``id, target, model_id, previous_model_id,
        reason, promoted_at``."""
        q = select(_P).order_by(_P.c.id.desc())
        if target:
            q = q.where(_P.c.target == target)
        with self.store.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
        cols = ["id", "target", "model_id", "previous_model_id", "reason", "promoted_at"]
        return pd.DataFrame(rows, columns=cols)

    def load(self, model_id: int) -> ChampionModel:
        """The fitted model of ``model_id`` (artifact checked against its SHA-256).

        Raises
        ------
        StoreError
            When the artifact is missing or altered.
        """
        return _load(self.store, self.get(model_id))


def _load(store: Store, meta: dict) -> ChampionModel:
    path = Path(meta["artifact_path"])
    if not path.is_file():
        raise StoreError(f"Artefato do modelo #{meta['id']} não encontrado: {path}.")
    if _sha256(path) != meta["artifact_sha256"]:
        raise StoreError(f"Artefato do modelo #{meta['id']} foi alterado (SHA-256 diferente).")
    art = joblib.load(path)
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
