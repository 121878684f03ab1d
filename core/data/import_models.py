"""SQLAlchemy models of issue 3's tables (created by migration ``0002``).

``import_log``
    One row per import or update: source, file, counts (inserted/updated/unchanged/
    rejected), duration in seconds, status (``ok``, ``failed``, ``cancelled``) and message.
``corporate_actions``
    Splits, reverse splits, bonus shares, dividends and JCP per instrument and ex-date
    (see :mod:`core.data.actions` for the meaning of ``value``).
``data_flags``
    What the quality report cannot call "ok" for one instrument and date: two sources that
    disagree (``source_conflict``), a price basis that could not be checked against B3
    (``unverified_basis``), volumes dropped because their unit differs from the series'
    (``volume_unit``).
(Mercado's watchlists moved to named lists in revision 0018: :mod:`core.data.watchlist`.)
``source_priority``
    Per-instrument override of which source wins when two sources have a bar for the same
    date (comma-separated source names, best first).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.data.models import Base

__all__ = [
    "ImportLog",
    "CorporateAction",
    "SourcePriority",
    "DataFlag",
]


class ImportLog(Base):
    """One import or update run."""

    __tablename__ = "import_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    source: Mapped[str] = mapped_column(String(32), nullable=False)
    file: Mapped[str] = mapped_column(String(512), nullable=False, default="")
    instruments: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    inserted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rejected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    duration_s: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")


class CorporateAction(Base):
    """A corporate action of one instrument on its ex-date."""

    __tablename__ = "corporate_actions"
    __table_args__ = (UniqueConstraint("instrument_id", "date", "kind", name="uq_action"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), nullable=False
    )
    date: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    source: Mapped[str] = mapped_column(String(32), nullable=False, default="")


class SourcePriority(Base):
    """Which sources win for one instrument (comma-separated, best first)."""

    __tablename__ = "source_priority"

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    sources: Mapped[str] = mapped_column(String(256), nullable=False)


class DataFlag(Base):
    """A data problem of one instrument on one date that the quality report shows."""

    __tablename__ = "data_flags"
    __table_args__ = (UniqueConstraint("instrument_id", "date", "kind", name="uq_data_flag"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), nullable=False
    )
    date: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    source: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="")
