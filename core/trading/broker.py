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
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, case, func, select

from core.backtest.costs import contract_fee, n_orders
from core.errors import InputError, UnknownTickerError
from core.textfmt import brl, integer, num
from core.textfmt import date as fmt_date
from core.trading import risk as risk_mod
from core.trading.accounts import Account, account_from_row, get_account, wall_now
from core.trading.b3 import (
    FUTURES_CLOSE,
    _session_info,
    is_session,
    order_session,
    parse_money,
    parse_tif,
    settle_date,
    split_order,
)
from core.trading.events import write_event
from core.trading.execution import ExecutionMixin
from core.trading.models import (
    PaperAccount,
    PaperEquity,
    PaperFill,
    PaperLedger,
    PaperOrder,
    PaperOrderEvent,
    PaperPosition,
    PaperTrade,
)
from core.trading.records import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    ORDER_TYPES,
    SIDE_PT,
    SIDES,
    STATUSES,
    TYPE_PT,
    AccountSnapshot,
    Fill,
    LedgerEntry,
    Order,
    OrderEvent,
    OrderPreview,
    OrderRequest,
    Position,
)
from core.trading.session import SessionMixin

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
    "OrderPreview",
    "Broker",
    "PaperBroker",
    "order_session",
    "settle_date",
    "split_order",
]

_ACC = PaperAccount.__table__
_ORD = PaperOrder.__table__
_OEV = PaperOrderEvent.__table__
_FIL = PaperFill.__table__
_POS = PaperPosition.__table__
_LED = PaperLedger.__table__
_TRD = PaperTrade.__table__
_EQ = PaperEquity.__table__

# Hot statements built once (bind parameters): submission and bar work run them every time.
_AID: Any = bindparam("aid")
_Q_ACC = select(_ACC).where(_ACC.c.id == _AID)
_Q_ACC_LOCK = _Q_ACC.with_for_update()
_Q_CASH = (
    select(_LED.c.balance).where(_LED.c.account_id == _AID).order_by(_LED.c.id.desc()).limit(1)
)
_Q_ORDER = select(_ORD).where(_ORD.c.id == bindparam("oid"), _ORD.c.account_id == _AID)
_Q_CLIENT = select(_ORD).where(_ORD.c.account_id == _AID, _ORD.c.client_id == bindparam("cid"))
_Q_POS = select(_POS).where(_POS.c.account_id == _AID)
_Q_TODAY = select(func.count()).where(
    _ORD.c.account_id == _AID, _ORD.c.session == bindparam("session"), _ORD.c.role == "entry"
)
_REM = _ORD.c.qty - _ORD.c.filled_qty
_PX = func.coalesce(_ORD.c.price, _ORD.c.stop_price)
_Q_BOOK = (
    select(
        _ORD.c.ticker,
        _ORD.c.side,
        func.sum(_REM),
        func.sum(_REM * func.coalesce(_PX, 0.0)),
        func.sum(case((_PX.is_(None), _REM), else_=0)),
    )
    .where(
        _ORD.c.account_id == _AID,
        _ORD.c.status.in_(("aceita", "parcial")),
        _ORD.c.role == "entry",
        _ORD.c.id != bindparam("exclude"),
    )
    .group_by(_ORD.c.ticker, _ORD.c.side)
)
# Writes built once too: executing a prebuilt INSERT/UPDATE with a parameter dict skips
# SQLAlchemy's per-call ``.values()`` coercion and cache-key generation (most of the CPU
# time of a submission before).
_INS_ORD = _ORD.insert()
_INS_OEV = _OEV.insert()
_INS_LED = _LED.insert()
_UPD_ORD = _ORD.update().where(_ORD.c.id == bindparam("oid_"))
_UPD_VERSION = _ACC.update().where(_ACC.c.id == _AID).values(version=bindparam("version_"))
_Q_LAST: Any = None  # last stored daily close of several tickers (built on first use)
#: The ``paper_accounts`` columns :func:`account_from_row` reads (the settings' memo key).
_CONFIG_KEYS = (
    "id",
    "name",
    "owner",
    "initial_cash",
    "costs",
    "engine",
    "risk",
    "created_at",
    "blocked",
    "block_reason",
)
# Bar work (:meth:`PaperBroker.on_bars`, once per replayed bar) and the reads after it.
_Q_LIVE = (
    select(_ORD.c.ticker)
    .where(_ORD.c.account_id == _AID, _ORD.c.status.in_(("aceita", "parcial")))
    .distinct()
)
_UPD_MARK = (
    _POS.update()
    .where(_POS.c.account_id == _AID, _POS.c.ticker == bindparam("t_"))
    .values(last=bindparam("last_"), last_time=bindparam("last_time_"))
)
_UPD_CLOCK = (
    _ACC.update()
    .where(_ACC.c.id == _AID)
    .values(clock=bindparam("clock_"), version=bindparam("version_"))
)
_Q_CLOCK = select(_ACC.c.clock).where(_ACC.c.id == _AID)
_Q_AVAIL = select(func.coalesce(func.sum(_LED.c.amount), 0.0)).where(
    _LED.c.account_id == _AID, _LED.c.settle_date <= bindparam("today")
)


