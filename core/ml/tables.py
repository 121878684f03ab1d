"""SQLAlchemy models of the ML tables (schema source of truth: migrations ``0004_issue5`` and ``0008``).

* ``ml_models``: one row per trained model (metadata; the fitted pipeline is a joblib
  artifact on disk whose path and SHA-256 are stored here);
* ``ml_promotions``: champion history (who replaced whom, when, with which gate report);
* ``ml_predictions``: the prediction log, scored later against what happened.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from core.data.models import Base

__all__ = ["MLModel", "MLPromotion", "MLPrediction"]


class MLModel(Base):
    """A trained model. ``status``: ``challenger``, ``champion`` or ``retired``.

    JSON columns (stored as text): ``tickers``, ``features``, ``params``, ``metrics``,
    ``gate_report``.
    """

    __tablename__ = "ml_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    model_type: Mapped[str] = mapped_column(String(32), nullable=False)
    target: Mapped[str] = mapped_column(String(32), nullable=False)
    horizon: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    threshold: Mapped[float] = mapped_column(Float, nullable=False, default=0.02)
    validation: Mapped[str] = mapped_column(String(32), nullable=False)
    tickers: Mapped[str] = mapped_column(Text, nullable=False)
    features: Mapped[str] = mapped_column(Text, nullable=False)
    lookback: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    uses_index: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    params: Mapped[str] = mapped_column(Text, nullable=False)
    train_start: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    train_end: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    n_train: Mapped[int] = mapped_column(Integer, nullable=False)
    data_fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    metrics: Mapped[str] = mapped_column(Text, nullable=False)
    artifact_path: Mapped[str] = mapped_column(Text, nullable=False)
    artifact_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="challenger")
    gate_report: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )
    # migration 0008
    versions: Mapped[str | None] = mapped_column(Text, nullable=True)
    feature_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    data_end: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class MLPromotion(Base):
    """One champion change for a target."""

    __tablename__ = "ml_promotions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(32), nullable=False)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("ml_models.id", ondelete="CASCADE"), nullable=False
    )
    previous_model_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    promoted_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    # migration 0008: "promoted", or "kept" (a retrain that left the champion in place)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False, server_default="promoted")


class MLPrediction(Base):
    """A logged prediction: ``p_up`` for ``target_date`` made after the close of ``as_of``.

    ``outcome`` (1 up, 0 not up) and ``scored_at`` stay NULL until the bar of
    ``target_date`` is stored.
    """

    __tablename__ = "ml_predictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("ml_models.id", ondelete="CASCADE"), nullable=False
    )
    ticker: Mapped[str] = mapped_column(String(32), nullable=False)
    as_of: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    target_date: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    p_up: Mapped[float] = mapped_column(Float, nullable=False)
    outcome: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    scored_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


Index(
    "ux_ml_predictions_key",
    MLPrediction.model_id,
    MLPrediction.ticker,
    MLPrediction.as_of,
    unique=True,
)
Index("ix_ml_models_target_status", MLModel.target, MLModel.status)
