"""SQLAlchemy models of paper trading (schema owned by migration 0012).

Tables
------
``paper_accounts``
    One row per simulated account: name (unique), ``owner`` (user name, NULL = the team /
    local mode), initial cash, cost model, engine configuration and risk rules (JSON), the
    account's market clock (``clock``: the newest bar or mark time seen), the session the
    account was last rolled to, peak equity, the kill-switch block, and ``version`` (bumped by
    every write; the row is locked first by every state change).
``paper_orders``
    Orders and their state (``nova, aceita, parcial, executada, cancelada, rejeitada,
    expirada``); bracket children point at their entry through ``parent_id`` and share an
    ``oco_group``. ``client_id`` is unique per account (idempotent resubmission).
``paper_order_events``
    One row per state transition of an order (its history).
``paper_fills``
    Executions: quantity (whole shares, positive), price in R$ after slippage, fees in R$.
    ``market_ticker`` is the book the shares traded in (``PETR4`` round lots, ``PETR4F`` the
    fractional market).
``paper_positions``
    One row per (account, ticker): signed quantity, average price including costs, realised
    P&L, last price, and the part opened in the current session (day-trade matching).
``paper_ledger``
    The cash ledger: one row per debit (negative ``amount``) or credit (positive), with the
    settlement date (D+2 for trades) and the running balance after the row.
``paper_trades``
    Realised trades (one row per closing fill), in the columns the engine's tax report reads.
``paper_equity``
    One row per (account, session date): equity, cash and gross exposure at the latest mark of
    that session (the equity curve).
``paper_events``
    Account events for alerts (``fill, stop, target, rejected, daily_loss_limit, drawdown,
    kill_switch, red_flag``).

Times are naive America/Sao_Paulo timestamps; daily bars use the session date (midnight).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.data.models import Base

__all__ = [
    "PaperAccount",
    "PaperOrder",
    "PaperOrderEvent",
    "PaperFill",
    "PaperPosition",
    "PaperLedger",
    "PaperTrade",
    "PaperEquity",
    "PaperEvent",
]


class PaperAccount(Base):
    """A simulated trading account."""

    __tablename__ = "paper_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    owner: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    initial_cash: Mapped[float] = mapped_column(Float, nullable=False)
    costs: Mapped[str] = mapped_column(String(16), nullable=False, default="b3")
    engine: Mapped[dict] = mapped_column(JSON, nullable=False)
    risk: Mapped[dict] = mapped_column(JSON, nullable=False)
    clock: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    session: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    day_start_equity: Mapped[float | None] = mapped_column(Float, nullable=True)
    peak_equity: Mapped[float] = mapped_column(Float, nullable=False)
    blocked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    block_reason: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    loss_limit_day: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class PaperOrder(Base):
    """An order of a paper account."""

    __tablename__ = "paper_orders"
    __table_args__ = (
        UniqueConstraint("account_id", "client_id", name="uq_paper_orders_client"),
        # the risk manager's orders-per-day count of every submission (revision 0020)
        Index("ix_paper_orders_account_session", "account_id", "session"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("paper_accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    client_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    ticker: Mapped[str] = mapped_column(String(32), nullable=False)
    side: Mapped[str] = mapped_column(String(4), nullable=False)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    qty: Mapped[int] = mapped_column(Integer, nullable=False)
    filled_qty: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    price: Mapped[float | None] = mapped_column(Float, nullable=True)
    stop_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    stop_loss: Mapped[float | None] = mapped_column(Float, nullable=True)
    target: Mapped[float | None] = mapped_column(Float, nullable=True)
    tif: Mapped[str] = mapped_column(String(16), nullable=False, default="day")
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    parent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    oco_group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False, default="entry")
    triggered: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    fractional: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    avg_fill_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    fees: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    session: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    source: Mapped[str] = mapped_column(String(100), nullable=False, default="manual")
    signal_time: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    note: Mapped[str] = mapped_column(String(500), nullable=False, default="")


class PaperOrderEvent(Base):
    """One state transition of an order."""

    __tablename__ = "paper_order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("paper_orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    time: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    message: Mapped[str] = mapped_column(String(500), nullable=False, default="")


class PaperFill(Base):
    """One execution."""

    __tablename__ = "paper_fills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("paper_orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("paper_accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    ticker: Mapped[str] = mapped_column(String(32), nullable=False)
    market_ticker: Mapped[str] = mapped_column(String(32), nullable=False)
    side: Mapped[str] = mapped_column(String(4), nullable=False)
    qty: Mapped[int] = mapped_column(Integer, nullable=False)
    price: Mapped[float] = mapped_column(Float, nullable=False)
    fees: Mapped[float] = mapped_column(Float, nullable=False)
    time: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False, default="")


class PaperPosition(Base):
    """The position of an account in one ticker."""

    __tablename__ = "paper_positions"

    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("paper_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    ticker: Mapped[str] = mapped_column(String(32), primary_key=True)
    qty: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    avg_price: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    avg_fill: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    realized_pnl: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    last: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_time: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    opened_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    day_session: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    day_qty: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    day_avg: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    day_fee: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    day_fee_rate: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)


class PaperLedger(Base):
    """One debit or credit of an account's cash."""

    __tablename__ = "paper_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("paper_accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    time: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    settle_date: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    ticker: Mapped[str | None] = mapped_column(String(32), nullable=True)
    amount: Mapped[float] = mapped_column(Float, nullable=False)
    balance: Mapped[float] = mapped_column(Float, nullable=False)
    order_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fill_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    description: Mapped[str] = mapped_column(String(300), nullable=False, default="")


class PaperTrade(Base):
    """A realised trade (one closing fill), in the engine's trade columns."""

    __tablename__ = "paper_trades"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("paper_accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    fill_id: Mapped[int] = mapped_column(Integer, nullable=False)
    ticker: Mapped[str] = mapped_column(String(32), nullable=False)
    direction: Mapped[str] = mapped_column(String(8), nullable=False)
    entry_date: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    entry_price: Mapped[float] = mapped_column(Float, nullable=False)
    exit_date: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    exit_price: Mapped[float] = mapped_column(Float, nullable=False)
    shares: Mapped[int] = mapped_column(Integer, nullable=False)
    entry_value: Mapped[float] = mapped_column(Float, nullable=False)
    exit_value: Mapped[float] = mapped_column(Float, nullable=False)
    fees: Mapped[float] = mapped_column(Float, nullable=False)
    pnl: Mapped[float] = mapped_column(Float, nullable=False)
    day_trade: Mapped[bool] = mapped_column(Boolean, nullable=False)
    day_trade_qty: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    day_trade_pnl: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    swing_pnl: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    sale_value: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    day_trade_sale_value: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    exit_reason: Mapped[str] = mapped_column(String(16), nullable=False, default="")


class PaperEquity(Base):
    """The account's equity at the latest mark of one session (R$)."""

    __tablename__ = "paper_equity"

    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("paper_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)
    time: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    equity: Mapped[float] = mapped_column(Float, nullable=False)
    cash: Mapped[float] = mapped_column(Float, nullable=False)
    gross_exposure: Mapped[float] = mapped_column(Float, nullable=False)


class PaperEvent(Base):
    """An account event for alerts (fills, stops, targets, rejections, limits, kill switch)."""

    __tablename__ = "paper_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("paper_accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    time: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    ticker: Mapped[str | None] = mapped_column(String(32), nullable=True)
    values: Mapped[dict] = mapped_column(JSON, nullable=False)
    message: Mapped[str] = mapped_column(String(500), nullable=False, default="")
