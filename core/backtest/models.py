"""SQLAlchemy models of stored backtest runs (schema owned by migration 0005).

Tables
------
``backtest_runs``
    One row per stored run: strategy, parameters, tickers, trading window, engine
    configuration, code version, metrics and the daily equity/benchmark curves (JSON).
``backtest_trades``
    The run's closed trades (prices in R$ after slippage; ``pnl`` net of costs, R$).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from core.data.models import Base

__all__ = ["BacktestRun", "BacktestTrade"]


class BacktestRun(Base):
    """A stored backtest run."""

    __tablename__ = "backtest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="backtest")
    strategy: Mapped[str] = mapped_column(String(64), nullable=False)
    params: Mapped[dict] = mapped_column(JSON, nullable=False)
    tickers: Mapped[list] = mapped_column(JSON, nullable=False)
    start: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    end: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    config: Mapped[dict] = mapped_column(JSON, nullable=False)
    adjusted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    code_version: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    metrics: Mapped[dict] = mapped_column(JSON, nullable=False)
    curves: Mapped[dict] = mapped_column(JSON, nullable=False)
    extra: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # revision 0011 (issue 15): the author in team mode, NULL = the team (core.ownership)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


class BacktestTrade(Base):
    """One closed trade of a stored run."""

    __tablename__ = "backtest_trades"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("backtest_runs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    ticker: Mapped[str] = mapped_column(String(32), nullable=False)
    direction: Mapped[str] = mapped_column(String(8), nullable=False)
    entry_date: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    entry_price: Mapped[float] = mapped_column(Float, nullable=False)
    exit_date: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    exit_price: Mapped[float] = mapped_column(Float, nullable=False)
    shares: Mapped[int] = mapped_column(Integer, nullable=False)
    fees: Mapped[float] = mapped_column(Float, nullable=False)
    borrow: Mapped[float] = mapped_column(Float, nullable=False)
    pnl: Mapped[float] = mapped_column(Float, nullable=False)
    bars_held: Mapped[int] = mapped_column(Integer, nullable=False)
    day_trade: Mapped[bool] = mapped_column(Boolean, nullable=False)
    exit_reason: Mapped[str] = mapped_column(String(16), nullable=False)
    stop_at_entry: Mapped[float | None] = mapped_column(Float, nullable=True)
    # revision 0007 (issue 9): proventos and the income-tax split of the trade
    proventos: Mapped[float | None] = mapped_column(Float, nullable=True)
    day_trade_qty: Mapped[int | None] = mapped_column(Integer, nullable=True)
    day_trade_pnl: Mapped[float | None] = mapped_column(Float, nullable=True)
    swing_pnl: Mapped[float | None] = mapped_column(Float, nullable=True)
    sale_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    day_trade_sale_value: Mapped[float | None] = mapped_column(Float, nullable=True)
