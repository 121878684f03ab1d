"""Typed records of the trading interface (re-exported by :mod:`core.trading.broker`).

Conventions: quantities whole shares, positive on orders and fills (``side`` says
buy/sell), signed on positions; prices R$ per share; times naive America/Sao_Paulo.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "SIDES",
    "ORDER_TYPES",
    "STATUSES",
    "OPEN_STATUSES",
    "FINAL_STATUSES",
    "SIDE_PT",
    "TYPE_PT",
    "OrderRequest",
    "Order",
    "Fill",
    "Position",
    "AccountSnapshot",
    "LedgerEntry",
    "OrderEvent",
    "OrderPreview",
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
FINAL_STATUSES: tuple[str, ...] = ("executada", "cancelada", "rejeitada", "expirada")
SIDE_PT: dict[str, str] = {"buy": "compra", "sell": "venda"}
TYPE_PT: dict[str, str] = {
    "market": "a mercado",
    "limit": "limitada",
    "stop": "stop",
    "stop_limit": "stop limitada",
}


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


@dataclass(frozen=True)
class OrderPreview:
    """A pre-trade check (:meth:`PaperBroker.preview`): what :meth:`PaperBroker.submit` would
    decide, the B3 lot split and the estimated cost (R$, at the limit/trigger price or the last
    close plus slippage)."""

    ok: bool
    rule: str
    message: str
    ticker: str
    qty: int
    round_lot_qty: int
    fractional_qty: int
    session: pd.Timestamp
    est_price: float
    est_value: float
    est_fees: float
    buying_power: float
