"""Pre-trade preview of an order: the verdict the broker would give, without sending it.

The page's order ticket shows, while the trader types, whether the order would pass the
account's risk rules and the cash check, and what it would cost. This module gathers the
same inputs :meth:`core.trading.broker.PaperBroker.submit` gathers (the account snapshot,
the positions, the rules, the reference price, the orders of the session, the pending
entries) and calls the same checks — :func:`core.trading.risk.check` and the broker's cash
check — so the preview and the submission cannot disagree; nothing is written. The broker
checks again on submit (the state may have moved in between).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.backtest.costs import n_orders
from core.errors import InputError
from core.trading import risk as risk_mod
from core.trading.accounts import get_account
from core.trading.broker import OrderRequest, PaperBroker, order_session, split_order

__all__ = ["OrderPreview", "preview_order"]


@dataclass(frozen=True)
class OrderPreview:
    """What an order would do if sent now.

    Attributes
    ----------
    decision : core.trading.risk.RiskDecision
        ``ok`` or the first rule breached (``rule``, pt-BR ``message`` with the numbers);
        the cash check reports as rule ``saldo`` or ``venda_descoberto``.
    ticker : str
        The position's ticker (``PETR4`` for ``PETR4F``).
    qty : int
        Shares.
    round_lot, fractional : int
        Shares routed to the standard book and to the fractional book (ticker + ``F``).
    lot_size : int
        Standard lot of the ticker (100 for stocks).
    price : float
        Reference price in R$ per share: the limit, the trigger or the last traded price.
    last : float or None
        Last traded price known to the account (R$ per share).
    value : float
        ``qty × price`` in R$.
    fees : float
        Estimated costs in R$ (B3 fees and brokerage of the account's cost model, one order
        per book).
    session : pandas.Timestamp
        The session the order would work in (orders outside a session wait for the next).
    """

    decision: risk_mod.RiskDecision
    ticker: str
    qty: int
    round_lot: int
    fractional: int
    lot_size: int
    price: float
    last: float | None
    value: float
    fees: float
    session: pd.Timestamp


def preview_order(store, req: OrderRequest, *, broker: PaperBroker | None = None) -> OrderPreview:
    """Judge ``req`` as :meth:`PaperBroker.submit` would, without writing anything.

    Parameters
    ----------
    store : Store
    req : OrderRequest
        The order (shares > 0, R$ prices on the R$ 0,01 tick).
    broker : PaperBroker, optional
        The account's broker (built from ``req.account`` when omitted).

    Returns
    -------
    OrderPreview

    Raises
    ------
    InputError
        Bad input (unknown account or ticker, quantity, price off the tick, no stored price,
        a lot multiple required): the message names the field, as ``submit`` does.
    """
    broker = broker or PaperBroker(store, req.account)
    v = broker._validate(req)
    ticker, frac_only, lot = broker._resolve(req.ticker)
    acc = get_account(store, broker.name)
    qty = v["qty"]
    if frac_only and qty >= lot:
        raise InputError(
            f"O mercado fracionário ({ticker}F) aceita de 1 a {lot - 1} ações; "
            f"para {qty} use {ticker} (lotes de {lot})."
        )
    if not frac_only and lot > 1 and qty % lot and not acc.engine.sizing.fractional:
        raise InputError(
            f"Quantidade {qty} não é múltiplo do lote padrão de {ticker} ({lot}); "
            "esta conta não usa o mercado fracionário."
        )
    snap = broker.account()
    positions = broker.positions()
    now = snap.time if snap.time is not None else pd.Timestamp.now()
    session = order_session(now)
    pos = next((p for p in positions if p.ticker == ticker), None)
    last = pos.last if pos is not None else None
    if last is None:
        got = broker._last_stored(ticker)
        last = None if got is None else got[0]
    ref = v["price"] if v["price"] is not None else v["stop_price"]
    if ref is None:
        ref = last
    if ref is None:
        raise InputError(f"{ticker} não tem cotação armazenada: importe os dados antes de operar.")
    open_entries = [o for o in broker.orders("open") if o.role == "entry"]
    held = {p.ticker for p in positions if p.qty}
    pending = tuple(o.ticker for o in open_entries if o.ticker not in held)
    orders_today = sum(
        1
        for o in broker.orders()
        if o.role == "entry" and o.session is not None and pd.Timestamp(o.session) == session
    )
    norm = OrderRequest(
        account=broker.name,
        ticker=ticker,
        side=v["side"],
        qty=qty,
        type=v["type"],
        price=v["price"],
        stop_price=v["stop_price"],
        stop_loss=v["stop_loss"],
        target=v["target"],
        tif=v["tif"],
    )
    decision = risk_mod.check(
        snap,
        positions,
        norm,
        rules=acc.risk,
        price=float(ref),
        orders_today=int(orders_today),
        pending_entries=pending,
        now=now,
    )
    if decision.ok:
        row = {"qty": pos.qty} if pos is not None else None
        decision = broker._cash_check(acc, snap, row, v, qty, float(ref), ticker, lot, now)
    whole, frac = (0, qty) if frac_only else split_order(qty, lot)
    value = qty * float(ref)
    fees = acc.engine.costs.fees(value, date=now, orders=n_orders(qty, lot))
    return OrderPreview(
        decision=decision,
        ticker=ticker,
        qty=qty,
        round_lot=whole,
        fractional=frac,
        lot_size=lot,
        price=float(ref),
        last=last,
        value=value,
        fees=float(fees),
        session=session,
    )
