"""Typed SQLAlchemy 2.0 models of the store.

Tables
------
``instruments``
    One row per tradable or reference instrument (B3 ticker, e.g. ``PETR4``, ``^BVSP``).
``bars``
    OHLCV bars, primary key ``(instrument_id, interval, date)`` – on SQLite a ``WITHOUT
    ROWID`` table, the key being its only B-tree (revision 0021); prices in R$ (points for
    indices), ``volume`` in shares, ``source`` names where the row came from.
``rates``
    Daily rate series (``CDI``): ``value`` is the rate for that day in percent
    (BCB SGS series 12 convention: 0.043455 means 0.043455 % for the day).

The schema is created and upgraded only through Alembic migrations
(``core/data/migrations``); :func:`core.data.store.init_db` applies them.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "Base",
    "Instrument",
    "Bar",
    "Rate",
    "INSTRUMENT_KINDS",
    "VOLUME_UNITS",
    "DEFAULT_LOT",
    "default_volume_unit",
]

#: Allowed values of :attr:`Instrument.kind` (one vocabulary for data, engine, taxes and UI):
#: ``stock`` (ação ON/PN and units), ``etf``, ``fii``, ``bdr``, ``index``, ``fund`` (other
#: funds), ``future``, ``option``, ``other``.
INSTRUMENT_KINDS: tuple[str, ...] = (
    "stock",
    "etf",
    "fii",
    "bdr",
    "index",
    "fund",
    "future",
    "option",
    "other",
)
#: Units of a series' ``volume`` column: shares (ações/cotas), contracts (futures,
#: options), ``brl`` (financial volume in R$), ``points`` (an index's own volume figure, as
#: Yahoo publishes it for ^BVSP) and ``unknown`` (a vendor whose unit cannot be trusted).
VOLUME_UNITS: tuple[str, ...] = ("shares", "contracts", "brl", "points", "unknown")
#: Standard lot by kind (B3: 100 shares for stocks; 1 for indices, futures and options
#: counted in contracts; FIIs, ETFs and BDRs trade in lots of 1 on B3).
DEFAULT_LOT: dict[str, int] = {
    "stock": 100,
    "etf": 1,
    "fii": 1,
    "bdr": 1,
    "index": 1,
    "fund": 1,
    "future": 1,
    "option": 100,
    "other": 1,
}


def default_volume_unit(kind: str) -> str:
    """The volume unit a new series of ``kind`` starts with (see :data:`VOLUME_UNITS`)."""
    if kind == "index":
        return "points"
    if kind in ("future", "option"):
        return "contracts"
    return "shares"


class Base(DeclarativeBase):
    """Declarative base of every Pregão table."""

    # Every model here maps one Table (no joined or custom selectables): say so, so that
    # ``Model.__table__.insert()`` and friends type-check.
    __table__: ClassVar[Table]


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
    volume_unit : str
        Unit of the ``volume`` of every bar of this instrument (:data:`VOLUME_UNITS`).
    """

    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticker: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="stock")
    lot_size: Mapped[int] = mapped_column(Integer, nullable=False, default=100)
    currency: Mapped[str] = mapped_column(String(8), nullable=False, default="BRL")
    volume_unit: Mapped[str] = mapped_column(
        String(16), nullable=False, default="shares", server_default="shares"
    )
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )

    bars: Mapped[list[Bar]] = relationship(back_populates="instrument", passive_deletes=True)

    def __repr__(self) -> str:
        return f"Instrument({self.ticker!r}, kind={self.kind!r})"


class Bar(Base):
    """One OHLCV bar of an instrument (see :mod:`core.data.schema` for units)."""

    __tablename__ = "bars"
    # SQLite: the primary key is the table's only B-tree (revision 0021; PostgreSQL ignores it)
    __table_args__ = {"sqlite_with_rowid": False}

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
