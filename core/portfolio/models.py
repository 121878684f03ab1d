"""SQLAlchemy models of saved portfolios (migration ``0003``) and portfolio runs (``0009``).

``portfolios``: one row per named portfolio. ``tickers``, ``weights`` and ``parameters`` are
JSON text (portable across SQLite and PostgreSQL): ``tickers`` a list of B3 codes,
``weights`` ``{ticker: fraction}``, ``parameters`` the objective, estimators, window and
constraints that produced them.

``portfolio_runs``: every computed analysis or walk-forward backtest, its parameters, a small
summary and the full JSON result (so the Carteira page can show the last result without
recomputing it).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from core.data.models import Base

__all__ = ["SavedPortfolio", "PortfolioRun"]


class SavedPortfolio(Base):
    """A named portfolio kept for later use (paper trading, rebalancing)."""

    __tablename__ = "portfolios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # unique per owner since revision 0017 (index ``ux_portfolios_owner_name``)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    tickers: Mapped[str] = mapped_column(Text, nullable=False)
    weights: Mapped[str] = mapped_column(Text, nullable=False)
    parameters: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )


class PortfolioRun(Base):
    """A stored portfolio computation: ``kind`` ``analysis`` or ``walk_forward``."""

    __tablename__ = "portfolio_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    parameters: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    result: Mapped[str] = mapped_column(Text, nullable=False)
