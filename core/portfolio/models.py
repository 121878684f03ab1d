"""SQLAlchemy model of saved portfolios (schema source of truth: migration ``0003``).

``portfolios``: one row per named portfolio. ``tickers``, ``weights`` and ``parameters`` are
JSON text (portable across SQLite and PostgreSQL): ``tickers`` a list of B3 codes,
``weights`` ``{ticker: fraction}``, ``parameters`` the objective, estimators, window and
constraints that produced them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from core.data.models import Base

__all__ = ["SavedPortfolio"]


class SavedPortfolio(Base):
    """A named portfolio kept for later use (paper trading, rebalancing)."""

    __tablename__ = "portfolios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    tickers: Mapped[str] = mapped_column(Text, nullable=False)
    weights: Mapped[str] = mapped_column(Text, nullable=False)
    parameters: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )
