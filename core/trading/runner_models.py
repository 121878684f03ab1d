"""SQLAlchemy models of the strategy runners (migration ``0013``).

``paper_runners``: one row per paper account that has a strategy attached (one runner per
account): strategy, parameters, tickers, the engine settings, the feed and its window, and
the runner's progress — ``last_bar`` (the last bar fully processed: its orders submitted and
worked, its signals logged), ``bars_done`` / ``bars_total``, ``status`` and ``message``.
A restarted runner resumes after ``last_bar``.

``paper_runner_equity``: the account's equity and cash at the close of each processed bar
(the monitor's equity curve), and the bar's fills against the backtest's plan: ``traded``
(R$, Σ planned price × shares) and ``slip_abs`` (R$, Σ |fill − planned price| × shares) — the
"slippage vs backtest" red flag.

``paper_signals``: the signal log — every entry or exit signal a runner saw (time,
strategy, ticker, side, entry, stop, target, score, reasoning as JSON), unique per
(runner, bar, ticker, kind).

``ml_training_data``: seed 002's table — one row per closed trade of a runner with the
feature vector computed at its signal time (:func:`core.ml.features.build_features`),
unique per ``trade_id``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Float, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from core.data.models import Base

__all__ = ["PaperRunner", "PaperRunnerEquity", "PaperSignal", "MlTrainingData"]


class PaperRunner(Base):
    """A strategy attached to a paper account, and where it stands."""

    __tablename__ = "paper_runners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    strategy: Mapped[str] = mapped_column(String(64), nullable=False)
    params: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    tickers: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    engine: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    feed: Mapped[str] = mapped_column(String(16), nullable=False, default="replay")
    #: Bar interval traded (``1d``, ``5min`` ...; migration 0019).
    interval: Mapped[str] = mapped_column(String(8), nullable=False, server_default="1d")
    start: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    end: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    speed: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="parado")
    last_bar: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    bars_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    bars_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class PaperRunnerEquity(Base):
    """Equity and cash of a runner's account at the close of one bar."""

    __tablename__ = "paper_runner_equity"
    __table_args__ = (UniqueConstraint("runner_id", "time", name="uq_runner_equity_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    runner_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    time: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    equity: Mapped[float] = mapped_column(Float, nullable=False)
    cash: Mapped[float] = mapped_column(Float, nullable=False)
    traded: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    slip_abs: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)


class PaperSignal(Base):
    """One signal of a runner (the signal log)."""

    __tablename__ = "paper_signals"
    __table_args__ = (
        UniqueConstraint("runner_id", "time", "ticker", "kind", name="uq_paper_signal"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    runner_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    account: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    time: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    strategy: Mapped[str] = mapped_column(String(64), nullable=False)
    ticker: Mapped[str] = mapped_column(String(32), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    side: Mapped[str] = mapped_column(String(4), nullable=False)
    entry: Mapped[float | None] = mapped_column(Float, nullable=True)
    stop: Mapped[float | None] = mapped_column(Float, nullable=True)
    target: Mapped[float | None] = mapped_column(Float, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    reasoning: Mapped[str] = mapped_column(Text, nullable=False, default="{}")


class MlTrainingData(Base):
    """Seed 002's ``ml_training_data``: a closed trade and its features at signal time."""

    __tablename__ = "ml_training_data"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trade_id: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    account: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    strategy: Mapped[str] = mapped_column(String(64), nullable=False)
    trade_date: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True)
    exit_date: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    symbol: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    entry_price: Mapped[float] = mapped_column(Float, nullable=False)
    exit_price: Mapped[float] = mapped_column(Float, nullable=False)
    return_pct: Mapped[float] = mapped_column(Float, nullable=False)
    result: Mapped[str] = mapped_column(String(8), nullable=False, index=True)
    duration_days: Mapped[int] = mapped_column(Integer, nullable=False)
    strategy_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    signal_type: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    features: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )
