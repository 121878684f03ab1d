"""Chart drawings of the Quotes page (issue 14): levels, trend lines, rectangles, Fibonacci.

A drawing is a Plotly layout shape (``line`` or ``rect`` in the price panel's data
coordinates: ``x`` as naive America/Sao_Paulo times, ``y`` in R$ or points) plus its
``kind``. Drawings are stored per ticker and per author in the ``chart_drawings`` table
(Alembic 0016) and restored on the next visit at every interval (the coordinates are times
and prices, not bar numbers).

Kinds (:data:`KINDS`)
---------------------
``trend``
    A segment between two (time, price) points.
``level``
    A horizontal level at ``y0`` (``y1 == y0``) spanning the whole chart.
``rect``
    A rectangle (a zone) between two times and two prices.
``fib``
    A Fibonacci retracement drawn from a segment: from its first point (``y0``, 0 %) to the
    second (``y1``, 100 %), levels at :data:`FIB_RATIOS` (Fibonacci retracement ratios as
    used by chart packages; e.g. J. J. Murphy, *Technical Analysis of the Financial
    Markets*, 1999, ch. 13).

Ownership: rows carry a nullable ``owner`` (NULL = the team / local mode); reading follows
:func:`core.ownership.visible`, replacing an author's set :func:`core.ownership.same_owner`
(another user's drawings are never changed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import JSON, DateTime, Float, Integer, String, delete, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from core.data.models import Base
from core.errors import InputError
from core.ownership import check_owner, same_owner, visible

__all__ = [
    "ChartDrawing",
    "Drawing",
    "KINDS",
    "FIB_RATIOS",
    "MAX_DRAWINGS",
    "fib_levels",
    "list_drawings",
    "save_drawings",
]

#: Drawing kinds.
KINDS: tuple[str, ...] = ("trend", "level", "rect", "fib")
#: Retracement ratios of a ``fib`` drawing (0 = the first point, 1 = the second).
FIB_RATIOS: tuple[float, ...] = (0.0, 0.236, 0.382, 0.5, 0.618, 0.786, 1.0)
#: Most drawings kept per ticker and author.
MAX_DRAWINGS = 200


class ChartDrawing(Base):
    """One stored drawing (table ``chart_drawings``, Alembic 0016)."""

    __tablename__ = "chart_drawings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticker: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    x0: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    x1: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    y0: Mapped[float] = mapped_column(Float, nullable=False)
    y1: Mapped[float] = mapped_column(Float, nullable=False)
    style: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )


@dataclass(frozen=True)
class Drawing:
    """A drawing as the page and the CLI see it.

    Attributes
    ----------
    id : int or None
        Row id (None before it is stored).
    ticker : str
    kind : str
        One of :data:`KINDS`.
    x0, x1 : pandas.Timestamp
        Times of the two points (naive America/Sao_Paulo; ``x0 <= x1`` is not required).
    y0, y1 : float
        Prices of the two points (R$ or points).
    owner : str or None
        Author (None = the team's).
    style : dict
        Plotly line style (``{"color": ..., "width": ..., "dash": ...}``), may be empty.
    """

    ticker: str
    kind: str
    x0: pd.Timestamp
    x1: pd.Timestamp
    y0: float
    y1: float
    id: int | None = None
    owner: str | None = None
    style: dict | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(
                f"Desenho de tipo desconhecido {self.kind!r} (use {', '.join(KINDS)})."
            )
        for name in ("y0", "y1"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or not math.isfinite(v):
                raise InputError(f"Desenho com preço inválido em {name}: {v!r}.")


def fib_levels(y0: float, y1: float) -> list[tuple[float, float]]:
    """Fibonacci retracement levels from ``y0`` (0 %) to ``y1`` (100 %).

    Returns
    -------
    list of (ratio, price)
        One per :data:`FIB_RATIOS`, price ``y0 + ratio × (y1 − y0)``.
    """
    return [(r, y0 + r * (y1 - y0)) for r in FIB_RATIOS]


def list_drawings(store, ticker: str, owner: str | None = None) -> list[Drawing]:
    """The drawings of ``ticker`` that ``owner`` may see, oldest first.

    Parameters
    ----------
    store : core.data.store.Store
    ticker : str
    owner : str or None
        :func:`core.ownership.visible` filter (None = every drawing, local mode).

    Returns
    -------
    list of Drawing
        The caller's own copies.

    Notes
    -----
    The Quotes page asks at every redraw: served from the store's read cache (scope
    ``drawings``, :meth:`core.data.store.Store.cached`) until a write to ``chart_drawings``
    by any process (issue 15, load).
    """
    key = ("core.drawings.list_drawings", str(ticker).upper(), check_owner(owner))
    found = store.cached(key, lambda: _list_drawings(store, key[1], key[2]), scope="drawings")
    return [dataclasses.replace(d, style=dict(d.style or {})) for d in found]


def _list_drawings(store, ticker: str, owner: str | None) -> list[Drawing]:
    """:func:`list_drawings` without the read cache."""
    t = ChartDrawing.__table__
    q = select(t).where(t.c.ticker == ticker, visible(t.c.owner, owner)).order_by(t.c.id)
    with store.engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [
        Drawing(
            id=r["id"],
            ticker=r["ticker"],
            owner=r["owner"],
            kind=r["kind"],
            x0=pd.Timestamp(r["x0"]),
            x1=pd.Timestamp(r["x1"]),
            y0=float(r["y0"]),
            y1=float(r["y1"]),
            style=dict(r["style"] or {}),
        )
        for r in rows
    ]


def save_drawings(
    store, ticker: str, drawings: list[Drawing], *, author: str | None = None
) -> list[Drawing]:
    """Replace ``author``'s drawings of ``ticker`` with ``drawings`` (one transaction).

    Drawings of other authors (and of the team, when ``author`` is a user) are left as they
    are: a user can neither erase nor overwrite someone else's lines.

    Parameters
    ----------
    store : core.data.store.Store
    ticker : str
    drawings : list of Drawing
        The author's complete set for ``ticker`` (at most :data:`MAX_DRAWINGS`); their
        ``id``/``owner`` are ignored.
    author : str or None
        Who drew them (``dashboard.auth.current_author()``; None = the team, local mode).

    Returns
    -------
    list of Drawing
        The stored set, with ids.

    Raises
    ------
    InputError
        Too many drawings, a bad kind or price, a bad author name.
    """
    author = check_owner(author)
    ticker = str(ticker).strip().upper()
    if not ticker:
        raise InputError("Ticker vazio.")
    if len(drawings) > MAX_DRAWINGS:
        raise InputError(f"No máximo {MAX_DRAWINGS} desenhos por ticker.")
    t = ChartDrawing.__table__
    rows = [
        {
            "ticker": ticker,
            "owner": author,
            "kind": d.kind,
            "x0": pd.Timestamp(d.x0).to_pydatetime(),
            "x1": pd.Timestamp(d.x1).to_pydatetime(),
            "y0": float(d.y0),
            "y1": float(d.y1),
            "style": dict(d.style or {}),
        }
        for d in drawings
    ]
    with store.transaction() as conn:
        conn.execute(delete(t).where(t.c.ticker == ticker, same_owner(t.c.owner, author)))
        if rows:
            conn.execute(insert(t), rows)
    return [d for d in list_drawings(store, ticker, author) if d.owner == author]
