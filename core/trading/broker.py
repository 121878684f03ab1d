"""The broker interface and the simulated (paper) broker.

Sign and unit conventions
-------------------------
* Quantities are whole shares, **always positive on orders and fills** (``side`` says
  ``buy``/``sell``); positions carry a **signed** ``qty`` (+ long, − short).
* Prices in R$ per share; amounts in R$; fractions for percentages.
* Times are naive America/Sao_Paulo timestamps (the store's convention for bars); daily bars
  use the session date (midnight), which stands for that session's **close**: an order
  created at a daily bar's time belongs to the next session.

Orders
------
Types ``market``, ``limit`` (``price``), ``stop`` (``stop_price``: a buy-stop above the
market, a sell-stop below) and ``stop_limit`` (``stop_price`` triggers a limit at
``price``). Validity ``tif``: ``"day"`` (the order's session), ``"gtc"`` or a session date
(good till that date, then ``expirada``). A **bracket** is an entry with ``stop_loss`` and/or
``target``: both children are created with the entry (status ``nova``), become ``aceita``
for the filled quantity when the entry fills, and cancel each other (one-cancels-other,
``oco_group``); when one bar touches both, the stop comes first (the engine's pessimistic
rule). States: ``nova → aceita → parcial → executada`` or ``cancelada`` / ``rejeitada`` /
``expirada``; each transition is a row of ``paper_order_events``.

A ``client_id`` makes submission idempotent: resubmitting it returns the stored order and
writes nothing.

B3 rules
--------
* Lots: the standard lot is ``Instrument.lot_size`` (100 for stocks). A quantity that is not
  a lot multiple is split as B3 routes it: ``150 PETR4`` = 100 in the round-lot book
  (``PETR4``) + 50 in the fractional book (``PETR4F``); both parts fill at the same price
  (one bar, one price), and the fills are recorded per book (``Fill.market_ticker``);
  brokerage is charged per book order (:func:`core.backtest.costs.n_orders`). An account
  whose ``engine.sizing.fractional`` is False refuses quantities that are not lot
  multiples. The ticker ``PETR4F`` sends the order to the fractional book only (1 to
  lot − 1 shares); the position is always kept under ``PETR4``.
* Tick: R$ 0,01; prices off the tick are refused.
* Sessions and holidays: :mod:`core.data.calendar` (exchange_calendars ``BVMF``). An order
  sent outside a session (night, weekend, holiday) waits for the next opening: its
  ``session`` is the next session. A validity date that is not a session is refused.

Fills (:mod:`core.backtest.fills`, the engine's rules; no second implementation)
---------------------------------------------------------------------------------
:meth:`PaperBroker.on_bar` works the open orders of a ticker against an AS-TRADED bar:
market orders at the open (+ slippage), stops with ``entry_fill`` (gaps at the open),
limits with ``limit_fill`` (never worse than the limit), stop-limits with
``stop_limit_trigger``; bracket stops with ``stop_fill`` and targets with ``target_fill``
(+ slippage, exactly as the engine exits), checked on the entry bar from the entry price.
An optional participation cap fills at most ``participation × volume`` shares per bar
(status ``parcial``). Costs: :class:`core.backtest.costs.B3Costs` through ``order_fee``.

Cash
----
Every debit and credit is a ``paper_ledger`` row. Trades and their fees settle D+2 (B3
sessions): ``cash_projected`` counts every row, ``cash_available`` only settled ones;
buying power is the projected cash (as Brazilian brokers do) minus what open buy orders
reserve, minus short proceeds and their collateral (no leverage, as the engine).

Offline manual trading
----------------------
With no running feed, :meth:`PaperBroker.fill_at_last` executes an open order at once
against the last stored close as a one-price bar (same fill rules, slippage included),
labelled ``"último fechamento de dd/mm/aaaa (sem feed)"``; otherwise a market order fills on
the next bar the feed delivers.
"""

from __future__ import annotations

import datetime as _dt
import math
import threading
import uuid
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from core.backtest.costs import n_orders
from core.backtest.fills import (
    entry_fill,
    limit_fill,
    market_fill,
    stop_fill,
    stop_limit_trigger,
    target_fill,
)
from core.errors import InputError, UnknownTickerError
from core.textfmt import brl, integer, pct
from core.textfmt import date as fmt_date
from core.trading import risk as risk_mod
from core.trading.accounts import Account, account_from_row, get_account, wall_now
from core.trading.book import PositionState, book_fill
from core.trading.events import write_event
from core.trading.models import (
    PaperAccount,
    PaperFill,
    PaperLedger,
    PaperOrder,
    PaperOrderEvent,
    PaperPosition,
    PaperTrade,
)

__all__ = [
    "SIDES",
    "ORDER_TYPES",
    "STATUSES",
    "OPEN_STATUSES",
    "OrderRequest",
    "Order",
    "Fill",
    "Position",
    "AccountSnapshot",
    "LedgerEntry",
    "OrderEvent",
    "Broker",
    "PaperBroker",
    "order_session",
    "split_order",
]

SIDES: tuple[str, ...] = ("buy", "sell")
ORDER_TYPES: tuple[str, ...] = ("market", "limit", "stop", "stop_limit")
STATUSES: tuple[str, ...] = (
    "nova",
    "aceita",
    "parcial",
    "executada",
    "cancelada",
    "rejeitada",
    "expirada",
)
OPEN_STATUSES: tuple[str, ...] = ("nova", "aceita", "parcial")
_FINAL = ("executada", "cancelada", "rejeitada", "expirada")
_SIDE_PT = {"buy": "compra", "sell": "venda"}
_TYPE_PT = {
    "market": "a mercado",
    "limit": "limitada",
    "stop": "stop",
    "stop_limit": "stop limitada",
}
TICK = 0.01

_ACC = PaperAccount.__table__
_ORD = PaperOrder.__table__
_OEV = PaperOrderEvent.__table__
_FIL = PaperFill.__table__
_POS = PaperPosition.__table__
_LED = PaperLedger.__table__
_TRD = PaperTrade.__table__


# ---------------------------------------------------------------------------------------
# typed records
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderRequest:
    """An order as sent by a trader, a page, the CLI or a strategy runner.

    Parameters
    ----------
    account : str
        Account name.
    ticker : str
        B3 ticker (``PETR4``; ``PETR4F`` for the fractional book only).
    side : {"buy", "sell"}
    qty : int
        Shares, > 0.
    type : {"market", "limit", "stop", "stop_limit"}
    price : float, optional
        Limit price (limit, stop_limit), R$ on the R$ 0,01 tick.
    stop_price : float, optional
        Trigger of stop / stop_limit, R$.
    stop_loss, target : float, optional
        Bracket children (protective stop and target, one-cancels-other), R$.
    tif : {"day", "gtc"} or datetime.date
        Validity: the order's session, good till cancelled, or good till that session.
    client_id : str, optional
        Idempotency key (unique per account).
    source : str
        ``"manual"`` or ``"strategy:<name>"``.
    signal_time : pandas.Timestamp, optional
        Time of the signal that produced the order (runners).
    note : str
        Free text.
    """

    account: str
    ticker: str
    side: str
    qty: int
    type: str = "market"
    price: float | None = None
    stop_price: float | None = None
    stop_loss: float | None = None
    target: float | None = None
    tif: str | _dt.date = "day"
    client_id: str | None = None
    source: str = "manual"
    signal_time: pd.Timestamp | None = None
    note: str = ""


@dataclass(frozen=True)
class Order:
    """A stored order (see the module docstring for states and roles).

    ``role`` is ``entry`` (a plain order or a bracket's entry), ``stop`` or ``target`` (a
    bracket child); ``session`` the first session the order works in.
    """

    id: int
    client_id: str | None
    account: str
    ticker: str
    side: str
    type: str
    qty: int
    filled_qty: int
    price: float | None
    stop_price: float | None
    status: str
    reason: str
    tif: str
    parent_id: int | None
    oco_group: str | None
    avg_fill_price: float | None
    created_at: pd.Timestamp
    updated_at: pd.Timestamp
    source: str
    stop_loss: float | None = None
    target: float | None = None
    role: str = "entry"
    fees: float = 0.0
    session: pd.Timestamp | None = None
    note: str = ""
    signal_time: pd.Timestamp | None = None
    triggered: bool = False

    @property
    def remaining(self) -> int:
        """Shares still to fill."""
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        """Not in a final state."""
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class Fill:
    """One execution (``qty`` > 0; ``price`` R$ after slippage; ``fees`` R$).

    ``market_ticker`` is the book (``PETR4`` round lots, ``PETR4F`` fractional); ``label``
    says how it was produced (e.g. the offline last-close fill).
    """

    id: int
    order_id: int
    account: str
    ticker: str
    side: str
    qty: int
    price: float
    fees: float
    time: pd.Timestamp
    market_ticker: str = ""
    label: str = ""


@dataclass(frozen=True)
class Position:
    """An open position: signed ``qty``; ``avg_price`` per share including costs (R$);
    ``last`` the last price seen; ``market_value = qty × last``; ``unrealized_pnl =
    qty × (last − avg_price)``; ``realized_pnl`` accumulated (R$, net of costs)."""

    account: str
    ticker: str
    qty: int
    avg_price: float
    last: float
    market_value: float
    unrealized_pnl: float
    realized_pnl: float


@dataclass(frozen=True)
class AccountSnapshot:
    """The account now (R$ unless stated).

    Attributes
    ----------
    cash : float
        Book balance (= ``cash_projected``).
    cash_available : float
        Settled cash (rows whose settlement date has passed).
    cash_projected : float
        Every row, D+2 settlements included.
    equity : float
        Cash plus the market value of the positions.
    gross_exposure : float
        Sum of |position values|.
    realized_pnl, unrealized_pnl, day_pnl : float
    peak_equity : float
    drawdown_pct : float
        ``1 − equity / peak_equity`` (fraction, ≥ 0).
    blocked : bool
        Kill switch in force.
    block_reason : str
    time : pandas.Timestamp or None
        The account's clock.
    buying_power : float
        Cash free for new buys: projected cash minus open buy orders' reserve, short
        proceeds and collateral.
    """

    name: str
    cash: float
    cash_available: float
    cash_projected: float
    equity: float
    gross_exposure: float
    realized_pnl: float
    unrealized_pnl: float
    day_pnl: float
    peak_equity: float
    drawdown_pct: float
    blocked: bool
    block_reason: str
    time: pd.Timestamp | None = None
    buying_power: float = 0.0


