"""Tables of the alert channels (Alembic revision 0015).

``alert_deliveries``
    The delivery log and the durable queue: one row per (firing, channel, target) — target
    is the Telegram chat id, ``""`` for the other channels. ``status`` is ``pending`` (never
    tried), ``sending`` (claimed by a worker right now), ``retrying`` (failed, will be tried
    again at ``next_attempt_at``), ``sent``, ``failed`` (gave up or not retryable) or
    ``skipped`` (channel paused or not configured). ``payload`` is the firing as JSON, so a
    delivery can be resumed after a restart without the firing's table. ``last_error`` is
    always redacted. A test message ("Enviar teste") has ``firing_id`` NULL.
``alert_inbox``
    The in-app channel: one row per firing, ``read_at`` NULL while unread (the bell counts
    those). ``owner`` is the rule's owner (NULL = team / local mode).
``alert_channel_state``
    One row per paused channel (``paused_until`` NULL = until resumed), set by the Telegram
    bot's ``/pausar`` and the page.

Times (``created_at``, ``next_attempt_at`` ...) are naive UTC, written by the process that
changes the row; firing times inside ``payload`` keep the firing's own convention (naive
America/Sao_Paulo).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.data.models import Base

__all__ = ["AlertDelivery", "AlertInbox", "AlertChannelState", "DELIVERY_STATUSES"]

#: Every value of ``alert_deliveries.status``.
DELIVERY_STATUSES: tuple[str, ...] = ("pending", "sending", "retrying", "sent", "failed", "skipped")


class AlertDelivery(Base):
    """One delivery of one firing through one channel to one target."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("firing_id", "channel", "target", name="uq_alert_deliveries_firing"),
        Index("ix_alert_deliveries_due", "status", "next_attempt_at"),
        Index("ix_alert_deliveries_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    firing_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=6)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class AlertInbox(Base):
    """One in-app notification (a firing shown by the bell and the history)."""

    __tablename__ = "alert_inbox"
    __table_args__ = (Index("ix_alert_inbox_unread", "read_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    firing_id: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)
    rule_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rule_name: Mapped[str] = mapped_column(String(200), default="")
    ticker: Mapped[str | None] = mapped_column(String(32), nullable=True)
    severity: Mapped[str] = mapped_column(String(16), default="info")
    message: Mapped[str] = mapped_column(Text, default="")
    bar_time: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AlertChannelState(Base):
    """A paused channel."""

    __tablename__ = "alert_channel_state"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    paused_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    paused_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
