"""The alert history the page shows: firings with their deliveries and read state, filtered.

One function, :func:`history`, over :func:`core.alerts.engine.list_firings` (the firings),
``alert_deliveries`` (per-channel status) and ``alert_inbox`` (read/unread).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import select

from core.alerts.delivery_models import AlertDelivery, AlertInbox
from core.alerts.dispatch import DeliveryRecord, list_deliveries
from core.errors import InputError

__all__ = ["HistoryEntry", "history"]


@dataclass(frozen=True)
class HistoryEntry:
    """One firing, its external deliveries (newest attempt state) and whether it is unread."""

    firing: object  # core.alerts.engine.Firing
    deliveries: list[DeliveryRecord] = field(default_factory=list)
    unread: bool = False


def history(
    store,
    owner: str | None = None,
    *,
    rule: str | None = None,
    ticker: str | None = None,
    start=None,
    end=None,
    status: str | None = None,
    limit: int = 200,
) -> list[HistoryEntry]:
    """Firings newest first, filtered by rule name, ticker, bar date and delivery status.

    Parameters
    ----------
    owner : str, optional
        Only this owner's rules (None = all).
    start, end : date-like, optional
        Inclusive bar-date bounds.
    status : str, optional
        Keep firings with at least one delivery in this status (``sent``, ``failed`` ...).
    limit : int
        At most this many entries (1-5000).

    Raises
    ------
    InputError
        Inverted dates or a bad limit.
    """
    from core.alerts.engine import list_firings

    if not 1 <= int(limit) <= 5000:
        raise InputError("Limite do histórico entre 1 e 5.000.")
    s = pd.Timestamp(start) if start else None
    e = pd.Timestamp(end) if end else None
    if s is not None and e is not None and s > e:
        raise InputError("Data inicial depois da final.")
    firings = list_firings(store, owner, rule=rule or None, since=s, limit=None)
    if ticker:
        firings = [f for f in firings if (f.ticker or "").upper() == ticker.upper()]
    if e is not None:
        firings = [f for f in firings if pd.Timestamp(f.bar_time).normalize() <= e]
    ids = [f.id for f in firings if f.id is not None]
    deliveries: dict[int, list[DeliveryRecord]] = {}
    unread: set[int] = set()
    if ids:
        d_ids = _chunks(ids)
        for chunk in d_ids:
            with store.engine.connect() as conn:
                rows = conn.execute(
                    select(AlertDelivery.id).where(AlertDelivery.firing_id.in_(chunk))
                ).all()
                unread |= {
                    r[0]
                    for r in conn.execute(
                        select(AlertInbox.firing_id).where(
                            AlertInbox.firing_id.in_(chunk), AlertInbox.read_at.is_(None)
                        )
                    )
                }
            if rows:
                for rec in list_deliveries(store, limit=10_000, ids=[r[0] for r in rows]):
                    if rec.firing_id is not None:
                        deliveries.setdefault(rec.firing_id, []).append(rec)
    out = []
    for f in firings:
        ds = sorted(
            deliveries.get(f.id, []) if f.id is not None else [],
            key=lambda d: (d.channel, d.target),
        )
        if status and not any(d.status == status for d in ds):
            continue
        out.append(HistoryEntry(f, ds, f.id in unread))
        if len(out) >= limit:
            break
    return out


def _chunks(ids: list[int], n: int = 500) -> list[list[int]]:
    return [ids[i : i + n] for i in range(0, len(ids), n)]
