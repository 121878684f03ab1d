"""SQLAlchemy models of alert rules and their firings (schema owned by migration 0014).

Tables
------
``alert_rules``
    One row per rule: ``name`` (unique per owner), ``kind`` (see
    :data:`core.alerts.rules.KINDS`), ``tickers`` (JSON list; empty for account, summary and
    data-health rules), ``condition`` (the expression text of ``expr`` rules), ``params``
    (JSON: the kind's options), ``channels`` (JSON list of channel names), ``cooldown``
    (bars), ``severity``, ``enabled``, ``owner`` (user name; NULL = the team / local mode)
    ``last_event_id`` (the last paper-account event an ``account`` rule has seen) and
    ``state`` (JSON: e.g. which accounts are above an account rule's drawdown threshold).
``alert_firings``
    One row per firing: the rule (``rule_id``, NULL once the rule is deleted; ``rule_name``
    and ``owner`` are copied so the history survives), ``kind``, ``ticker`` (``""`` when the
    rule has none), ``bar_time`` (the bar's naive America/Sao_Paulo time, the session date
    for daily bars; the event's time for account events; the session for the daily summary),
    ``event_key`` (``""`` for bar firings; ``"event:<id>"`` for an account event),
    ``fired_at`` (UTC, naive), ``values`` (JSON), ``message`` (pt-BR), ``channels`` and
    ``severity``. The unique key ``(rule_id, ticker, bar_time, event_key)`` makes a firing
    impossible to store — hence to dispatch — twice, even across restarts and processes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.data.models import Base

__all__ = ["AlertRule", "AlertFiring"]


class AlertRule(Base):
    """A stored alert rule."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    tickers: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    condition: Mapped[str] = mapped_column(Text, nullable=False, default="")
    params: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    channels: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    cooldown: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    severity: Mapped[str] = mapped_column(String(16), nullable=False, default="info")
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    last_event_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    state: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class AlertFiring(Base):
    """One stored firing of a rule (never stored twice: see the module docstring)."""

    __tablename__ = "alert_firings"
    __table_args__ = (
        UniqueConstraint("rule_id", "ticker", "bar_time", "event_key", name="uq_alert_firings_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("alert_rules.id", ondelete="SET NULL"), nullable=True
    )
    rule_name: Mapped[str] = mapped_column(String(120), nullable=False)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    ticker: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    bar_time: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    event_key: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    fired_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True)
    values: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    channels: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    severity: Mapped[str] = mapped_column(String(16), nullable=False, default="info")
