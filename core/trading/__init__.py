"""Paper trading (issue 12): accounts, orders, the paper broker, the risk manager, the cash
ledger and account events.

Modules: :mod:`core.trading.broker` (the interface and :class:`PaperBroker`; its records live
in :mod:`core.trading.records`, its bar work in :mod:`core.trading.execution`, its session
events in :mod:`core.trading.session`), :mod:`core.trading.accounts`,
:mod:`core.trading.risk`, :mod:`core.trading.events`, :mod:`core.trading.b3` (sessions,
settlement, lots, tick), :mod:`core.trading.book` (position arithmetic),
:mod:`core.trading.models` (tables, Alembic 0012). Conventions: :mod:`core.trading.broker`'s docstring and ``docs/TRADING.md``.
"""

from core.trading.accounts import Account, create_account, get_account, list_accounts
from core.trading.broker import (
    AccountSnapshot,
    Broker,
    Fill,
    LedgerEntry,
    Order,
    OrderPreview,
    OrderRequest,
    PaperBroker,
    Position,
)
from core.trading.events import TradingEvent, list_events
from core.trading.risk import RiskDecision, RiskRejected, RiskRules, check, kill_switch

__all__ = [
    "Account",
    "create_account",
    "get_account",
    "list_accounts",
    "AccountSnapshot",
    "Broker",
    "Fill",
    "LedgerEntry",
    "Order",
    "OrderPreview",
    "OrderRequest",
    "PaperBroker",
    "Position",
    "TradingEvent",
    "list_events",
    "RiskDecision",
    "RiskRejected",
    "RiskRules",
    "check",
    "kill_switch",
]