@dataclass(frozen=True)
class LedgerEntry:
    """One cash-ledger row: ``amount`` > 0 credit, < 0 debit (R$); ``balance`` after it."""

    id: int
    time: pd.Timestamp
    settle_date: pd.Timestamp
    kind: str
    ticker: str | None
    amount: float
    balance: float
    order_id: int | None
    description: str


@dataclass(frozen=True)
class OrderEvent:
    """One state transition of an order."""

    id: int
    order_id: int
    time: pd.Timestamp
    status: str
    message: str


@runtime_checkable
class Broker(Protocol):
    """What every broker (paper, MetaTrader 5) offers. Conventions: module docstring."""

    def submit(self, req: OrderRequest) -> Order:  # pragma: no cover - protocol
        """Send an order (risk-checked); returns the stored order."""

    def cancel(self, order_id: int) -> Order:  # pragma: no cover - protocol
        """Cancel an open order."""

    def replace(
        self,
        order_id: int,
        *,
        qty: int | None = None,
        price: float | None = None,
        stop_price: float | None = None,
    ) -> Order:  # pragma: no cover - protocol
        """Modify an open order."""

    def orders(self, status: str | None = None) -> list[Order]:  # pragma: no cover
        """Orders, newest first."""

    def positions(self) -> list[Position]:  # pragma: no cover - protocol
        """Open positions."""

    def account(self) -> AccountSnapshot:  # pragma: no cover - protocol
        """Cash, equity, P&L, drawdown."""

    def fills(self, since=None) -> list[Fill]:  # pragma: no cover - protocol
        """Executions (after ``since`` when given), oldest first."""


# ---------------------------------------------------------------------------------------
# B3 helpers
# ---------------------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _session_info(day: pd.Timestamp) -> tuple[bool, pd.Timestamp | None]:
    """(is a session, São Paulo close time) of a date."""
    from core.data.calendar import b3_calendar

    cal = b3_calendar()
    lo, hi = cal.first_session.tz_localize(None), cal.last_session.tz_localize(None)
    if day < lo or day > hi:
        return day.weekday() < 5, None
    if not cal.is_session(day):
        return False, None
    close = cal.session_close(day).tz_convert("America/Sao_Paulo").tz_localize(None)
    return True, close


@lru_cache(maxsize=4096)
def _next_session(day: pd.Timestamp) -> pd.Timestamp:
    from core.data.calendar import b3_calendar

    cal = b3_calendar()
    if day >= cal.last_session.tz_localize(None):
        d = day + pd.Timedelta(days=1)
        while d.weekday() >= 5:
            d += pd.Timedelta(days=1)
        return d
    from core.data.calendar import next_session

    return next_session(day)


def order_session(time) -> pd.Timestamp:
    """The session an order sent at ``time`` (São Paulo wall time) works in.

    A time inside a session's day before its close is that session; after the close, on a
    weekend or a holiday it is the next session. Midnight stands for a daily bar's close
    (the runner's clock on daily bars), so it maps to the next session too.

    >>> str(order_session("2024-03-28 11:00").date()), str(order_session("2024-03-28").date())
    ('2024-03-28', '2024-04-01')
    """
    ts = pd.Timestamp(time)
    day = ts.normalize()
    ok, close = _session_info(day)
    if ok and ts != day and (close is None or ts < close):
        return day
    return _next_session(day)


def settle_date(time, days: int = 2) -> pd.Timestamp:
    """Settlement date D+``days`` in B3 sessions of a trade at ``time``."""
    d = pd.Timestamp(time).normalize()
    ok, _ = _session_info(d)
    if not ok:
        d = _next_session(d)
    for _ in range(days):
        d = _next_session(d)
    return d


