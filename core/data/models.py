"""Typed SQLAlchemy 2.0 models of the store.

Tables
------
``instruments``
    One row per tradable or reference instrument (B3 ticker, e.g. ``PETR4``, ``^BVSP``).
``bars``
    OHLCV bars, primary key ``(instrument_id, interval, date)``; prices in R$ (points for
    indices), ``volume`` in shares, ``source`` names where the row came from.
``rates``
    Daily rate series (``CDI``): ``value`` is the rate for that day in percent
    (BCB SGS series 12 convention: 0.043455 means 0.043455 % for the day).

The schema is created and upgraded only through Alembic migrations
(``core/data/migrations``); :func:`core.data.store.init_db` applies them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = ["Base", "Instrument", "Bar", "Rate", "INSTRUMENT_KINDS"]

#: Allowed values of :attr:`Instrument.kind`.
INSTRUMENT_KINDS: tuple[str, ...] = ("stock", "index", "fund", "future")


class Base(DeclarativeBase):
    """Declarative base of every Pregão table."""


class Instrument(Base):
    """A B3 instrument.

    Attributes
    ----------
    ticker : str
        B3 code (``PETR4``) or index code (``^BVSP``); unique, upper case.
    name : str
        Display name.
    kind : str
        One of :data:`INSTRUMENT_KINDS`.
    lot_size : int
        Standard lot in shares (100 for B3 stocks, 1 for indices).
    currency : str
        ISO 4217 code (``BRL``); indices use ``PTS`` (points).
    """

    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticker: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="stock")
    lot_size: Mapped[int] = mapped_column(Integer, nullable=False, default=100)
    currency: Mapped[str] = mapped_column(String(8), nullable=False, default="BRL")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )

    bars: Mapped[list[Bar]] = relationship(back_populates="instrument", passive_deletes=True)

    def __repr__(self) -> str:
        return f"Instrument({self.ticker!r}, kind={self.kind!r})"


class Bar(Base):
    """One OHLCV bar of an instrument (see :mod:`core.data.schema` for units)."""

    __tablename__ = "bars"

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    interval: Mapped[str] = mapped_column(String(8), primary_key=True)
    date: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)
    open: Mapped[float] = mapped_column(Float, nullable=False)
    high: Mapped[float] = mapped_column(Float, nullable=False)
    low: Mapped[float] = mapped_column(Float, nullable=False)
    close: Mapped[float] = mapped_column(Float, nullable=False)
    adj_close: Mapped[float] = mapped_column(Float, nullable=False)
    volume: Mapped[float] = mapped_column(Float, nullable=False)
    source: Mapped[str] = mapped_column(String(32), nullable=False)

    instrument: Mapped[Instrument] = relationship(back_populates="bars")


class Rate(Base):
    """One observation of a daily rate series (e.g. CDI, % per day)."""

    __tablename__ = "rates"

    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    date: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)
    value: Mapped[float] = mapped_column(Float, nullable=False)


Index("ix_bars_date", Bar.date)
