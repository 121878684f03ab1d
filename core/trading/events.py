"""Account events for alerts: the ``paper_events`` table.

Kinds (:data:`EVENT_KINDS`): ``fill`` (an execution), ``stop`` / ``target`` (a bracket's
stop or target child filled), ``rejected`` (an order refused by a risk rule or the cash
check), ``daily_loss_limit`` (the day's loss limit reached: no new entries today),
``drawdown`` (the max-drawdown kill switch fired), ``kill_switch`` (manual kill switch),
``red_flag`` (seed 002's monitor, written by the runner). ``values`` holds the numbers
(R$, fractions) and ``message`` a pt-BR sentence.

Readers poll with ``since_id`` (ids only grow), e.g. the alerts engine's
``evaluate_account_events``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select

from core.trading.models import PaperAccount, PaperEvent

__all__ = ["EVENT_KINDS", "TradingEvent", "list_events", "write_event", "record_event"]

#: Event kinds of the contract.
EVENT_KINDS: tuple[str, ...] = (
    "fill",
    "stop",
    "target",
    "rejected",
    "daily_loss_limit",
    "drawdown",
    "kill_switch",
    "red_flag",
)

_EV = PaperEvent.__table__
_INS_EV = _EV.insert()  # built once: a fill writes an event
_ACC = PaperAccount.__table__


@dataclass(frozen=True)
class TradingEvent:
    """One account event.

    Attributes
    ----------
    id : int
        Increasing id (poll with ``since_id``).
    account : str
        Account name.
    time : pandas.Timestamp
        Naive São Paulo time of the event (the account's market clock).
    kind : str
        One of :data:`EVENT_KINDS`.
    ticker : str or None
    values : dict
        Numbers of the event (R$ amounts, fractions, quantities).
    message : str
        pt-BR sentence.
    """

    id: int
    account: str
    time: pd.Timestamp
    kind: str
    ticker: str | None
    values: dict = field(default_factory=dict)
    message: str = ""


def write_event(
    conn: Connection,
    account_id: int,
    time,
    kind: str,
    ticker: str | None = None,
    values: dict | None = None,
    message: str = "",
) -> int:
    """Insert one event inside the caller's transaction; returns its id.

    Raises
    ------
    ValueError
        Unknown ``kind``.
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown trading event kind {kind!r}")
    ts = pd.Timestamp(time).to_pydatetime() if time is not None else _dt.datetime.now()
    res = conn.execute(
        _INS_EV,
        {
            "account_id": account_id,
            "time": ts,
            "kind": kind,
            "ticker": ticker,
            "values": dict(values or {}),
            "message": message[:500],
        },
    )
    pk: Any = res.inserted_primary_key
    return int(pk[0])


def record_event(
    store,
    account: str,
    kind: str,
    *,
    ticker: str | None = None,
    values: dict | None = None,
    message: str = "",
    time=None,
) -> int:
    """Store one event of ``account`` in its own transaction (e.g. a runner's ``red_flag``).

    Parameters
    ----------
    store : Store
    account : str
        Account name.
    kind : str
        One of :data:`EVENT_KINDS`.
    time : datetime-like, optional
        Default: the account's clock, else the current São Paulo wall time.

    Returns
    -------
    int
        The event's id.

    Raises
    ------
    InputError
        Unknown account.
    """
    from core.errors import InputError

    with store.transaction() as conn:
        row = conn.execute(select(_ACC.c.id, _ACC.c.clock).where(_ACC.c.name == account)).first()
        if row is None:
            raise InputError(f"Conta {account!r} não encontrada.")
        if time is None:
            time = (
                row[1]
                if row[1] is not None
                else pd.Timestamp.now(tz="America/Sao_Paulo").tz_localize(None)
            )
        return write_event(conn, int(row[0]), time, kind, ticker, values, message)


def list_events(
    store, account: str | None = None, since_id: int = 0, *, kinds=None, limit: int | None = None
) -> list[TradingEvent]:
    """Events with ``id > since_id``, oldest first.

    Parameters
    ----------
    store : Store
    account : str, optional
        Only this account (None: every account).
    since_id : int
        Return only newer events.
    kinds : iterable of str, optional
        Only these kinds.
    limit : int, optional
        At most this many (the oldest ones after ``since_id``).

    Returns
    -------
    list of TradingEvent
    """
    q = (
        select(
            _EV.c.id,
            _ACC.c.name,
            _EV.c.time,
            _EV.c.kind,
            _EV.c.ticker,
            _EV.c["values"],
            _EV.c.message,
        )
        .join(_ACC, _ACC.c.id == _EV.c.account_id)
        .where(_EV.c.id > int(since_id))
        .order_by(_EV.c.id)
    )
    if account is not None:
        q = q.where(_ACC.c.name == account)
    if kinds is not None:
        q = q.where(_EV.c.kind.in_(list(kinds)))
    if limit is not None:
        q = q.limit(int(limit))
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    return [
        TradingEvent(int(r[0]), r[1], pd.Timestamp(r[2]), r[3], r[4], dict(r[5] or {}), r[6])
        for r in rows
    ]
