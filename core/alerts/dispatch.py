"""Delivery of a stored firing to its channels — a documented no-op stub for now.

Contract: :func:`core.alerts.engine` calls ``dispatch(store, firing)`` once, right after a
firing is stored for the first time (never for a firing that was already stored, so a
restart re-sends nothing). ``dispatch`` must never raise into the caller nor block it: the
real implementation (issue 13, channels: in-app, Telegram, Discord, e-mail, webhook, with
a delivery log, retries and rate limits) replaces the body of this function. The in-app
channel needs nothing more than the stored ``alert_firings`` row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.alerts.engine import Firing
    from core.data.store import Store

__all__ = ["dispatch"]


def dispatch(store: Store, firing: Firing) -> None:
    """Deliver ``firing`` to ``firing.channels`` (stub: does nothing).

    Parameters
    ----------
    store : Store
        The store the firing was saved in.
    firing : Firing
        The stored firing (``firing.id`` set).
    """
    return None
