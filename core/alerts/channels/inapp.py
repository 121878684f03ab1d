"""In-app channel: the inbox behind the bell (unread count), the toast and the history.

Stored in ``alert_inbox`` (:class:`core.alerts.delivery_models.AlertInbox`), one row per firing
(idempotent: a second delivery of the same firing is a no-op). Read state is shared by the
users who see a row: team rules (``owner`` NULL) are read for everyone once one user marks
them read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, insert, or_, select, update

from core.alerts.channels.base import ChannelConfig, DeliveryResult, firing_dict
from core.alerts.delivery_models import AlertInbox

__all__ = ["send", "InboxItem", "BellState", "bell_state", "unread_count", "inbox", "mark_read"]

_T = AlertInbox.__table__


@dataclass(frozen=True)
class InboxItem:
    """One in-app notification."""

    id: int
    firing_id: int | None
    rule_id: int | None
    rule_name: str
    ticker: str | None
    severity: str
    message: str
    bar_time: pd.Timestamp | None
    created_at: pd.Timestamp
    read: bool


@dataclass(frozen=True)
class BellState:
    """What the bell needs: the unread count and the newest unread item (for the toast)."""

    unread: int
    newest_id: int
    newest: InboxItem | None


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _owner_filter(q, owner: str | None):
    if owner is None:
        return q
    return q.where(or_(_T.c.owner.is_(None), _T.c.owner == owner))


def send(
    config: ChannelConfig | None,
    firing: Any,
    *,
    target: str | None = None,
    store=None,
    owner: str | None = None,
) -> DeliveryResult:
    """Store ``firing`` in the inbox (``store`` is required; never raises for a DB error).

    Parameters
    ----------
    config : ChannelConfig or None
        Unused (the in-app channel needs no configuration).
    firing : Firing or dict
    store : core.data.store.Store
    owner : str, optional
        The rule's owner (NULL = everyone sees it).
    """
    if store is None:
        raise ValueError("inapp.send needs store=")
    d = firing_dict(firing)
    bar = pd.Timestamp(d["bar_time"]).to_pydatetime() if d["bar_time"] else None
    try:
        with store.transaction() as conn:
            if d["id"] is not None:
                hit = conn.execute(select(_T.c.id).where(_T.c.firing_id == d["id"])).first()
                if hit is not None:
                    return DeliveryResult(True, "inapp", detail=f"inbox {hit[0]} (já existia)")
            res = conn.execute(
                insert(_T).values(
                    firing_id=d["id"],
                    rule_id=d["rule_id"],
                    rule_name=d["rule_name"][:200],
                    ticker=d["ticker"],
                    severity=d["severity"],
                    message=d["message"],
                    bar_time=bar,
                    created_at=_utcnow(),
                    read_at=None,
                    owner=owner,
                )
            )
            return DeliveryResult(True, "inapp", detail=f"inbox {res.inserted_primary_key[0]}")
    except Exception as exc:  # noqa: BLE001 - a delivery never raises into the caller
        return DeliveryResult(False, "inapp", retryable=True, error=f"banco: {exc}"[:500])


def _item(row) -> InboxItem:
    return InboxItem(
        id=row.id,
        firing_id=row.firing_id,
        rule_id=row.rule_id,
        rule_name=row.rule_name,
        ticker=row.ticker,
        severity=row.severity,
        message=row.message,
        bar_time=pd.Timestamp(row.bar_time) if row.bar_time is not None else None,
        created_at=pd.Timestamp(row.created_at),
        read=row.read_at is not None,
    )


def bell_state(store, owner: str | None = None) -> BellState:
    """Unread count and newest unread item in two indexed queries (the bell polls this)."""
    with store.engine.connect() as conn:
        q = _owner_filter(
            select(func.count(), func.max(_T.c.id)).where(_T.c.read_at.is_(None)), owner
        )
        n, newest_id = conn.execute(q).one()
        newest = None
        if newest_id is not None:
            row = conn.execute(select(_T).where(_T.c.id == newest_id)).first()
            newest = _item(row) if row is not None else None
    return BellState(int(n or 0), int(newest_id or 0), newest)


def unread_count(store, owner: str | None = None) -> int:
    """Number of unread in-app notifications visible to ``owner`` (None = all)."""
    return bell_state(store, owner).unread


def inbox(
    store, owner: str | None = None, *, unread_only: bool = False, limit: int = 200
) -> list[InboxItem]:
    """Newest first."""
    if not 1 <= limit <= 10_000:
        raise ValueError("limit must be 1-10000")
    q = _owner_filter(select(_T), owner).order_by(_T.c.id.desc()).limit(limit)
    if unread_only:
        q = q.where(_T.c.read_at.is_(None))
    with store.engine.connect() as conn:
        return [_item(r) for r in conn.execute(q)]


def mark_read(store, ids: list[int] | None = None, owner: str | None = None) -> int:
    """Mark ``ids`` (None = every visible unread item) read; returns how many changed."""
    q = update(_T).where(_T.c.read_at.is_(None)).values(read_at=_utcnow())
    if ids is not None:
        q = q.where(_T.c.id.in_([int(i) for i in ids]))
    if owner is not None:
        q = q.where(or_(_T.c.owner.is_(None), _T.c.owner == owner))
    with store.transaction() as conn:
        return conn.execute(q).rowcount