def _q_last():
    """(ticker, close, date) of the newest daily bar of each ticker in ``:ts`` (one query;
    the correlated ``max(date)`` walks the bars' primary key)."""
    global _Q_LAST
    if _Q_LAST is None:
        from core.data.models import Bar, Instrument

        bt, it = Bar.__table__, Instrument.__table__
        b2 = bt.alias("b2")
        newest = (
            select(func.max(b2.c.date))
            .where(b2.c.instrument_id == bt.c.instrument_id, b2.c.interval == "1d")
            .scalar_subquery()
        )
        _Q_LAST = (
            select(it.c.ticker, bt.c.close, bt.c.date)
            .join(it, it.c.id == bt.c.instrument_id)
            .where(
                it.c.ticker.in_(bindparam("ts", expanding=True)),
                bt.c.interval == "1d",
                bt.c.date == newest,
            )
        )
    return _Q_LAST


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
class PaperBroker(ExecutionMixin, SessionMixin):
    """A simulated broker persisted in the store (implements :class:`Broker`).

    Parameters
    ----------
    store : Store
    account : str
        Account name (:func:`core.trading.accounts.create_account`).
    clock : callable, optional
        Returns the current time (naive São Paulo); default the account's market clock (the
        newest bar or mark seen) or, before any, the wall clock.
    owner : str, optional
        Only an account of this user (team mode; None: any account).

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

    def __init__(self, store, account: str, *, clock=None, owner: str | None = None) -> None:
        acc = get_account(store, account, owner, write=True)
        self.store = store
        self.name = acc.name
        self.account_id = acc.id
        self._clock = clock
        self._instr: dict[str, dict] = {}
        self._engine = acc.engine
        self._futs: dict[str, Any] = {}
        self._slip = acc.engine.costs.slippage_bps / 10_000.0
        self._memo: dict | None = None
        self._cur: Any = None
        self._want: set[str] = set()  # tickers whose last stored close an operation needs
        # Within one locked operation: the account's position rows and cash balance as last
        # read, dropped by every write to them (:meth:`_positions_written`, :meth:`_ledger`).
        # A bar's rollover, fills, marks and checks read them several times each.
        self._pos_memo: dict[str, dict] | None = None
        self._cash_memo: float | None = None
        #: ``(time, equity, cash, {ticker: signed qty})`` of the account as the last
        #: :meth:`on_bars` of this object committed it; None once any other operation of
        #: this object starts (a runner reads it instead of a new snapshot after each bar).
        self.bar_state: tuple | None = None

    # -- plumbing -----------------------------------------------------------------------
    @contextmanager
    def _transaction(self, durable: bool = True):
        """The broker's write transaction (SQLite: ``BEGIN IMMEDIATE``; WAL journal).

        On a SQLite file the commit's ``synchronous`` level is set per transaction:

        * ``durable=True`` (an order sent, cancelled or modified, a kill switch: anything the
          app confirms to the user) commits with ``synchronous=FULL``. SQLite's documentation
          (PRAGMA synchronous): "WAL mode is always consistent with synchronous=NORMAL, but
          WAL mode does lose durability. A transaction committed in WAL mode with
          synchronous=NORMAL might roll back following a power loss or system crash." and
          "With synchronous=FULL in WAL mode, an additional sync operation of the WAL file
          happens after each transaction commit. The extra WAL sync following each
          transaction help ensure that transactions are durable across a power loss." A
          confirmed order must survive a power cut, so it costs exactly one fsync (the WAL's)
          and nothing more: one order is one transaction.
        * ``durable=False`` (the feed's bars and marks, :meth:`on_bars`, :meth:`mark`, and the
          orders a strategy runner sends, ``source="strategy:<name>"``, with client ids derived
          from the bar) commits with ``synchronous=NORMAL``: "Transactions are durable
          across application crashes regardless of the synchronous setting or journal
          mode", so ``kill -9`` loses nothing; a power loss may roll back the last bars, and with them the account's
          clock, so the feed delivers those bars again on resume and the runner re-sends the
          same orders (same client ids); a runner's bar, worked together with the runner's
          rows of the bar (``on_bars(then=...)``), commits FULL, which makes every earlier
          WAL frame durable anyway before the next bar. A replay thus pays one fsync per
          bar, not one per order.

        The connection's previous level is restored afterwards (pooled connections keep the
        store's default, FULL).
        """
        eng = self.store.engine
        if eng.dialect.name != "sqlite" or eng.url.database in (None, "", ":memory:"):
            with self.store.transaction() as conn:
                yield conn
            return
        level = 2 if durable else 1  # FULL / NORMAL
        with eng.connect() as conn:
            raw = conn.connection.driver_connection
            before = int(raw.execute("PRAGMA synchronous").fetchone()[0])
            if before != level:
                raw.execute(f"PRAGMA synchronous={level}")
            try:
                conn.execution_options(pregao_write=True)
                with conn.begin():
                    yield conn
            finally:
                if before != level:
                    raw.execute(f"PRAGMA synchronous={before}")

    @contextmanager
    def _locked(self, durable: bool = True):
        """One write transaction with the account row locked; yields (conn, account row).

        ``durable``: see :meth:`_transaction` (False only for feed-driven bar work)."""
        lock = _memory_lock(self.store.engine)
        if lock is not None:
            lock.acquire()
        self._memo = {}
        self.bar_state = None
        try:
            with self._transaction(durable) as conn:
                q = _Q_ACC_LOCK if self.store.dialect == "postgresql" else _Q_ACC
                row = conn.execute(q, {"aid": self.account_id}).mappings().first()
                if row is None:
                    raise InputError(f"Conta {self.name!r} não existe mais.")
                self._cur = conn  # reads inside the operation join its transaction
                self._pos_memo = self._cash_memo = None
                yield conn, dict(row)
        finally:
            self._memo = None
            self._cur = None
            self._pos_memo = self._cash_memo = None
            self._want = set()
            if lock is not None:
                lock.release()

    def _now(self, acc: dict) -> pd.Timestamp:
        if self._clock is not None:
            return pd.Timestamp(self._clock())
        if acc.get("clock") is not None:
            return pd.Timestamp(acc["clock"])
        return wall_now()

    def _config(self, acc: dict) -> Account:
        """The account's settings from its row (memoised on the row's settings: a replay
        asks on every bar, and parsing the engine and risk JSON costs more than the bar)."""
        key = repr([acc.get(k) for k in _CONFIG_KEYS])
        got = self.__dict__.get("_config_memo")
        if got is None or got[0] != key:
            got = self.__dict__["_config_memo"] = (key, account_from_row(acc))
        return got[1]

    def _instrument(self, ticker: str, conn=None) -> dict:
        t = ticker.upper()
        if t not in self._instr:
            self._instr[t] = self.store.instrument(t, conn=conn)
        return self._instr[t]

    def _future(self, ticker: str, conn=None):
        """The :class:`~core.trading.contracts.PaperContract` of a futures ticker (None for
        anything else, an unknown ticker included); memoised per broker."""
        t = (ticker or "").strip().upper()
        if t not in self._futs:
            from core.trading.contracts import paper_contract

            try:
                kind = self._instrument(t, conn)["kind"]
            except UnknownTickerError:
                kind = None
            self._futs[t] = paper_contract(t, kind, self._engine)
        return self._futs[t]

    def _mult(self, ticker: str, conn=None) -> float:
        """R$ per price unit and unit of quantity: the point value of a future, else 1."""
        c = self._future(ticker, conn)
        return 1.0 if c is None else c.point_value

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
        """The account's cash (R$): the balance of its newest ledger row."""
        mine = conn is not None and conn is self._cur
        if mine and self._cash_memo is not None:
            return self._cash_memo
        v = float(conn.execute(_Q_CASH, {"aid": self.account_id}).scalar() or 0.0)
        if mine:
            self._cash_memo = v
        return v

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
        self._cash_memo = None
        conn.execute(
            _INS_LED,
            {
                "account_id": self.account_id,
                "time": _py(time),
                "settle_date": _py(
                    settle if settle is not None else pd.Timestamp(time).normalize()
                ),
                "kind": kind,
                "ticker": ticker,
                "amount": float(amount),
                "balance": float(bal),
                "order_id": order_id,
                "fill_id": fill_id,
                "ref": ref,
                "description": description[:300],
            },
        )
        # the newest ledger row's balance is the cash a re-read would give (Float column:
        # the same double); only this operation's own connection keeps it
        self._cash_memo = float(bal) if conn is not None and conn is self._cur else None

    def _order_event(self, conn, order_id: int, time, status: str, message: str = "") -> None:
        conn.execute(
            _INS_OEV,
            {"order_id": order_id, "time": _py(time), "status": status, "message": message[:500]},
        )

    def _set_status(self, conn, o: dict, status: str, time, message: str = "", **values) -> None:
        conn.execute(
            _UPD_ORD, {"oid_": o["id"], "status": status, "updated_at": _py(time), **values}
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
        r = conn.execute(_Q_ORDER, {"oid": oid, "aid": self.account_id}).mappings().first()
        if r is None:
            raise InputError(f"Ordem {oid} não encontrada na conta {self.name!r}.")
        return dict(r)

    def _pos_rows(self, conn) -> dict[str, dict]:
        """The account's position rows by ticker (each caller gets its own dicts)."""
        mine = conn is not None and conn is self._cur
        if not (mine and self._pos_memo is not None):
            rows = conn.execute(_Q_POS, {"aid": self.account_id}).mappings()
            got = {r["ticker"]: dict(r) for r in rows}
            if not mine:
                return got
            self._pos_memo = got
        return {t: dict(r) for t, r in self._pos_memo.items()}

    def _marked(self, marks: list[dict]) -> None:
        """Apply ``_UPD_MARK``'s rows (just executed) to the position rows read in this
        operation: the values a re-read would give (``last`` a Float, ``last_time`` the
        datetime written), instead of reading every position row again."""
        memo = self._pos_memo
        if memo is None or any(m["t_"] not in memo for m in marks):
            self._positions_written()
            return
        for m in marks:
            memo[m["t_"]]["last"] = m["last_"]
            memo[m["t_"]]["last_time"] = m["last_time_"]

    def _positions_written(self) -> None:
        """Forget the position rows read in this operation (call after writing them)."""
        self._pos_memo = None

    def _last_stored(self, ticker: str, conn=None) -> tuple[float, pd.Timestamp] | None:
        """Last stored daily close of ``ticker`` and its date (memoised per operation); for a
        series stored only intraday (futures), its newest bar's close and time."""
        t = ticker.upper()
        memo = getattr(self, "_memo", None)
        if memo is not None and t in memo:
            return memo[t]
        # the other tickers this operation will ask for (:meth:`_reserved`) come along
        want = {t} | ({w for w in self._want if w not in memo} if memo is not None else set())
        with self.store._read(conn if conn is not None else getattr(self, "_cur", None)) as c:
            rows = c.execute(_q_last(), {"ts": sorted(want)}).all()
            found = {r[0]: (float(r[1]), pd.Timestamp(r[2])) for r in rows}
            if t not in found:  # an intraday-only series (WINFUT): its newest bar of any interval
                from core.data.models import Bar, Instrument

                b, i = Bar.__table__.c, Instrument.__table__.c
                row = c.execute(
                    select(b.close, b.date)
                    .join(Instrument.__table__, i.id == b.instrument_id)
                    .where(i.ticker == t)
                    .order_by(b.date.desc())
                    .limit(1)
                ).first()
                if row is not None:
                    found[t] = (float(row[0]), pd.Timestamp(row[1]))
        if memo is not None:
            for w in want:
                memo[w] = found.get(w)
        return found.get(t)

    def _last_price(self, ticker: str, pos: dict | None) -> float | None:
        if pos is not None and pos.get("last") is not None:
            return float(pos["last"])
        got = self._last_stored(ticker)
        return None if got is None else got[0]

    # -- snapshot -------------------------------------------------------------------------
    def _snapshot(
        self, conn, acc: dict, pos_rows: dict | None = None, book=None, *, settled: bool = True
    ) -> tuple[AccountSnapshot, list[Position]]:
        pos_rows = self._pos_rows(conn) if pos_rows is None else pos_rows
        now = self._now(acc)
        cash = self._cash(conn)
        today = now.normalize()
        avail = (
            conn.execute(_Q_AVAIL, {"aid": self.account_id, "today": _py(today)}).scalar()
            if settled
            else float("nan")
        )
        positions = []
        value = gross = unreal = real = short_val = margin = 0.0
        for t, p in sorted(pos_rows.items()):
            real += float(p["realized_pnl"] or 0.0)
            q = int(p["qty"])
            if q == 0:
                continue
            last = p["last"]
            if last is None:
                last = p["avg_price"]
            fut = self._future(t, conn)
            m = 1.0 if fut is None else fut.point_value
            mv = q * float(last) * m
            u = q * (float(last) - float(p["avg_price"])) * m
            gross += abs(mv)
            unreal += u
            if fut is not None:
                # futures: no notional paid; the equity holds the open result (from the
                # average fill, the entry fees being paid) and the margin is blocked
                value += q * (float(last) - float(p["avg_fill"] or p["avg_price"])) * m
                margin += abs(q) * fut.margin
                mv = q * float(last) * m  # notional exposure (R$)
            else:
                value += mv
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
        reserve = self._reserved(conn, pos_rows, book=book)
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
            buying_power=cash - 2.0 * short_val - reserve - margin,
        )
        return snap, positions

    def _equity(self, conn, acc: dict, full: bool = False):
        """(equity, peak, drawdown) from the cash and the positions' last prices (2 queries);
        with ``full`` also (cash, gross exposure)."""
        cash = self._cash(conn)
        value = gross = 0.0
        for t, p in self._pos_rows(conn).items():
            q = int(p["qty"])
            if q:
                last = float(p["last"] if p["last"] is not None else p["avg_price"])
                fut = self._future(t, conn)
                if fut is not None:  # futures: open result only (see _snapshot)
                    base = float(p["avg_fill"] or p["avg_price"])
                    value += q * (last - base) * fut.point_value
                    gross += abs(q * last * fut.point_value)
                    continue
                v = q * last
                value += v
                gross += abs(v)
        eq = cash + value
        peak = max(float(acc["peak_equity"] or eq), eq)
        dd = max(0.0, 1.0 - eq / peak) if peak > 0 else 0.0
        return (eq, peak, dd, cash, gross) if full else (eq, peak, dd)

    def _ref_price(self, o: dict, pos_rows: dict) -> float | None:
        if o["type"] in ("limit", "stop_limit") and o["price"]:
            return float(o["price"])
        if o["type"] == "stop" and o["stop_price"]:
            return float(o["stop_price"])
        return self._last_price(o["ticker"], pos_rows.get(o["ticker"]))

    def _open_book(self, conn, exclude: int | None = None) -> list[tuple]:
        """Open entry orders aggregated per (ticker, side): remaining shares, R$ value of the
        priced ones (limit or trigger price) and shares of the unpriced (market) ones."""
        params = {"aid": self.account_id, "exclude": -1 if exclude is None else int(exclude)}
        return [tuple(r) for r in conn.execute(_Q_BOOK, params)]

    def _reserved(self, conn, pos_rows: dict, exclude: int | None = None, book=None) -> float:
        """R$ reserved by open entry orders for the shares they would open (a buy beyond a
        short's cover, a sell beyond the long held: twice the value, proceeds + collateral)."""
        book = self._open_book(conn, exclude) if book is None else book
        self._want = {
            t
            for t, _s, rem, _v, rem_mkt in book
            if rem_mkt and int(rem or 0) > 0 and (pos_rows.get(t) or {}).get("last") is None
        }
        total = 0.0
        for t, side, rem, value, rem_mkt in book:
            rem = int(rem or 0)
            if rem <= 0:
                continue
            p = pos_rows.get(t)
            q = int(p["qty"]) if p else 0
            sign = 1 if side == "buy" else -1
            opening = rem if q * sign >= 0 else max(0, rem - abs(q))
            fut = self._future(t, conn)
            if fut is not None:  # futures: the margin of the contracts it would open
                total += opening * (fut.margin + fut.fee_regular)
                continue
            value = float(value or 0.0)
            last = self._last_price(t, p) if rem_mkt else None
            if rem_mkt:
                value += int(rem_mkt) * (last or 0.0)
            if opening > 0:
                total += value * opening / rem * (2.0 if sign < 0 else 1.0)
            if sign < 0 and q > 0 and rem_mkt:
                # market sales of a long fill at the next open, before entries (the engine's
                # order): their proceeds count as buying power for orders sent meanwhile
                closing = min(int(rem_mkt), q)
                total -= closing * (last or 0.0) * (1 - self._slip)
        return total

    # -- public reads ---------------------------------------------------------------------
    @property
    def clock(self) -> pd.Timestamp | None:
        """The newest bar or mark time the account has processed (None before any): where a
        runner resumes after a restart."""
        with self.store.engine.connect() as conn:
            v = conn.execute(_Q_CLOCK, {"aid": self.account_id}).scalar()
        return _ts(v)

    def account(self) -> AccountSnapshot:
        """The account's cash, equity, P&L and drawdown now (see :class:`AccountSnapshot`)."""
        with self.store.engine.connect() as conn:
            acc = dict(conn.execute(_Q_ACC, {"aid": self.account_id}).mappings().first())
            return self._snapshot(conn, acc)[0]

    def positions(self) -> list[Position]:
        """Open positions (signed ``qty``), by ticker."""
        with self.store.engine.connect() as conn:
            acc = dict(conn.execute(_Q_ACC, {"aid": self.account_id}).mappings().first())
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
        price = parse_money("Preço limite", req.price)
        stop = parse_money("Preço de disparo (stop)", req.stop_price)
        sl = parse_money("Stop-loss", req.stop_loss)
        tg = parse_money("Alvo", req.target)
        if typ in ("limit", "stop_limit") and price is None:
            raise InputError(f"Ordem {TYPE_PT[typ]} precisa de preço limite (--price).")
        if typ in ("stop", "stop_limit") and stop is None:
            raise InputError(f"Ordem {TYPE_PT[typ]} precisa de preço de disparo (--stop).")
        if typ in ("market", "stop") and price is not None:
            raise InputError(
                f"Ordem {TYPE_PT[typ]} não leva preço limite; use type=limit ou stop_limit."
            )
        if typ in ("market", "limit") and stop is not None:
            raise InputError(
                f"Ordem {TYPE_PT[typ]} não leva preço de disparo; use type=stop ou stop_limit."
            )
        s = 1 if side == "buy" else -1
        ref = price if price is not None else stop
        if sl is not None and tg is not None and (tg - sl) * s <= 0:
            raise InputError(
                f"Bracket incoerente: numa {SIDE_PT[side]} o stop-loss ({brl(sl)}) deve ficar "
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
        fut = self._future(req.ticker)
        if fut is not None:
            for label, x in (
                ("Preço limite", price),
                ("Preço de disparo (stop)", stop),
                ("Stop-loss", sl),
                ("Alvo", tg),
            ):
                if x is not None and not fut.on_tick(x):
                    raise InputError(
                        f"{label} {num(x)} fora do tick de {fut.tick_text} pontos de "
                        f"{fut.ticker}: use um múltiplo de {fut.tick_text}."
                    )
        tif = parse_tif(req.tif)
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

    def _evaluate(self, conn, acc, v: dict, ticker: str, frac_only: bool, lot: int, *, roll: bool):
        """Lots, validity, risk rules and cash for a validated order (no order row written)."""
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
        if roll:
            self._rollover(conn, acc, now, cfg)
        fut_close = FUTURES_CLOSE if self._future(ticker, conn) is not None else None
        session = order_session(now, fut_close)
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
        book = self._open_book(conn)
        snap, positions = self._snapshot(conn, acc, pos_rows, book, settled=False)
        pos = pos_rows.get(ticker)
        ref = v["price"] if v["price"] is not None else v["stop_price"]
        if ref is None:
            ref = self._last_price(ticker, pos)
        if ref is None:
            raise InputError(
                f"{ticker} não tem cotação armazenada: importe os dados antes de operar."
            )
        orders_today = conn.execute(
            _Q_TODAY, {"aid": self.account_id, "session": _py(session)}
        ).scalar()
        pending = tuple({r[0] for r in book if not (pos_rows.get(r[0]) and pos_rows[r[0]]["qty"])})
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
            price=float(ref) * self._mult(ticker, conn),
            orders_today=int(orders_today or 0),
            pending_entries=pending,
            now=now,
        )
        if decision.ok:
            decision = self._cash_check(cfg, snap, pos, v, qty, float(ref), ticker, lot, now)
        return cfg, qty, now, session, tif, float(ref), decision

    def preview(self, req: OrderRequest) -> OrderPreview:
        """Pre-trade check of an order without sending it (the order ticket's preview).

        Runs the same validation, lot split, risk rules and cash check as :meth:`submit` and
        writes nothing.

        Returns
        -------
        OrderPreview

        Raises
        ------
        InputError
            Bad input, as :meth:`submit`.
        """
        v = self._validate(req)
        ticker, frac_only, lot = self._resolve(req.ticker)
        with self.store.engine.connect() as conn:
            acc = dict(conn.execute(_Q_ACC, {"aid": self.account_id}).mappings().first())
            self._memo = {}
            self._cur = conn
            try:
                cfg, qty, now, session, tif, ref, decision = self._evaluate(
                    conn, acc, v, ticker, frac_only, lot, roll=False
                )
                snap = self._snapshot(conn, acc)[0]
            finally:
                self._memo = None
                self._cur = None
                self._want = set()
        costs = cfg.engine.costs
        s = 1 if v["side"] == "buy" else -1
        fut = self._future(ticker)
        px = (
            ref * (1 + s * costs.slippage_bps / 10_000.0)
            if v["type"] in ("market", "stop")
            else ref
        )
        whole, frac = (0, qty) if frac_only else split_order(qty, lot)
        fee = costs.fees(qty * px, date=now, orders=(1 if frac_only else n_orders(qty, lot)))
        value = qty * px
        if fut is not None:  # points with the tick slippage; notional and fees in R$
            px = ref + s * fut.slippage if v["type"] in ("market", "stop") else ref
            fee = contract_fee(qty, fut.fee_regular, 0.0)
            value = qty * px * fut.point_value
        return OrderPreview(
            ok=decision.ok,
            rule=decision.rule,
            message=decision.message,
            ticker=ticker,
            qty=qty,
            round_lot_qty=whole,
            fractional_qty=frac,
            session=session,
            est_price=px,
            est_value=value,
            est_fees=fee,
            buying_power=snap.buying_power,
        )

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
        # a runner's order ("strategy:<name>") is made durable by the runner's own commit of
        # its bar, which follows (see _transaction); everything else is confirmed here
        durable = not str(req.source or "").startswith("strategy:")
        with self._locked(durable) as (conn, acc):
            if v["client_id"] is not None:
                got = (
                    conn.execute(_Q_CLIENT, {"aid": self.account_id, "cid": v["client_id"]})
                    .mappings()
                    .first()
                )
                if got is not None:
                    return self._to_order(got)
            cfg, qty, now, session, tif, ref, decision = self._evaluate(
                conn, acc, v, ticker, frac_only, lot, roll=True
            )
            status = "aceita" if decision.ok else "rejeitada"
            reason = "" if decision.ok else decision.message
            oco = uuid.uuid4().hex[:16] if (v["stop_loss"] or v["target"]) else None
            if not decision.ok:
                oco = None
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
            row = {
                **base,
                "client_id": v["client_id"],
                "side": v["side"],
                "type": v["type"],
                "qty": qty,
                "price": v["price"],
                "stop_price": v["stop_price"],
                "stop_loss": v["stop_loss"],
                "target": v["target"],
                "status": status,
                "reason": reason,
                "parent_id": None,
                "role": "entry",
                "oco_group": oco,
            }
            res = conn.execute(_INS_ORD, row)
            oid = int(res.inserted_primary_key[0])
            row["id"] = oid
            desc = (
                f"{SIDE_PT[v['side']]} {integer(qty)} {ticker}{'F' if frac_only else ''} "
                f"{TYPE_PT[v['type']]}"
            )
            if not frac_only:
                whole, frac = split_order(qty, lot)
                if whole and frac:
                    desc += f" ({integer(whole)} em {ticker} + {integer(frac)} em {ticker}F)"
            conn.execute(
                _INS_OEV,
                [
                    {"order_id": oid, "time": _py(now), "status": "nova", "message": desc[:500]},
                    {
                        "order_id": oid,
                        "time": _py(now),
                        "status": status,
                        "message": (reason or f"sessão {fmt_date(session)}")[:500],
                    },
                ],
            )
            if oco:
                child = {**base, "oco_group": oco, "client_id": None, "parent_id": oid, "qty": qty}
                other = "sell" if v["side"] == "buy" else "buy"
                for role, typ, price, stop in (
                    ("stop", "stop", None, v["stop_loss"]),
                    ("target", "limit", v["target"], None),
                ):
                    if (role == "stop" and stop is None) or (role == "target" and price is None):
                        continue
                    r2 = conn.execute(
                        _INS_ORD,
                        {
                            **child,
                            "tif": "gtc",
                            "side": other,
                            "type": typ,
                            "price": price,
                            "stop_price": stop,
                            "stop_loss": None,
                            "target": None,
                            "status": "nova",
                            "reason": "",
                            "role": role,
                        },
                    )
                    self._order_event(
                        conn,
                        int(r2.inserted_primary_key[0]),
                        now,
                        "nova",
                        f"{role} do bracket da ordem {oid}",
                    )
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
            conn.execute(_UPD_VERSION, {"aid": self.account_id, "version_": acc["version"] + 1})
            out = self._to_order(row)  # exactly the row written (no read-back)
        if rejected is not None:
            raise rejected
        return out

    def _cash_check(self, cfg, snap, pos, v, qty, ref, ticker, lot, now) -> risk_mod.RiskDecision:
        cur = int(pos["qty"]) if pos else 0
        s = 1 if v["side"] == "buy" else -1
        opening = qty if cur * s >= 0 else max(0, qty - abs(cur))
        if opening == 0:
            return risk_mod.RiskDecision(True)
        fut = self._future(ticker)
        if s < 0 and not cfg.engine.allow_short and fut is None:  # futures: sold freely
            held = max(cur, 0)
            return risk_mod.RiskDecision(
                False,
                "venda_descoberto",
                f"Ordem rejeitada: venda de {integer(qty)} {ticker} com {integer(held)} em carteira; "
                "esta conta não permite venda a descoberto.",
            )
        if fut is not None:  # futures: margin + fees per contract (the engine's entry rule)
            need = opening * fut.margin + contract_fee(opening, fut.fee_regular, 0.0)
            free = snap.buying_power
            if need > free + 1e-6:
                return risk_mod.RiskDecision(
                    False,
                    "saldo",
                    f"Ordem rejeitada pela regra '{risk_mod.RULE_LABELS['saldo']}': "
                    f"{integer(opening)} contrato(s) de {ticker} precisam de {brl(need)} "
                    f"(margem de {brl(fut.margin)} por contrato + taxas) e o caixa livre é "
                    f"{brl(free)}.",
                )
            return risk_mod.RiskDecision(True)
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
            if o["status"] in FINAL_STATUSES:
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
                    raise InputError(f"Ordem {TYPE_PT[o['type']]} não tem preço limite.")
                changes["price"] = parse_money("Preço limite", price)
                msg.append(f"preço {brl(o['price'])} → {brl(changes['price'])}")
            if stop_price is not None:
                if o["type"] not in ("stop", "stop_limit"):
                    raise InputError(f"Ordem {TYPE_PT[o['type']]} não tem preço de disparo.")
                changes["stop_price"] = parse_money("Preço de disparo (stop)", stop_price)
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
        return self.on_bars({ticker: bar}, time)

    def on_bars(
        self,
        bars,
        time,
        *,
        after_clock: bool = False,
        then: Callable[[Any, tuple, list[Fill]], None] | None = None,
    ) -> list[Fill]:
        """:meth:`on_bar` for several tickers' bars of the same ``time`` in one transaction.

        Parameters
        ----------
        bars : mapping ticker -> bar
            Bars as in :meth:`on_bar`, worked in the mapping's order.
        time : datetime-like
        after_clock : bool
            Work the bars only when ``time`` is after the account's :attr:`clock`, judged
            in the bar's own transaction (a runner resuming after a crash: a bar already
            worked is never worked twice). Otherwise nothing is written, ``[]`` is
            returned and :attr:`bar_state` stays ``None``. This saves the runner a
            separate read of the clock per bar.
        then : callable, optional
            ``then(conn, state, fills)``, called after the bar's work inside its
            transaction with the connection, the state :attr:`bar_state` will hold and the
            bar's fills: a runner writes its own rows of the bar there, so that the bar and
            its record commit together. The transaction then commits durably (SQLite
            ``synchronous=FULL``, see :meth:`_transaction`): one durable commit per bar,
            instead of the bar's plus the runner's. An exception in ``then`` rolls the
            whole bar back.

        Returns
        -------
        list of Fill
        """
        time = pd.Timestamp(time)
        if not is_session(time):
            raise InputError(
                f"{fmt_date(time)} não é pregão da B3: uma barra nunca cai em feriado ou fim de "
                "semana (confira os dados do feed)."
            )
        work = []
        for ticker, bar in bars.items():
            b = {k: float(bar[k]) for k in ("open", "high", "low", "close")}
            vol = bar["volume"] if "volume" in bar else float("nan")
            b["volume"] = float(vol) if vol is not None else float("nan")
            work.append((ticker.strip().upper(), b))
        fills: list[Fill] = []
        with self._locked(durable=then is not None) as (conn, acc):
            if after_clock and acc.get("clock") is not None and time <= _ts(acc["clock"]):
                return fills  # worked before (the transaction writes nothing)
            cfg = self._config(acc)
            rolled = self._rollover(conn, acc, time, cfg)
            live = {r[0] for r in conn.execute(_Q_LIVE, {"aid": self.account_id})}
            # the engine's order within a bar: exits at the open for every ticker, then
            # entries at the open, then the intrabar stops and targets
            phase_state: dict = {}
            for phase in ("exit", "entry", "children"):
                for t, b in work:
                    if t in live:
                        fills.extend(
                            self._work_ticker(
                                conn, acc, cfg, t, b, time, label="", phase=phase, state=phase_state
                            )
                        )
            held = {t for t, p in self._pos_rows(conn).items() if int(p["qty"]) != 0}
            marks = [
                {"aid": self.account_id, "t_": t, "last_": b["close"], "last_time_": _py(time)}
                for t, b in work
                if t in held
            ]
            if marks:  # one executemany for every held ticker's close
                conn.execute(_UPD_MARK, marks)
                self._marked(marks)
            self._advance_clock(conn, acc, time)
            if held or fills or rolled:
                self._post_checks(conn, acc, cfg, time)
            eq, _, _, cash, _ = self._equity(conn, acc, full=True)
            qty = {t: int(p["qty"]) for t, p in self._pos_rows(conn).items() if int(p["qty"])}
            state = (time, eq, cash, qty)
            if then is not None:
                then(conn, state, fills)
        self.bar_state = state  # committed
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
        with self._locked(durable=False) as (conn, acc):
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
                self._positions_written()
            self._advance_clock(conn, acc, time)
            self._post_checks(conn, acc, cfg, time)
            return self._snapshot(conn, acc)[0]

    def refresh_marks(self) -> AccountSnapshot:
        """Mark every open position at its last stored close, without moving the clock.

        For accounts traded by hand without a feed: after new bars are imported, positions
        and equity reflect them (the equity curve and the risk checks run as after a mark).
        """
        with self._locked() as (conn, acc):
            cfg = self._config(acc)
            now = self._now(acc)
            for t, p in self._pos_rows(conn).items():
                if int(p["qty"]) == 0:
                    continue
                got = self._last_stored(t)
                if got is not None:
                    conn.execute(
                        _POS.update()
                        .where(_POS.c.account_id == self.account_id, _POS.c.ticker == t)
                        .values(last=got[0], last_time=_py(got[1]))
                    )
                    self._positions_written()
            self._post_checks(conn, acc, cfg, now)
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
            self._positions_written()
            self._post_checks(conn, acc, cfg, now)
            return fills

    def close_day_trades(self, time, tickers: Iterable[str] | None = None) -> list[Fill]:
        """Day-trade flatten: close the open positions now at their last price (the close
        of the bar just worked), as the engine's day-trade mode does at the session's
        flatten bar (:func:`core.backtest.engine.flatten_codes`, reason ``fim do pregão``).

        The positions' open orders (bracket stops and targets, pending entries) are
        cancelled; each position is closed by a market order (source ``day_trade``) filled
        at the last price with the account's slippage and costs.

        Parameters
        ----------
        time : datetime-like
            The flatten bar's time (the fills' time).
        tickers : iterable of str, optional
            Only these tickers (default: every open position).

        Returns
        -------
        list of Fill
        """
        time = pd.Timestamp(time)
        only = None if tickers is None else {t.strip().upper() for t in tickers}
        out: list[Fill] = []
        with self._locked() as (conn, acc):
            cfg = self._config(acc)
            self._rollover(conn, acc, time, cfg)
            held = {
                t: p
                for t, p in self._pos_rows(conn).items()
                if int(p["qty"]) and (only is None or t in only)
            }
            if not held:
                return out
            for r in (
                conn.execute(
                    select(_ORD).where(
                        _ORD.c.account_id == self.account_id,
                        _ORD.c.status.in_(OPEN_STATUSES),
                        _ORD.c.ticker.in_(sorted(held)),
                    )
                )
                .mappings()
                .all()
            ):
                msg = "zeragem do day trade (fim do pregão)"
                self._set_status(conn, dict(r), "cancelada", time, msg, reason=msg)
            for t, p in sorted(held.items()):
                fc = FUTURES_CLOSE if self._future(t, conn) is not None else None
                session = order_session(time, fc)
                q = int(p["qty"])
                px = self._last_price(t, p)
                if px is None:
                    continue
                oid = self._closing_order(
                    conn,
                    t,
                    q,
                    session,
                    time,
                    tif="day",
                    reason="",
                    source="day_trade",
                    note="zeragem do day trade",
                    accepted="fim do pregão",
                )
                bar = {"open": px, "high": px, "low": px, "close": px, "volume": float("inf")}
                out.extend(
                    self._work_ticker(conn, acc, cfg, t, bar, time, label="fim do pregão", only=oid)
                )
            self._post_checks(conn, acc, cfg, time)
        return out

    def _closing_order(
        self,
        conn,
        ticker: str,
        qty: int,
        session: pd.Timestamp,
        time: pd.Timestamp,
        *,
        tif: str,
        reason: str,
        source: str,
        note: str,
        accepted: str,
        created: str | None = None,
    ) -> int:
        """Insert an accepted market order closing a signed position of ``qty`` shares or
        contracts (the day-trade flatten, the kill switch) with its "nova" and "aceita"
        events (``created`` defaults to ``note``); returns the order id."""
        res = conn.execute(
            _ORD.insert().values(
                account_id=self.account_id,
                client_id=None,
                ticker=ticker,
                side="sell" if qty > 0 else "buy",
                type="market",
                qty=abs(qty),
                filled_qty=0,
                price=None,
                stop_price=None,
                stop_loss=None,
                target=None,
                tif=tif,
                status="aceita",
                reason=reason,
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
                source=source,
                signal_time=None,
                note=note,
            )
        )
        oid = int(res.inserted_primary_key[0])
        self._order_event(conn, oid, time, "nova", created or note)
        self._order_event(conn, oid, time, "aceita", accepted)
        return oid

    def _advance_clock(self, conn, acc: dict, time: pd.Timestamp) -> None:
        if acc.get("clock") is None or time > pd.Timestamp(acc["clock"]):
            acc["clock"] = _py(time)
        conn.execute(
            _UPD_CLOCK,
            {"aid": self.account_id, "clock_": acc["clock"], "version_": acc["version"] + 1},
        )
        acc["version"] += 1

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
            oid = self._closing_order(
                conn,
                t,
                q,
                session,
                time,
                tif="gtc",
                reason="kill switch",
                source="kill_switch",
                note=reason[:500],
                accepted=reason,
                created="zeragem do kill switch",
            )
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