def split_order(qty: int, lot: int) -> tuple[int, int]:
    """``(round-lot shares, fractional shares)`` of a quantity (B3 routing).

    >>> split_order(150, 100), split_order(200, 100), split_order(57, 100)
    ((100, 50), (200, 0), (0, 57))
    """
    lot = max(1, int(lot))
    whole = (int(qty) // lot) * lot
    return whole, int(qty) - whole


def _on_tick(p: float) -> bool:
    return abs(round(p / TICK) - p / TICK) < 1e-6


def _money(name: str, v) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InputError(f"{name} inválido: {v!r} (use um valor em R$).") from None
    if not math.isfinite(f) or f <= 0:
        raise InputError(f"{name} deve ser positivo (recebido {v}).")
    if not _on_tick(f):
        raise InputError(f"{name} {brl(f, 4)} fora do tick de R$ 0,01: use {brl(round(f, 2))}.")
    return round(f, 2)


def _parse_tif(tif) -> str:
    if isinstance(tif, _dt.date):
        return pd.Timestamp(tif).strftime("%Y-%m-%d")
    t = str(tif or "day").strip().lower()
    if t in ("day", "dia"):
        return "day"
    if t in ("gtc", "vac"):
        return "gtc"
    try:
        return pd.Timestamp(t).strftime("%Y-%m-%d")
    except (ValueError, TypeError):
        raise InputError(
            f"Validade inválida {tif!r}: use day, gtc ou uma data AAAA-MM-DD."
        ) from None


def _ts(x) -> pd.Timestamp | None:
    return None if x is None else pd.Timestamp(x)


def _py(ts) -> _dt.datetime:
    return pd.Timestamp(ts).to_pydatetime()


_MEM_LOCKS: dict[int, threading.RLock] = {}
_MEM_GUARD = threading.Lock()


def _memory_lock(engine) -> threading.RLock | None:
    """A per-engine lock for in-memory SQLite (one shared connection: no BEGIN IMMEDIATE)."""
    if engine.dialect.name != "sqlite" or engine.url.database not in (None, "", ":memory:"):
        return None
    with _MEM_GUARD:
        return _MEM_LOCKS.setdefault(id(engine), threading.RLock())


# ---------------------------------------------------------------------------------------
# the paper broker
# ---------------------------------------------------------------------------------------
class PaperBroker:
    """A simulated broker persisted in the store (implements :class:`Broker`).

    Parameters
    ----------
    store : Store
    account : str
        Account name (:func:`core.trading.accounts.create_account`).
    clock : callable, optional
        Returns the current time (naive São Paulo); default the account's market clock (the
        newest bar or mark seen) or, before any, the wall clock.

    Notes
    -----
    Every state change is one transaction that first locks the account row (``BEGIN
    IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL), so concurrent orders
    of one account are serialised and cannot overdraw the cash.

    Raises
    ------
    InputError
        Unknown account.
    """

    def __init__(self, store, account: str, *, clock=None) -> None:
        acc = get_account(store, account)
        self.store = store
        self.name = acc.name
        self.account_id = acc.id
        self._clock = clock
        self._instr: dict[str, dict] = {}

    # -- plumbing -----------------------------------------------------------------------
    @contextmanager
    def _locked(self):
        """One write transaction with the account row locked; yields (conn, account row)."""
        lock = _memory_lock(self.store.engine)
        if lock is not None:
            lock.acquire()
        try:
            with self.store.transaction() as conn:
                q = select(_ACC).where(_ACC.c.id == self.account_id)
                if self.store.dialect == "postgresql":
                    q = q.with_for_update()
                row = conn.execute(q).mappings().first()
                if row is None:
                    raise InputError(f"Conta {self.name!r} não existe mais.")
                yield conn, dict(row)
        finally:
            if lock is not None:
                lock.release()

    def _now(self, acc: dict) -> pd.Timestamp:
        if self._clock is not None:
            return pd.Timestamp(self._clock())
        if acc.get("clock") is not None:
            return pd.Timestamp(acc["clock"])
        return wall_now()

    def _config(self, acc: dict) -> Account:
        return account_from_row(acc)

    def _instrument(self, ticker: str, conn=None) -> dict:
        t = ticker.upper()
        if t not in self._instr:
            self._instr[t] = self.store.instrument(t, conn=conn)
        return self._instr[t]

    def _resolve(self, ticker: str, conn=None) -> tuple[str, bool, int]:
        """(position ticker, fractional-book only, lot size) of an order's ticker."""
        t = (ticker or "").strip().upper()
        if not t:
            raise InputError("Ticker vazio: informe o código do ativo (ex.: PETR4).")
        frac_only = False
        try:
            inst = self._instrument(t, conn)
        except UnknownTickerError:
            if t.endswith("F") and len(t) > 1:
                inst = self._instrument(t[:-1], conn)  # raises for an unknown base too
                frac_only = True
            else:
                raise
        if inst["kind"] == "index":
            raise InputError(f"{inst['ticker']} é um índice: índices não são negociáveis.")
        return inst["ticker"], frac_only, int(inst["lot_size"] or 1)

    def _cash(self, conn) -> float:
        v = conn.execute(
            select(_LED.c.balance)
            .where(_LED.c.account_id == self.account_id)
            .order_by(_LED.c.id.desc())
            .limit(1)
        ).scalar()
        return float(v or 0.0)

    def _ledger(
        self,
        conn,
        time,
        kind: str,
        amount: float,
        description: str,
        *,
        ticker: str | None = None,
        settle=None,
        order_id: int | None = None,
        fill_id: int | None = None,
        ref: str | None = None,
    ) -> None:
        if abs(amount) < 5e-7:
            return
        bal = self._cash(conn) + amount
        conn.execute(
            _LED.insert().values(
                account_id=self.account_id,
                time=_py(time),
                settle_date=_py(settle if settle is not None else pd.Timestamp(time).normalize()),
                kind=kind,
                ticker=ticker,
                amount=float(amount),
                balance=float(bal),
                order_id=order_id,
                fill_id=fill_id,
                ref=ref,
                description=description[:300],
            )
        )

    def _order_event(self, conn, order_id: int, time, status: str, message: str = "") -> None:
        conn.execute(
            _OEV.insert().values(
                order_id=order_id, time=_py(time), status=status, message=message[:500]
            )
        )

    def _set_status(self, conn, o: dict, status: str, time, message: str = "", **values) -> None:
        conn.execute(
            _ORD.update()
            .where(_ORD.c.id == o["id"])
            .values(status=status, updated_at=_py(time), **values)
        )
        if status != o["status"] or message:
            self._order_event(conn, o["id"], time, status, message)
        o["status"] = status
        o.update(values)

    def _to_order(self, r) -> Order:
        return Order(
            id=int(r["id"]),
            client_id=r["client_id"],
            account=self.name,
            ticker=r["ticker"],
            side=r["side"],
            type=r["type"],
            qty=int(r["qty"]),
            filled_qty=int(r["filled_qty"]),
            price=r["price"],
            stop_price=r["stop_price"],
            status=r["status"],
            reason=r["reason"] or "",
            tif=r["tif"],
            parent_id=r["parent_id"],
            oco_group=r["oco_group"],
            avg_fill_price=r["avg_fill_price"],
            created_at=pd.Timestamp(r["created_at"]),
            updated_at=pd.Timestamp(r["updated_at"]),
            source=r["source"],
            stop_loss=r["stop_loss"],
            target=r["target"],
            role=r["role"],
            fees=float(r["fees"] or 0.0),
            session=_ts(r["session"]),
            note=r["note"] or "",
            signal_time=_ts(r["signal_time"]),
            triggered=bool(r["triggered"]),
        )

    def _get_order(self, conn, order_id) -> dict:
        try:
            oid = int(order_id)
        except (TypeError, ValueError):
            raise InputError(f"Número de ordem inválido: {order_id!r}.") from None
        r = (
            conn.execute(select(_ORD).where(_ORD.c.id == oid, _ORD.c.account_id == self.account_id))
            .mappings()
            .first()
        )
        if r is None:
            raise InputError(f"Ordem {oid} não encontrada na conta {self.name!r}.")
        return dict(r)

    def _pos_rows(self, conn) -> dict[str, dict]:
        rows = conn.execute(select(_POS).where(_POS.c.account_id == self.account_id)).mappings()
        return {r["ticker"]: dict(r) for r in rows}

    def _last_stored(self, ticker: str) -> tuple[float, pd.Timestamp] | None:
        d = self.store.last_date(ticker)
        if d is None:
            return None
        bars = self.store.bars(ticker, start=d)
        if bars.empty:
            return None
        return float(bars["close"].iloc[-1]), pd.Timestamp(bars.index[-1])

    def _last_price(self, ticker: str, pos: dict | None) -> float | None:
        if pos is not None and pos.get("last") is not None:
            return float(pos["last"])
        got = self._last_stored(ticker)
        return None if got is None else got[0]

    # -- snapshot -------------------------------------------------------------------------
    def _snapshot(
        self, conn, acc: dict, pos_rows: dict | None = None
    ) -> tuple[AccountSnapshot, list[Position]]:
        pos_rows = self._pos_rows(conn) if pos_rows is None else pos_rows
        now = self._now(acc)
        cash = self._cash(conn)
        today = now.normalize()
        avail = conn.execute(
            select(func.coalesce(func.sum(_LED.c.amount), 0.0)).where(
                _LED.c.account_id == self.account_id, _LED.c.settle_date <= _py(today)
            )
        ).scalar()
        positions = []
        value = gross = unreal = real = short_val = 0.0
        for t, p in sorted(pos_rows.items()):
            real += float(p["realized_pnl"] or 0.0)
            q = int(p["qty"])
            if q == 0:
                continue
            last = p["last"]
            if last is None:
                last = p["avg_price"]
            mv = q * float(last)
            u = q * (float(last) - float(p["avg_price"]))
            value += mv
            gross += abs(mv)
            unreal += u
            if q < 0:
                short_val += -mv
            positions.append(
                Position(
                    self.name,
                    t,
                    q,
                    float(p["avg_price"]),
                    float(last),
                    mv,
                    u,
                    float(p["realized_pnl"] or 0.0),
                )
            )
        equity = cash + value
        peak = max(float(acc["peak_equity"] or equity), equity)
        dd = max(0.0, 1.0 - equity / peak) if peak > 0 else 0.0
        day_start = acc.get("day_start_equity")
        day_pnl = equity - float(day_start) if day_start is not None else 0.0
        reserve = self._reserved(conn, pos_rows)
        snap = AccountSnapshot(
            name=self.name,
            cash=cash,
            cash_available=float(avail or 0.0),
            cash_projected=cash,
            equity=equity,
            gross_exposure=gross,
            realized_pnl=real,
            unrealized_pnl=unreal,
            day_pnl=day_pnl,
            peak_equity=peak,
            drawdown_pct=dd,
            blocked=bool(acc["blocked"]),
            block_reason=acc["block_reason"] or "",
            time=_ts(acc.get("clock")) or now,
            buying_power=cash - 2.0 * short_val - reserve,
        )
        return snap, positions

    def _ref_price(self, o: dict, pos_rows: dict) -> float | None:
        if o["type"] in ("limit", "stop_limit") and o["price"]:
            return float(o["price"])
        if o["type"] == "stop" and o["stop_price"]:
            return float(o["stop_price"])
        return self._last_price(o["ticker"], pos_rows.get(o["ticker"]))

    def _reserved(self, conn, pos_rows: dict, exclude: int | None = None) -> float:
        """R$ reserved by open entry orders that open or increase exposure."""
        rows = (
            conn.execute(
                select(_ORD).where(
                    _ORD.c.account_id == self.account_id,
                    _ORD.c.status.in_(("aceita", "parcial")),
                    _ORD.c.role == "entry",
                )
            )
            .mappings()
            .all()
        )
        total = 0.0
        for r in rows:
            if exclude is not None and r["id"] == exclude:
                continue
            p = pos_rows.get(r["ticker"])
            q = int(p["qty"]) if p else 0
            sign = 1 if r["side"] == "buy" else -1
            rem = int(r["qty"]) - int(r["filled_qty"])
            opening = rem if q * sign >= 0 else max(0, rem - abs(q))
            if opening <= 0:
                continue
            px = self._ref_price(dict(r), pos_rows) or 0.0
            total += opening * px * (2.0 if sign < 0 else 1.0)
        return total

    # -- public reads ---------------------------------------------------------------------
    def account(self) -> AccountSnapshot:
        """The account's cash, equity, P&L and drawdown now (see :class:`AccountSnapshot`)."""
        with self.store.engine.connect() as conn:
            acc = dict(
                conn.execute(select(_ACC).where(_ACC.c.id == self.account_id)).mappings().first()
            )
            return self._snapshot(conn, acc)[0]

    def positions(self) -> list[Position]:
        """Open positions (signed ``qty``), by ticker."""
        with self.store.engine.connect() as conn:
            acc = dict(
                conn.execute(select(_ACC).where(_ACC.c.id == self.account_id)).mappings().first()
            )
            return self._snapshot(conn, acc)[1]

    def orders(self, status: str | Iterable[str] | None = None) -> list[Order]:
        """Orders of the account, newest first.

        Parameters
        ----------
        status : str or iterable of str, optional
            Only these statuses; ``"open"`` means ``nova, aceita, parcial``.
        """
        q = select(_ORD).where(_ORD.c.account_id == self.account_id).order_by(_ORD.c.id.desc())
        if status is not None:
            sts = (
                OPEN_STATUSES
                if status == "open"
                else ((status,) if isinstance(status, str) else tuple(status))
            )
            bad = [s for s in sts if s not in STATUSES]
            if bad:
                raise InputError(
                    f"Estado de ordem desconhecido {bad[0]!r}: use {', '.join(STATUSES)} ou open."
                )
            q = q.where(_ORD.c.status.in_(sts))
        with self.store.engine.connect() as conn:
            return [self._to_order(r) for r in conn.execute(q).mappings()]

    def order(self, order_id: int) -> Order:
        """One order of the account (InputError when unknown)."""
        with self.store.engine.connect() as conn:
            return self._to_order(self._get_order(conn, order_id))

    def order_events(self, order_id: int) -> list[OrderEvent]:
        """The state history of one order, oldest first."""
        with self.store.engine.connect() as conn:
            self._get_order(conn, order_id)
            rows = conn.execute(
                select(_OEV).where(_OEV.c.order_id == int(order_id)).order_by(_OEV.c.id)
            ).mappings()
            return [
                OrderEvent(
                    r["id"], r["order_id"], pd.Timestamp(r["time"]), r["status"], r["message"]
                )
                for r in rows
            ]

    def fills(self, since=None) -> list[Fill]:
        """Executions oldest first (``time > since`` when given)."""
        q = select(_FIL).where(_FIL.c.account_id == self.account_id).order_by(_FIL.c.id)
        if since is not None:
            q = q.where(_FIL.c.time > _py(since))
        with self.store.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        return [self._to_fill(r) for r in rows]

    def _to_fill(self, r) -> Fill:
        return Fill(
            int(r["id"]),
            int(r["order_id"]),
            self.name,
            r["ticker"],
            r["side"],
            int(r["qty"]),
            float(r["price"]),
            float(r["fees"]),
            pd.Timestamp(r["time"]),
            r["market_ticker"],
            r["label"] or "",
        )

    def ledger(self) -> list[LedgerEntry]:
        """Every cash-ledger row, oldest first."""
        q = select(_LED).where(_LED.c.account_id == self.account_id).order_by(_LED.c.id)
        with self.store.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        return [
            LedgerEntry(
                int(r["id"]),
                pd.Timestamp(r["time"]),
                pd.Timestamp(r["settle_date"]),
                r["kind"],
                r["ticker"],
                float(r["amount"]),
                float(r["balance"]),
                r["order_id"],
                r["description"],
            )
            for r in rows
        ]

    def trades(self) -> pd.DataFrame:
        """Realised trades (one row per closing fill) in the engine's trade columns."""
        q = select(_TRD).where(_TRD.c.account_id == self.account_id).order_by(_TRD.c.id)
        with self.store.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        cols = [c.name for c in _TRD.columns if c.name not in ("account_id",)]
        df = pd.DataFrame([{c: r[c] for c in cols} for r in rows], columns=cols)
        for c in ("entry_date", "exit_date"):
            df[c] = pd.to_datetime(df[c])
        if len(df):
            df["return_pct"] = df["pnl"] / df["entry_value"].where(df["entry_value"] != 0) * 100
        else:
            df["return_pct"] = pd.Series(dtype="float64")
        return df

    def tax_report(self, rules=None) -> pd.DataFrame:
        """Monthly IR/DARF report of the realised trades (:func:`core.backtest.taxes.tax_report`)."""
        from core.backtest.taxes import tax_report

        tr = self.trades()
        kinds = {}
        for t in set(tr["ticker"]) if len(tr) else ():
            try:
                kinds[t] = self._instrument(t)["kind"]
            except UnknownTickerError:
                kinds[t] = "stock"
        return tax_report(tr, rules, kinds)

    # -- submit -------------------------------------------------------------------------
    def _validate(self, req: OrderRequest) -> dict:
        if not isinstance(req, OrderRequest):
            raise InputError("Ordem inválida: use OrderRequest.")
        if req.account.strip() != self.name:
            raise InputError(f"A ordem é da conta {req.account!r}, não de {self.name!r}.")
        side = str(req.side or "").strip().lower()
        side = {"compra": "buy", "c": "buy", "venda": "sell", "v": "sell"}.get(side, side)
        if side not in SIDES:
            raise InputError(f"Lado inválido {req.side!r}: use buy (compra) ou sell (venda).")
        typ = str(req.type or "market").strip().lower()
        if typ not in ORDER_TYPES:
            raise InputError(f"Tipo de ordem inválido {req.type!r}: use {', '.join(ORDER_TYPES)}.")
        q = req.qty
        if isinstance(q, bool) or not isinstance(q, int | np.integer | float | str):
            raise InputError(f"Quantidade inválida {q!r}: use um número inteiro de ações.")
        try:
            fq = float(q)
        except ValueError:
            raise InputError(
                f"Quantidade inválida {q!r}: use um número inteiro de ações."
            ) from None
        if not math.isfinite(fq) or fq != int(fq):
            raise InputError(
                f"Quantidade {q} não é inteira: ações são negociadas em unidades inteiras."
            )
        qty = int(fq)
        if qty <= 0:
            raise InputError(f"Quantidade deve ser positiva (recebido {qty}).")
        price = _money("Preço limite", req.price)
        stop = _money("Preço de disparo (stop)", req.stop_price)
        sl = _money("Stop-loss", req.stop_loss)
        tg = _money("Alvo", req.target)
        if typ in ("limit", "stop_limit") and price is None:
            raise InputError(f"Ordem {_TYPE_PT[typ]} precisa de preço limite (--price).")
        if typ in ("stop", "stop_limit") and stop is None:
            raise InputError(f"Ordem {_TYPE_PT[typ]} precisa de preço de disparo (--stop).")
        if typ in ("market", "stop") and price is not None:
            raise InputError(
                f"Ordem {_TYPE_PT[typ]} não leva preço limite; use type=limit ou stop_limit."
            )
        if typ in ("market", "limit") and stop is not None:
            raise InputError(
                f"Ordem {_TYPE_PT[typ]} não leva preço de disparo; use type=stop ou stop_limit."
            )
        s = 1 if side == "buy" else -1
        ref = price if price is not None else stop
        if sl is not None and tg is not None and (tg - sl) * s <= 0:
            raise InputError(
                f"Bracket incoerente: numa {_SIDE_PT[side]} o stop-loss ({brl(sl)}) deve ficar "
                f"{'abaixo' if s > 0 else 'acima'} do alvo ({brl(tg)})."
            )
        if ref is not None:
            if sl is not None and (ref - sl) * s <= 0:
                raise InputError(
                    f"Stop-loss {brl(sl)} deve ficar {'abaixo' if s > 0 else 'acima'} do preço "
                    f"de entrada {brl(ref)}."
                )
            if tg is not None and (tg - ref) * s <= 0:
                raise InputError(
                    f"Alvo {brl(tg)} deve ficar {'acima' if s > 0 else 'abaixo'} do preço de entrada {brl(ref)}."
                )
        tif = _parse_tif(req.tif)
        cid = None if req.client_id is None else str(req.client_id).strip() or None
        if cid is not None and len(cid) > 100:
            raise InputError("client_id longo demais (máximo 100 caracteres).")
        return {
            "side": side,
            "type": typ,
            "qty": qty,
            "price": price,
            "stop_price": stop,
            "stop_loss": sl,
            "target": tg,
            "tif": tif,
            "client_id": cid,
        }

    def submit(self, req: OrderRequest) -> Order:
        """Send an order: validate, check the risk rules and the cash, store it.

        Parameters
        ----------
        req : OrderRequest

        Returns
        -------
        Order
            Status ``aceita`` (working; a bracket's children are stored as ``nova``), or
            the existing order when ``client_id`` was already used (nothing written).

        Raises
        ------
        InputError
            Bad input (unknown ticker, quantity, price off the tick, validity on a
            non-session, ...): nothing is written.
        RiskRejected
            A risk rule or the cash check refused the order: the order is stored as
            ``rejeitada`` with its reason and a ``rejected`` event (one transaction).
        """
        v = self._validate(req)
        ticker, frac_only, lot = self._resolve(req.ticker)
        rejected: risk_mod.RiskRejected | None = None
        with self._locked() as (conn, acc):
            if v["client_id"] is not None:
                got = (
                    conn.execute(
                        select(_ORD).where(
                            _ORD.c.account_id == self.account_id, _ORD.c.client_id == v["client_id"]
                        )
                    )
                    .mappings()
                    .first()
                )
                if got is not None:
                    return self._to_order(got)
            cfg = self._config(acc)
            qty = v["qty"]
            if frac_only and qty >= lot:
                raise InputError(
                    f"O mercado fracionário ({ticker}F) aceita de 1 a {lot - 1} ações; "
                    f"para {integer(qty)} use {ticker} (lotes de {lot})."
                )
            if not frac_only and lot > 1 and qty % lot and not cfg.engine.sizing.fractional:
                raise InputError(
                    f"Quantidade {integer(qty)} não é múltiplo do lote padrão de {ticker} "
                    f"({lot}); esta conta não usa o mercado fracionário."
                )
            now = self._now(acc)
            self._rollover(conn, acc, now, cfg)
            session = order_session(now)
            tif = v["tif"]
            if tif not in ("day", "gtc"):
                d = pd.Timestamp(tif)
                ok, _ = _session_info(d)
                if not ok:
                    raise InputError(
                        f"Validade {fmt_date(d)} não é dia de pregão na B3: escolha um pregão."
                    )
                if d < session:
                    raise InputError(
                        f"Validade {fmt_date(d)} é anterior ao pregão da ordem ({fmt_date(session)})."
                    )
            pos_rows = self._pos_rows(conn)
            snap, positions = self._snapshot(conn, acc, pos_rows)
            pos = pos_rows.get(ticker)
            last = self._last_price(ticker, pos)
            ref = v["price"] if v["price"] is not None else v["stop_price"]
            if ref is None:
                ref = last
            if ref is None:
                raise InputError(
                    f"{ticker} não tem cotação armazenada: importe os dados antes de operar."
                )
            orders_today = conn.execute(
                select(func.count()).where(
                    _ORD.c.account_id == self.account_id,
                    _ORD.c.session == _py(session),
                    _ORD.c.role == "entry",
                )
            ).scalar()
            pending = tuple(
                r[0]
                for r in conn.execute(
                    select(_ORD.c.ticker).where(
                        _ORD.c.account_id == self.account_id,
                        _ORD.c.status.in_(OPEN_STATUSES),
                        _ORD.c.role == "entry",
                    )
                )
                if not (pos_rows.get(r[0]) and pos_rows[r[0]]["qty"])
            )
            norm = OrderRequest(
                account=self.name,
                ticker=ticker,
                side=v["side"],
                qty=qty,
                type=v["type"],
                price=v["price"],
                stop_price=v["stop_price"],
                stop_loss=v["stop_loss"],
                target=v["target"],
                tif=tif,
            )
            decision = risk_mod.check(
                snap,
                positions,
                norm,
                rules=cfg.risk,
                price=float(ref),
                orders_today=int(orders_today or 0),
                pending_entries=pending,
                now=now,
            )
            if decision.ok:
                decision = self._cash_check(cfg, snap, pos, v, qty, float(ref), ticker, lot, now)
            status = "aceita" if decision.ok else "rejeitada"
            reason = "" if decision.ok else decision.message
            oco = uuid.uuid4().hex[:16] if (v["stop_loss"] or v["target"]) else None
            base = {
                "account_id": self.account_id,
                "ticker": ticker,
                "filled_qty": 0,
                "tif": tif,
                "oco_group": None,
                "triggered": False,
                "fractional": not frac_only,
                "avg_fill_price": None,
                "fees": 0.0,
                "session": _py(session),
                "created_at": _py(now),
                "updated_at": _py(now),
                "source": (req.source or "manual")[:100],
                "signal_time": None if req.signal_time is None else _py(req.signal_time),
                "note": (req.note or "")[:500],
            }
            res = conn.execute(
                _ORD.insert().values(
                    **base,
                    client_id=v["client_id"],
                    side=v["side"],
                    type=v["type"],
                    qty=qty,
                    price=v["price"],
                    stop_price=v["stop_price"],
                    stop_loss=v["stop_loss"],
                    target=v["target"],
                    status=status,
                    reason=reason,
                    parent_id=None,
                    role="entry",
                )
            )
            oid = int(res.inserted_primary_key[0])
            desc = (
                f"{_SIDE_PT[v['side']]} {integer(qty)} {ticker}{'F' if frac_only else ''} "
                f"{_TYPE_PT[v['type']]}"
            )
            if not frac_only:
                whole, frac = split_order(qty, lot)
                if whole and frac:
                    desc += f" ({integer(whole)} em {ticker} + {integer(frac)} em {ticker}F)"
            self._order_event(conn, oid, now, "nova", desc)
            self._order_event(conn, oid, now, status, reason or f"sessão {fmt_date(session)}")
            if decision.ok and oco:
                child = {**base, "oco_group": oco, "client_id": None, "parent_id": oid, "qty": qty}
                other = "sell" if v["side"] == "buy" else "buy"
                for role, typ, price, stop in (
                    ("stop", "stop", None, v["stop_loss"]),
                    ("target", "limit", v["target"], None),
                ):
                    if (role == "stop" and stop is None) or (role == "target" and price is None):
                        continue
                    r2 = conn.execute(
                        _ORD.insert().values(
                            **{**child, "tif": "gtc"},
                            side=other,
                            type=typ,
                            price=price,
                            stop_price=stop,
                            stop_loss=None,
                            target=None,
                            status="nova",
                            reason="",
                            role=role,
                        )
                    )
                    self._order_event(
                        conn,
                        int(r2.inserted_primary_key[0]),
                        now,
                        "nova",
                        f"{role} do bracket da ordem {oid}",
                    )
                conn.execute(_ORD.update().where(_ORD.c.id == oid).values(oco_group=oco))
            if not decision.ok:
                write_event(
                    conn,
                    self.account_id,
                    now,
                    "rejected",
                    ticker,
                    {"order_id": oid, "rule": decision.rule, "qty": qty, "side": v["side"]},
                    decision.message,
                )
                rejected = risk_mod.RiskRejected(decision.rule, decision.message, oid)
            conn.execute(
                _ACC.update().where(_ACC.c.id == self.account_id).values(version=acc["version"] + 1)
            )
            out = self._to_order(self._get_order(conn, oid))
        if rejected is not None:
            raise rejected
        return out

    def _cash_check(self, cfg, snap, pos, v, qty, ref, ticker, lot, now) -> risk_mod.RiskDecision:
        cur = int(pos["qty"]) if pos else 0
        s = 1 if v["side"] == "buy" else -1
        opening = qty if cur * s >= 0 else max(0, qty - abs(cur))
        if opening == 0:
            return risk_mod.RiskDecision(True)
        if s < 0 and not cfg.engine.allow_short:
            held = max(cur, 0)
            return risk_mod.RiskDecision(
                False,
                "venda_descoberto",
                f"Ordem rejeitada: venda de {integer(qty)} {ticker} com {integer(held)} em carteira; "
                "esta conta não permite venda a descoberto.",
            )
        costs = cfg.engine.costs
        px = ref * (1 + costs.slippage_bps / 10_000.0)
        fee = costs.fees(opening * px, date=now, orders=n_orders(opening, lot))
        need = opening * px * (1.0 if s > 0 else 2.0) + fee
        free = snap.buying_power
        if need > free + 1e-6:
            return risk_mod.RiskDecision(
                False,
                "saldo",
                f"Ordem rejeitada pela regra '{risk_mod.RULE_LABELS['saldo']}': a ordem precisa de "
                f"{brl(need)} ({integer(opening)} × {brl(px)} + custos) e o poder de compra é "
                f"{brl(free)}.",
            )
        return risk_mod.RiskDecision(True)

    # -- cancel / replace ---------------------------------------------------------------
    def cancel(self, order_id: int, reason: str = "cancelada pelo usuário") -> Order:
        """Cancel an open order (a bracket entry's pending children go with it).

        Raises
        ------
        InputError
            Unknown order, or an order already executed, cancelled, rejected or expired.
        """
        with self._locked() as (conn, acc):
            o = self._get_order(conn, order_id)
            if o["status"] in _FINAL:
                raise InputError(f"Ordem {o['id']} já está {o['status']}: não pode ser cancelada.")
            now = self._now(acc)
            self._set_status(conn, o, "cancelada", now, reason, reason=reason)
            if o["role"] == "entry":
                for c in self._children(conn, o["id"]):
                    if c["status"] == "nova" or o["filled_qty"] == 0:
                        if c["status"] in OPEN_STATUSES:
                            self._set_status(
                                conn,
                                c,
                                "cancelada",
                                now,
                                "entrada cancelada",
                                reason="entrada cancelada",
                            )
            return self._to_order(self._get_order(conn, o["id"]))

    def _children(self, conn, parent_id: int) -> list[dict]:
        return [
            dict(r)
            for r in conn.execute(
                select(_ORD).where(_ORD.c.parent_id == parent_id).order_by(_ORD.c.id)
            ).mappings()
        ]

    def replace(
        self,
        order_id: int,
        *,
        qty: int | None = None,
        price: float | None = None,
        stop_price: float | None = None,
    ) -> Order:
        """Modify an open order's quantity, limit price or trigger (same id; history row).

        Raises
        ------
        InputError
            Order not open, new quantity not above what is filled, a price that the order
            type does not take or off the tick.
        RiskRejected
            A larger buy that the cash does not cover.
        """
        with self._locked() as (conn, acc):
            o = self._get_order(conn, order_id)
            if o["status"] not in OPEN_STATUSES:
                raise InputError(f"Ordem {o['id']} está {o['status']}: não pode ser alterada.")
            changes: dict = {}
            msg = []
            if qty is not None:
                try:
                    nq = int(qty)
                except (TypeError, ValueError):
                    raise InputError(f"Quantidade inválida {qty!r}.") from None
                if nq != qty or nq <= int(o["filled_qty"]):
                    raise InputError(
                        f"Nova quantidade {qty} deve ser inteira e maior que a já executada ({o['filled_qty']})."
                    )
                changes["qty"] = nq
                msg.append(f"quantidade {integer(o['qty'])} → {integer(nq)}")
            if price is not None:
                if o["type"] not in ("limit", "stop_limit"):
                    raise InputError(f"Ordem {_TYPE_PT[o['type']]} não tem preço limite.")
                changes["price"] = _money("Preço limite", price)
                msg.append(f"preço {brl(o['price'])} → {brl(changes['price'])}")
            if stop_price is not None:
                if o["type"] not in ("stop", "stop_limit"):
                    raise InputError(f"Ordem {_TYPE_PT[o['type']]} não tem preço de disparo.")
                changes["stop_price"] = _money("Preço de disparo (stop)", stop_price)
                msg.append(f"disparo {brl(o['stop_price'])} → {brl(changes['stop_price'])}")
            if not changes:
                raise InputError("Nada a alterar: informe quantidade, preço ou disparo.")
            now = self._now(acc)
            if o["role"] == "entry" and changes.get("qty", 0) > int(o["qty"]):
                cfg = self._config(acc)
                pos_rows = self._pos_rows(conn)
                snap, _ = self._snapshot(conn, acc, pos_rows)
                snap = _dc_replace(
                    snap,
                    buying_power=snap.buying_power
                    + self._reserved(conn, pos_rows)
                    - self._reserved(conn, pos_rows, exclude=o["id"]),
                )
                lot = self._resolve(o["ticker"])[2]
                ref = (
                    changes.get("price")
                    or changes.get("stop_price")
                    or self._ref_price(o, pos_rows)
                    or 0.0
                )
                d = self._cash_check(
                    cfg,
                    snap,
                    pos_rows.get(o["ticker"]),
                    {"side": o["side"]},
                    changes["qty"] - int(o["filled_qty"]),
                    float(ref),
                    o["ticker"],
                    lot,
                    now,
                )
                if not d.ok:
                    raise risk_mod.RiskRejected(d.rule, d.message, o["id"])
            conn.execute(
                _ORD.update().where(_ORD.c.id == o["id"]).values(updated_at=_py(now), **changes)
            )
            self._order_event(conn, o["id"], now, o["status"], "alterada: " + ", ".join(msg))
            if "qty" in changes and o["role"] == "entry":
                for c in self._children(conn, o["id"]):
                    if c["status"] == "nova":
                        conn.execute(
                            _ORD.update().where(_ORD.c.id == c["id"]).values(qty=changes["qty"])
                        )
            return self._to_order(self._get_order(conn, o["id"]))

    # -- the market ---------------------------------------------------------------------
    def on_bar(self, ticker: str, bar, time) -> list[Fill]:
        """Work the open orders of ``ticker`` against one AS-TRADED bar.

        Parameters
        ----------
        ticker : str
        bar : mapping or pandas.Series
            ``open, high, low, close, volume`` (R$, shares).
        time : datetime-like
            The bar's time (session date for daily bars).

        Returns
        -------
        list of Fill
            Executions on this bar, in order. The account's clock advances to ``time``; a
            new session first applies proventos and splits, borrow fees, last month's taxes
            and expires day orders; the bar's close marks the position; a drawdown beyond
            the account's limit fires the kill switch (orders for the next bar).
        """
        t = ticker.strip().upper()
        b = {k: float(bar[k]) for k in ("open", "high", "low", "close")}
        vol = bar["volume"] if "volume" in bar else float("nan")
        b["volume"] = float(vol) if vol is not None else float("nan")
        time = pd.Timestamp(time)
        with self._locked() as (conn, acc):
            cfg = self._config(acc)
            self._rollover(conn, acc, time, cfg)
            fills = self._work_ticker(conn, acc, cfg, t, b, time, label="")
            conn.execute(
                _POS.update()
                .where(_POS.c.account_id == self.account_id, _POS.c.ticker == t)
                .values(last=b["close"], last_time=_py(time))
            )
            self._advance_clock(conn, acc, time)
            self._post_checks(conn, acc, cfg, time)
        return fills

    def mark(self, prices: dict[str, float], time) -> AccountSnapshot:
        """Mark positions at ``prices`` (R$) at ``time``; update peak and drawdown.

        Returns
        -------
        AccountSnapshot
            After the mark (and after the risk checks: the drawdown kill switch and the
            daily loss limit event).
        """
        time = pd.Timestamp(time)
        with self._locked() as (conn, acc):
            cfg = self._config(acc)
            self._rollover(conn, acc, time, cfg)
            for t, p in prices.items():
                if p is None or not p == p:
                    continue
                conn.execute(
                    _POS.update()
                    .where(_POS.c.account_id == self.account_id, _POS.c.ticker == t.upper())
                    .values(last=float(p), last_time=_py(time))
                )
            self._advance_clock(conn, acc, time)
            self._post_checks(conn, acc, cfg, time)
            return self._snapshot(conn, acc)[0]

    def fill_at_last(self, order_id: int) -> list[Fill]:
        """Execute an open order now against the last stored close (offline manual trading).

        The last stored daily close of the ticker acts as a one-price bar (open = high =
        low = close, unlimited volume), worked by the same fill rules: a market order fills
        at that close plus slippage; a limit or stop fills only if that price reaches it.
        Fills are labelled ``"último fechamento de dd/mm/aaaa (sem feed)"`` and timed at
        the broker's clock (wall time without a feed).

        Returns
        -------
        list of Fill
            Empty when the order is not marketable at that price (it stays open).

        Raises
        ------
        InputError
            Unknown or closed order, or no stored price.
        """
        with self._locked() as (conn, acc):
            o = self._get_order(conn, order_id)
            if o["status"] not in ("aceita", "parcial"):
                raise InputError(f"Ordem {o['id']} está {o['status']}: nada a executar.")
            got = self._last_stored(o["ticker"])
            if got is None:
                raise InputError(f"{o['ticker']} não tem cotação armazenada.")
            px, day = got
            cfg = self._config(acc)
            now = self._now(acc)
            self._rollover(conn, acc, now, cfg)
            bar = {"open": px, "high": px, "low": px, "close": px, "volume": float("inf")}
            label = f"último fechamento de {fmt_date(day)} (sem feed)"
            fills = self._work_ticker(
                conn, acc, cfg, o["ticker"], bar, now, label=label, only=o["id"]
            )
            conn.execute(
                _POS.update()
                .where(_POS.c.account_id == self.account_id, _POS.c.ticker == o["ticker"])
                .values(last=px)
            )
            self._post_checks(conn, acc, cfg, now)
            return fills

    def _advance_clock(self, conn, acc: dict, time: pd.Timestamp) -> None:
        if acc.get("clock") is None or time > pd.Timestamp(acc["clock"]):
            acc["clock"] = _py(time)
        conn.execute(
            _ACC.update()
            .where(_ACC.c.id == self.account_id)
            .values(clock=acc["clock"], version=acc["version"] + 1)
        )
        acc["version"] += 1

    # -- the order book on one bar ------------------------------------------------------
    def _work_ticker(
        self, conn, acc, cfg, t, b, time, *, label: str, only: int | None = None
    ) -> list[Fill]:
        session = time.normalize()
        q = select(_ORD).where(
            _ORD.c.account_id == self.account_id,
            _ORD.c.ticker == t,
            _ORD.c.status.in_(("aceita", "parcial")),
        )
        rows = [dict(r) for r in conn.execute(q.order_by(_ORD.c.id)).mappings()]
        if not rows:
            return []
        fills: list[Fill] = []
        slip = cfg.engine.costs.slippage_bps / 10_000.0
        cap = None
        if (
            cfg.participation is not None
            and b["volume"] == b["volume"]
            and math.isfinite(b["volume"])
        ):
            cap = int(math.floor(b["volume"] * cfg.participation))
        used = 0
        o_, h, lo = b["open"], b["high"], b["low"]
        entries = [r for r in rows if r["role"] == "entry"]
        children = [r for r in rows if r["role"] != "entry"]
        new_children: dict[int, float] = {}
        for o in entries:
            if only is not None and o["id"] != only:
                continue
            if self._expired(conn, o, session, time):
                continue
            if pd.Timestamp(o["created_at"]) >= time and only is None:
                continue
            if pd.Timestamp(o["session"]) > session and only is None:
                continue
            s = 1 if o["side"] == "buy" else -1
            raw = fill = float("nan")
            if o["type"] == "market":
                raw, _ = entry_fill(o_, h, lo, np.nan, s)
                fill = market_fill(raw, s, slip)
            elif o["type"] == "stop":
                raw, _ = entry_fill(o_, h, lo, float(o["stop_price"]), s)
                fill = market_fill(raw, s, slip) if raw == raw else raw
            elif o["type"] == "limit" or (o["type"] == "stop_limit" and o["triggered"]):
                fill = limit_fill(o_, h, lo, float(o["price"]), s, slip, o_)
                raw = target_fill(o_, h, lo, float(o["price"]), -s, o_)
            else:  # stop_limit, not yet triggered
                fill, trig = stop_limit_trigger(
                    o_, h, lo, float(o["stop_price"]), float(o["price"]), s, slip
                )
                raw, _ = entry_fill(o_, h, lo, float(o["stop_price"]), s)
                if trig and not o["triggered"]:
                    conn.execute(_ORD.update().where(_ORD.c.id == o["id"]).values(triggered=True))
                    self._order_event(conn, o["id"], time, o["status"], f"disparada a {brl(raw)}")
                    o["triggered"] = True
            if not fill == fill:
                continue
            rem = int(o["qty"]) - int(o["filled_qty"])
            qf = rem if cap is None else max(0, min(rem, cap - used))
            if qf <= 0:
                continue
            used += qf
            f = self._execute(conn, acc, cfg, o, qf, float(fill), time, label)
            fills.extend(f)
            if f:
                new_children[o["id"]] = float(raw)
                self._activate_children(conn, o, time)
        # bracket children: stop first, then target (engine order); entry bar uses its price
        if only is None:
            children = [
                dict(r)
                for r in conn.execute(
                    select(_ORD)
                    .where(
                        _ORD.c.account_id == self.account_id,
                        _ORD.c.ticker == t,
                        _ORD.c.status.in_(("aceita", "parcial")),
                        _ORD.c.role != "entry",
                    )
                    .order_by(_ORD.c.id)
                ).mappings()
            ]
            groups: dict[str, list[dict]] = {}
            for c in children:
                groups.setdefault(c["oco_group"] or str(c["id"]), []).append(c)
            for _g, legs in groups.items():
                legs.sort(key=lambda c: 0 if c["role"] == "stop" else 1)
                for c in legs:
                    if c["status"] not in ("aceita", "parcial"):
                        continue
                    d = -1 if c["side"] == "buy" else 1  # direction of the position protected
                    pid = c["parent_id"]
                    ref = new_children.get(pid, o_)
                    if pid not in new_children and pd.Timestamp(c["updated_at"]) >= time:
                        ref = o_
                    if c["role"] == "stop":
                        raw = stop_fill(o_, h, lo, float(c["stop_price"]), d, ref)
                    else:
                        raw = target_fill(o_, h, lo, float(c["price"]), d, ref)
                    if not raw == raw:
                        continue
                    fill = market_fill(raw, -d, slip)
                    rem = int(c["qty"]) - int(c["filled_qty"])
                    held = conn.execute(
                        select(_POS.c.qty).where(
                            _POS.c.account_id == self.account_id, _POS.c.ticker == t
                        )
                    ).scalar()
                    rem = min(rem, max(0, d * int(held or 0)))
                    if rem <= 0:  # the position was closed by another order
                        for leg in legs:
                            if leg["status"] in OPEN_STATUSES:
                                self._set_status(
                                    conn,
                                    leg,
                                    "cancelada",
                                    time,
                                    "posição já encerrada",
                                    reason="posição já encerrada",
                                )
                        break
                    f = self._execute(conn, acc, cfg, c, rem, float(fill), time, label)
                    if f:
                        fills.extend(f)
                        kind = "stop" if c["role"] == "stop" else "target"
                        write_event(
                            conn,
                            self.account_id,
                            time,
                            kind,
                            t,
                            {"order_id": c["id"], "qty": rem, "price": float(fill)},
                            f"{'Stop' if kind == 'stop' else 'Alvo'} executado: {integer(rem)} {t} a {brl(fill)}.",
                        )
                        for other in legs:
                            if other["id"] != c["id"] and other["status"] in OPEN_STATUSES:
                                self._set_status(
                                    conn,
                                    other,
                                    "cancelada",
                                    time,
                                    "OCO: a outra perna executou",
                                    reason="OCO: a outra perna executou",
                                )
                        break
        return fills

    def _expired(self, conn, o: dict, session: pd.Timestamp, time) -> bool:
        tif = o["tif"]
        osess = pd.Timestamp(o["session"])
        if tif == "day":
            dead = session > osess
        elif tif == "gtc":
            dead = False
        else:
            dead = session > pd.Timestamp(tif)
        if dead:
            self._set_status(
                conn,
                o,
                "expirada",
                time,
                f"validade {tif} vencida",
                reason=f"validade {tif} vencida",
            )
            for c in self._children(conn, o["id"]):
                if c["status"] == "nova":
                    self._set_status(
                        conn, c, "cancelada", time, "entrada expirada", reason="entrada expirada"
                    )
        return dead

    def _activate_children(self, conn, parent: dict, time) -> None:
        for c in self._children(conn, parent["id"]):
            if c["status"] in ("nova", "aceita", "parcial"):
                q = int(parent["filled_qty"]) - int(c["filled_qty"])
                total = int(parent["filled_qty"])
                conn.execute(
                    _ORD.update()
                    .where(_ORD.c.id == c["id"])
                    .values(qty=total, updated_at=_py(time))
                )
                if c["status"] == "nova":
                    self._set_status(conn, c, "aceita", time, f"ativada para {integer(q)} ações")

    def _execute(
        self, conn, acc, cfg, o: dict, q: int, price: float, time, label: str
    ) -> list[Fill]:
        """Book ``q`` shares of order ``o`` at ``price``: fills, position, ledger, trades."""
        t = o["ticker"]
        s = 1 if o["side"] == "buy" else -1
        lot = self._resolve(t, conn)[2]
        costs = cfg.engine.costs
        pos_row = (
            conn.execute(
                select(_POS).where(_POS.c.account_id == self.account_id, _POS.c.ticker == t)
            )
            .mappings()
            .first()
        )
        session = time.normalize()
        st = PositionState()
        opened_at = None
        if pos_row is not None:
            same = (
                pos_row["day_session"] is not None
                and pd.Timestamp(pos_row["day_session"]) == session
            )
            st = PositionState(
                int(pos_row["qty"]),
                float(pos_row["avg_price"]),
                float(pos_row["realized_pnl"]),
                int(pos_row["day_qty"]) if same else 0,
                float(pos_row["day_avg"]) if same else 0.0,
                float(pos_row["day_fee"]) if same else 0.0,
                float(pos_row["day_fee_rate"]) if same else 0.0,
            )
            opened_at = pos_row["opened_at"]
        if s < 0 and not cfg.engine.allow_short and q > max(0, st.qty):
            q = max(0, st.qty)  # never sell short in an account that does not allow it
            if q == 0:
                self._set_status(
                    conn,
                    o,
                    "cancelada",
                    time,
                    "sem ações em carteira para vender",
                    reason="sem ações em carteira para vender",
                )
                return []
        # a fill that would overdraw the cash (a gap) is cut to what the cash buys
        closing = min(q, abs(st.qty)) if st.qty * s < 0 else 0
        if s > 0 and q > closing:
            snap, _ = self._snapshot(conn, acc)
            free = snap.buying_power + self._reserved(conn, self._pos_rows(conn))
            per = price * (1 + costs.rates(pd.DatetimeIndex([session]))[0][0])
            afford = (
                closing + int(max(0.0, free - costs.brokerage_per_order * 2) // per)
                if per > 0
                else q
            )
            if afford < q:
                if afford <= 0:
                    self._set_status(
                        conn,
                        o,
                        "cancelada",
                        time,
                        "saldo insuficiente na execução",
                        reason="saldo insuficiente na execução",
                    )
                    return []
                q = afford
        sw, dt = costs.rates(pd.DatetimeIndex([session]))
        first = int(o["filled_qty"]) == 0
        n_ord = (n_orders(int(o["qty"]), lot) if o["fractional"] else 1) if first else 0
        new, bk = book_fill(
            st,
            s,
            q,
            price,
            swing_rate=float(sw[0]),
            dt_rate=float(dt[0]),
            brokerage=costs.brokerage_per_order * n_ord,
        )
        # fills per book (round lot / fractional)
        if o["fractional"]:
            whole, frac = split_order(q, lot)
        else:
            whole, frac = 0, q
        parts = [(n, t if i == 0 else t + "F") for i, n in enumerate((whole, frac)) if n]
        out: list[Fill] = []
        for n, mt in parts:
            fee = bk.fee * n / q
            r = conn.execute(
                _FIL.insert().values(
                    order_id=o["id"],
                    account_id=self.account_id,
                    ticker=t,
                    market_ticker=mt,
                    side=o["side"],
                    qty=n,
                    price=price,
                    fees=fee,
                    time=_py(time),
                    label=label,
                )
            )
            out.append(
                Fill(
                    int(r.inserted_primary_key[0]),
                    o["id"],
                    self.name,
                    t,
                    o["side"],
                    n,
                    price,
                    fee,
                    time,
                    mt,
                    label,
                )
            )
        fid = out[0].id
        settle = settle_date(time)
        value = q * price
        what = f"{integer(q)} {t} a {brl(price, 4)}" + (f" ({label})" if label else "")
        if s > 0:
            self._ledger(
                conn,
                time,
                "buy",
                -value,
                f"Compra {what}",
                ticker=t,
                settle=settle,
                order_id=o["id"],
                fill_id=fid,
            )
        else:
            self._ledger(
                conn,
                time,
                "sell",
                value,
                f"Venda {what}",
                ticker=t,
                settle=settle,
                order_id=o["id"],
                fill_id=fid,
            )
        self._ledger(
            conn,
            time,
            "fee",
            -bk.fee,
            f"Custos B3 e corretagem: {integer(q)} {t}",
            ticker=t,
            settle=settle,
            order_id=o["id"],
            fill_id=fid,
        )
        if bk.refund > 0:
            self._ledger(
                conn,
                time,
                "fee",
                bk.refund,
                f"Ajuste de taxa day trade: {integer(bk.dt_qty)} {t}",
                ticker=t,
                settle=settle,
                order_id=o["id"],
                fill_id=fid,
            )
        if bk.closed:
            d = bk.direction
            entry_value = bk.closed * bk.entry_basis
            conn.execute(
                _TRD.insert().values(
                    account_id=self.account_id,
                    fill_id=fid,
                    ticker=t,
                    direction="compra" if d > 0 else "venda",
                    entry_date=opened_at or _py(time),
                    entry_price=bk.entry_basis,
                    exit_date=_py(time),
                    exit_price=price,
                    shares=bk.closed,
                    entry_value=entry_value,
                    exit_value=bk.closed * price,
                    fees=bk.fee * bk.closed / q,
                    pnl=bk.pnl,
                    day_trade=bk.dt_qty == bk.closed,
                    day_trade_qty=bk.dt_qty,
                    day_trade_pnl=bk.dt_pnl,
                    swing_pnl=bk.sw_pnl,
                    sale_value=bk.sale_value,
                    day_trade_sale_value=bk.dt_sale_value,
                    exit_reason=o["role"]
                    if o["role"] != "entry"
                    else "sinal"
                    if o["source"] != "manual"
                    else "manual",
                )
            )
        if new.qty == 0:
            opened = None
        elif st.qty == 0 or (st.qty > 0) != (new.qty > 0):
            opened = _py(time)
        else:
            opened = opened_at
        vals = dict(
            qty=new.qty,
            avg_price=new.avg,
            realized_pnl=new.realized,
            opened_at=opened,
            day_session=_py(session),
            day_qty=new.day_qty,
            day_avg=new.day_px,
            day_fee=new.day_fee,
            day_fee_rate=new.day_rate,
        )
        if pos_row is None:
            conn.execute(
                _POS.insert().values(
                    account_id=self.account_id, ticker=t, last=price, last_time=_py(time), **vals
                )
            )
        else:
            if pos_row["last"] is None:
                vals["last"] = price
            conn.execute(
                _POS.update()
                .where(_POS.c.account_id == self.account_id, _POS.c.ticker == t)
                .values(**vals)
            )
        # the order
        filled = int(o["filled_qty"]) + q
        avg = ((o["avg_fill_price"] or 0.0) * int(o["filled_qty"]) + price * q) / filled
        status = "executada" if filled >= int(o["qty"]) else "parcial"
        self._set_status(
            conn,
            o,
            status,
            time,
            f"{integer(q)} a {brl(price)}" + (f" ({label})" if label else ""),
            filled_qty=filled,
            avg_fill_price=avg,
            fees=float(o["fees"] or 0.0) + bk.fee,
        )
        write_event(
            conn,
            self.account_id,
            time,
            "fill",
            t,
            {
                "order_id": o["id"],
                "side": o["side"],
                "qty": q,
                "price": price,
                "fees": bk.fee,
                "pnl": bk.pnl,
            },
            f"{_SIDE_PT[o['side']].capitalize()} executada: {what}.",
        )
        return out

    # -- session rollover ---------------------------------------------------------------
    def _rollover(self, conn, acc: dict, time: pd.Timestamp, cfg: Account) -> None:
        """First event of a new session: proventos, splits, borrow, taxes, expiry, day start."""
        session = pd.Timestamp(time).normalize()
        prev = _ts(acc.get("session"))
        if prev is not None and session <= prev:
            return
        if prev is not None:
            self._apply_actions(conn, acc, cfg, prev, session, time)
            self._charge_borrow(conn, acc, cfg, prev, session, time)
            if (session.year, session.month) != (prev.year, prev.month):
                self._book_taxes(conn, session, time)
            # expire day orders / dated validity past
            for r in (
                conn.execute(
                    select(_ORD).where(
                        _ORD.c.account_id == self.account_id,
                        _ORD.c.status.in_(OPEN_STATUSES),
                        _ORD.c.role == "entry",
                    )
                )
                .mappings()
                .all()
            ):
                self._expired(
                    conn, dict(r), order_session(time) if time != session else session, time
                )
        snap, _ = self._snapshot(conn, acc)
        acc["session"] = _py(session)
        acc["day_start_equity"] = snap.equity
        conn.execute(
            _ACC.update()
            .where(_ACC.c.id == self.account_id)
            .values(session=acc["session"], day_start_equity=snap.equity)
        )

    def _apply_actions(self, conn, acc, cfg, prev, session, time) -> None:
        from core.data.actions import load_actions

        pos = {t: p for t, p in self._pos_rows(conn).items() if int(p["qty"]) != 0}
        if not pos:
            return
        acts = load_actions(self.store, list(pos), conn=conn)
        if acts.empty:
            return
        acts = acts[(acts["date"] > prev) & (acts["date"] <= session)]
        wht = cfg.engine.jcp_withholding
        for a in acts.itertuples(index=False):
            p = pos.get(a.ticker)
            if p is None:
                continue
            q = int(p["qty"])
            d = 1 if q > 0 else -1
            when = pd.Timestamp(a.date)
            if a.kind == "dividend":
                amt = abs(q) * float(a.value)
                self._ledger(
                    conn,
                    time,
                    "dividend",
                    d * amt,
                    f"Dividendos {a.ticker}: {integer(abs(q))} × {brl(a.value, 4)} (ex {fmt_date(when)})"
                    + (" — pagos pelo vendido" if d < 0 else ""),
                    ticker=a.ticker,
                    ref=f"{a.ticker}:{when.date()}",
                )
            elif a.kind == "jcp":
                gross = abs(q) * float(a.value)
                self._ledger(
                    conn,
                    time,
                    "jcp",
                    d * gross,
                    f"JCP {a.ticker}: {integer(abs(q))} × {brl(a.value, 4)} (ex {fmt_date(when)})",
                    ticker=a.ticker,
                    ref=f"{a.ticker}:{when.date()}",
                )
                if d > 0:
                    self._ledger(
                        conn,
                        time,
                        "tax",
                        -gross * wht,
                        f"IRRF {pct(wht, 0)} sobre JCP {a.ticker}",
                        ticker=a.ticker,
                        ref=f"jcp:{a.ticker}:{when.date()}",
                    )
                else:
                    self._ledger(
                        conn,
                        time,
                        "jcp",
                        gross * wht,
                        f"IRRF do JCP {a.ticker} (vendido paga o líquido)",
                        ticker=a.ticker,
                    )
            else:  # split, reverse_split, bonus: shares after / before
                r = float(a.value)
                if r <= 0 or r == 1.0:
                    continue
                newq = abs(q) * r
                whole = max(1, math.floor(newq + 1e-9))
                frac = newq - whole
                last = p["last"]
                if frac > 1e-9 and last is not None:
                    self._ledger(
                        conn,
                        time,
                        "dividend",
                        d * frac * float(last) / r,
                        f"Frações de {a.ticker} vendidas no evento (ex {fmt_date(when)})",
                        ticker=a.ticker,
                    )
                avg = float(p["avg_price"]) * abs(q) / whole
                vals = {"qty": d * whole, "avg_price": avg}
                if last is not None:
                    vals["last"] = float(last) / r
                conn.execute(
                    _POS.update()
                    .where(_POS.c.account_id == self.account_id, _POS.c.ticker == a.ticker)
                    .values(**vals)
                )
                p.update(vals)
                for o in (
                    conn.execute(
                        select(_ORD).where(
                            _ORD.c.account_id == self.account_id,
                            _ORD.c.ticker == a.ticker,
                            _ORD.c.status.in_(OPEN_STATUSES),
                        )
                    )
                    .mappings()
                    .all()
                ):
                    ch = {
                        k: round(float(o[k]) / r, 2)
                        for k in ("price", "stop_price", "stop_loss", "target")
                        if o[k] is not None
                    }
                    ch["qty"] = max(int(o["filled_qty"]) + 1, int(round(int(o["qty"]) * r)))
                    conn.execute(_ORD.update().where(_ORD.c.id == o["id"]).values(**ch))
                    self._order_event(
                        conn,
                        o["id"],
                        time,
                        o["status"],
                        f"ajustada pelo evento {a.kind} de {a.ticker} (fator {r:g})",
                    )

    def _charge_borrow(self, conn, acc, cfg, prev, session, time) -> None:
        shorts = {t: p for t, p in self._pos_rows(conn).items() if int(p["qty"]) < 0}
        if not shorts:
            return
        from core.data.calendar import b3_sessions

        n = max(1, len(b3_sessions(prev + pd.Timedelta(days=1), session)))
        for t, p in shorts.items():
            last = float(p["last"] if p["last"] is not None else p["avg_price"])
            fee = cfg.engine.costs.borrow_cost(-int(p["qty"]) * last, n)
            self._ledger(
                conn,
                time,
                "borrow",
                -fee,
                f"Aluguel (BTC) de {integer(-int(p['qty']))} {t}, {n} pregão(ões)",
                ticker=t,
            )

    def _book_taxes(self, conn, session, time) -> None:
        """Debit the DARF and withholding of every month before ``session`` not yet booked."""
        from core.backtest.taxes import tax_report

        rows = (
            conn.execute(select(_TRD).where(_TRD.c.account_id == self.account_id)).mappings().all()
        )
        if not rows:
            return
        df = pd.DataFrame([dict(r) for r in rows])
        kinds = {}
        for t in df["ticker"].unique():
            try:
                kinds[t] = self._instrument(t, conn)["kind"]
            except UnknownTickerError:
                kinds[t] = "stock"
        rep = tax_report(df, None, kinds)
        booked = {
            r[0]
            for r in conn.execute(
                select(_LED.c.ref).where(
                    _LED.c.account_id == self.account_id,
                    _LED.c.kind == "tax",
                    _LED.c.ref.like("darf:%"),
                )
            )
        }
        cur = pd.Period(session, freq="M")
        for r in rep.itertuples(index=False):
            m = pd.Period(r.month, freq="M")
            if m >= cur:
                continue
            ref = f"darf:{m}"
            if ref in booked:
                continue
            amt = float(r.darf) + float(r.withheld)
            self._ledger(
                conn,
                time,
                "tax",
                -amt,
                f"IR {m.strftime('%m/%Y')}: DARF {brl(r.darf)} + IRRF {brl(r.withheld)}",
                ref=ref,
            )
            if amt == 0:  # keep a marker so the month is not recomputed
                conn.execute(
                    _LED.insert().values(
                        account_id=self.account_id,
                        time=_py(time),
                        settle_date=_py(session),
                        kind="tax",
                        ticker=None,
                        amount=0.0,
                        balance=self._cash(conn),
                        ref=ref,
                        description=f"IR {m.strftime('%m/%Y')}: nada a pagar",
                    )
                )

    # -- risk after trades --------------------------------------------------------------
    def _post_checks(self, conn, acc, cfg, time) -> None:
        snap, _ = self._snapshot(conn, acc)
        vals = {}
        if snap.peak_equity > float(acc["peak_equity"] or 0):
            vals["peak_equity"] = snap.peak_equity
            acc["peak_equity"] = snap.peak_equity
        rules = cfg.risk
        if (
            rules.max_drawdown_pct is not None
            and not acc["blocked"]
            and snap.drawdown_pct >= rules.max_drawdown_pct
        ):
            msg = (
                f"Drawdown de {pct(snap.drawdown_pct)} atingiu o limite de {pct(rules.max_drawdown_pct)} "
                f"(patrimônio {brl(snap.equity)}, pico {brl(snap.peak_equity)}): posições zeradas e conta bloqueada."
            )
            write_event(
                conn,
                self.account_id,
                time,
                "drawdown",
                None,
                {
                    "drawdown_pct": snap.drawdown_pct,
                    "limit": rules.max_drawdown_pct,
                    "equity": snap.equity,
                    "peak_equity": snap.peak_equity,
                },
                msg,
            )
            self._flatten(conn, acc, cfg, time, msg, immediate=False)
        if rules.daily_loss_limit_pct is not None and snap.day_pnl < 0:
            start = snap.equity - snap.day_pnl
            loss = -snap.day_pnl / start if start > 0 else 0.0
            day = pd.Timestamp(time).normalize()
            if loss >= rules.daily_loss_limit_pct and _ts(acc.get("loss_limit_day")) != day:
                write_event(
                    conn,
                    self.account_id,
                    time,
                    "daily_loss_limit",
                    None,
                    {
                        "day_pnl": snap.day_pnl,
                        "loss_pct": loss,
                        "limit": rules.daily_loss_limit_pct,
                    },
                    f"Perda do dia de {brl(-snap.day_pnl)} ({pct(loss)}) atingiu o limite de "
                    f"{pct(rules.daily_loss_limit_pct)}: sem novas entradas hoje.",
                )
                vals["loss_limit_day"] = _py(day)
                acc["loss_limit_day"] = _py(day)
        if vals:
            conn.execute(_ACC.update().where(_ACC.c.id == self.account_id).values(**vals))

    # -- kill switch --------------------------------------------------------------------
    def _flatten(self, conn, acc, cfg, time, reason: str, *, immediate: bool) -> list[int]:
        for r in (
            conn.execute(
                select(_ORD).where(
                    _ORD.c.account_id == self.account_id, _ORD.c.status.in_(OPEN_STATUSES)
                )
            )
            .mappings()
            .all()
        ):
            self._set_status(conn, dict(r), "cancelada", time, "kill switch", reason="kill switch")
        ids = []
        session = order_session(time)
        for t, p in self._pos_rows(conn).items():
            q = int(p["qty"])
            if q == 0:
                continue
            res = conn.execute(
                _ORD.insert().values(
                    account_id=self.account_id,
                    client_id=None,
                    ticker=t,
                    side="sell" if q > 0 else "buy",
                    type="market",
                    qty=abs(q),
                    filled_qty=0,
                    price=None,
                    stop_price=None,
                    stop_loss=None,
                    target=None,
                    tif="gtc",
                    status="aceita",
                    reason="kill switch",
                    parent_id=None,
                    oco_group=None,
                    role="entry",
                    triggered=False,
                    fractional=True,
                    avg_fill_price=None,
                    fees=0.0,
                    session=_py(session),
                    created_at=_py(time),
                    updated_at=_py(time),
                    source="kill_switch",
                    signal_time=None,
                    note=reason[:500],
                )
            )
            oid = int(res.inserted_primary_key[0])
            self._order_event(conn, oid, time, "nova", "zeragem do kill switch")
            self._order_event(conn, oid, time, "aceita", reason)
            ids.append(oid)
        conn.execute(
            _ACC.update()
            .where(_ACC.c.id == self.account_id)
            .values(blocked=True, block_reason=reason[:500])
        )
        acc["blocked"] = True
        acc["block_reason"] = reason
        if immediate:
            for oid in ids:
                o = self._get_order(conn, oid)
                got = self._last_price(o["ticker"], self._pos_rows(conn).get(o["ticker"]))
                if got is None:
                    continue
                bar = {"open": got, "high": got, "low": got, "close": got, "volume": float("inf")}
                self._work_ticker(
                    conn,
                    acc,
                    cfg,
                    o["ticker"],
                    bar,
                    time,
                    label="kill switch: último preço",
                    only=oid,
                )
        return ids

    def kill(self, reason: str = "", *, immediate: bool = True, time=None) -> list[Order]:
        """Kill switch: cancel open orders, flatten every position, block new entries.

        See :func:`core.trading.risk.kill_switch`.
        """
        with self._locked() as (conn, acc):
            cfg = self._config(acc)
            now = pd.Timestamp(time) if time is not None else self._now(acc)
            msg = reason.strip() or "Kill switch manual acionado."
            ids = self._flatten(conn, acc, cfg, now, msg, immediate=immediate)
            write_event(conn, self.account_id, now, "kill_switch", None, {"orders": ids}, msg)
            return [self._to_order(self._get_order(conn, i)) for i in ids]

    def unblock(self) -> None:
        """Lift the block; the peak equity restarts at the current equity."""
        with self._locked() as (conn, acc):
            snap, _ = self._snapshot(conn, acc)
            conn.execute(
                _ACC.update()
                .where(_ACC.c.id == self.account_id)
                .values(blocked=False, block_reason="", peak_equity=snap.equity)
            )


def _dc_replace(obj, **kw):
    from dataclasses import replace as _r

    return _r(obj, **kw)
