"""MetaTrader 5 broker: the :class:`core.trading.broker.Broker` interface on a real terminal.

Through the ``MetaTrader5`` package (Windows, next to a running terminal) or the ``mt5linux``
bridge (any OS; an rpyc server inside the Windows/Wine terminal's Python), loaded by
:func:`core.data.sources.mt5.load_mt5_module`. Without either, :class:`MT5Broker` raises
:class:`MT5Unavailable` with a pt-BR message saying what to install — it never pretends.

Translation (tested on recorded payloads of the exact shapes the package returns: named
tuples ``TradeOrder``, ``TradePosition``, ``TradeDeal``, ``OrderSendResult``,
``AccountInfo``):

* :class:`OrderRequest` → ``order_send`` request: market orders are ``TRADE_ACTION_DEAL`` at
  the current ask/bid with ``deviation`` points; limit, stop and stop-limit orders are
  ``TRADE_ACTION_PENDING`` (``ORDER_TYPE_BUY_LIMIT`` ... ``ORDER_TYPE_SELL_STOP_LIMIT``, the
  stop-limit's limit in ``stoplimit``); ``stop_loss``/``target`` go to ``sl``/``tp`` (the
  terminal's own OCO); validity day/GTC/date → ``ORDER_TIME_DAY`` / ``ORDER_TIME_GTC`` /
  ``ORDER_TIME_SPECIFIED_DAY``; filling ``ORDER_FILLING_RETURN`` (B3's book); the client id
  rides in ``comment`` (31 characters, MT5's limit) and makes a resubmission return the
  existing order.
* ``orders_get``/``history_orders_get`` → :class:`Order` (``ORDER_STATE_*`` → nova, aceita,
  parcial, executada, cancelada, rejeitada, expirada); ``positions_get`` → :class:`Position`
  (signed ``qty``); ``history_deals_get`` → :class:`Fill` (fees = −(commission + fee));
  ``account_info`` → :class:`AccountSnapshot`.
* Times: MT5 reports seconds since the epoch in the server's clock (UTC by MetaQuotes'
  documentation; some Brazilian brokers use Brasília time: ``server_tz``); they become naive
  America/Sao_Paulo timestamps.

Every order goes through the account's risk rules first (:func:`core.trading.risk.check`),
as on the paper broker.

Connecting a terminal: see docs/TRADING_AUTOMATION.md ("MetaTrader 5").
"""

from __future__ import annotations

import datetime as _dt
import math

import pandas as pd

from core.errors import DataSourceError, InputError
from core.trading.broker import AccountSnapshot, Fill, Order, OrderRequest, Position

__all__ = [
    "MT5Unavailable",
    "MT5Broker",
    "MT5_ORDER_TYPES",
    "MT5_STATES",
    "request_to_mt5",
    "order_from_mt5",
    "position_from_mt5",
    "fill_from_mt5",
    "snapshot_from_mt5",
]

#: (side, type) → MetaTrader 5 ``ORDER_TYPE_*`` constant name.
MT5_ORDER_TYPES: dict[tuple[str, str], str] = {
    ("buy", "market"): "ORDER_TYPE_BUY",
    ("sell", "market"): "ORDER_TYPE_SELL",
    ("buy", "limit"): "ORDER_TYPE_BUY_LIMIT",
    ("sell", "limit"): "ORDER_TYPE_SELL_LIMIT",
    ("buy", "stop"): "ORDER_TYPE_BUY_STOP",
    ("sell", "stop"): "ORDER_TYPE_SELL_STOP",
    ("buy", "stop_limit"): "ORDER_TYPE_BUY_STOP_LIMIT",
    ("sell", "stop_limit"): "ORDER_TYPE_SELL_STOP_LIMIT",
}
#: MetaTrader 5 ``ORDER_TYPE_*`` values (documented constants).
_TYPE_VALUES: dict[str, int] = {
    "ORDER_TYPE_BUY": 0,
    "ORDER_TYPE_SELL": 1,
    "ORDER_TYPE_BUY_LIMIT": 2,
    "ORDER_TYPE_SELL_LIMIT": 3,
    "ORDER_TYPE_BUY_STOP": 4,
    "ORDER_TYPE_SELL_STOP": 5,
    "ORDER_TYPE_BUY_STOP_LIMIT": 6,
    "ORDER_TYPE_SELL_STOP_LIMIT": 7,
}
#: ``ORDER_STATE_*`` value → the contract's status.
MT5_STATES: dict[int, str] = {
    0: "nova",  # STARTED
    1: "aceita",  # PLACED
    2: "cancelada",  # CANCELED
    3: "parcial",  # PARTIAL
    4: "executada",  # FILLED
    5: "rejeitada",  # REJECTED
    6: "expirada",  # EXPIRED
    7: "nova",  # REQUEST_ADD
    8: "aceita",  # REQUEST_MODIFY
    9: "aceita",  # REQUEST_CANCEL
}
# Documented constant values (used when the module lacks the attribute, e.g. tests).
_CONST: dict[str, int] = {
    **_TYPE_VALUES,
    "TRADE_ACTION_DEAL": 1,
    "TRADE_ACTION_PENDING": 5,
    "TRADE_ACTION_SLTP": 6,
    "TRADE_ACTION_MODIFY": 7,
    "TRADE_ACTION_REMOVE": 8,
    "ORDER_TIME_GTC": 0,
    "ORDER_TIME_DAY": 1,
    "ORDER_TIME_SPECIFIED": 2,
    "ORDER_TIME_SPECIFIED_DAY": 3,
    "ORDER_FILLING_FOK": 0,
    "ORDER_FILLING_IOC": 1,
    "ORDER_FILLING_RETURN": 2,
    "TRADE_RETCODE_PLACED": 10008,
    "TRADE_RETCODE_DONE": 10009,
    "TRADE_RETCODE_DONE_PARTIAL": 10010,
    "POSITION_TYPE_BUY": 0,
    "POSITION_TYPE_SELL": 1,
    "DEAL_TYPE_BUY": 0,
    "DEAL_TYPE_SELL": 1,
}
_OK_RETCODES = (10008, 10009, 10010)
_TYPE_BY_VALUE = {v: k for k, v in _TYPE_VALUES.items()}
_SIDE_TYPE_BY_NAME = {name: key for key, name in MT5_ORDER_TYPES.items()}


class MT5Unavailable(DataSourceError):
    """No MetaTrader 5 terminal reachable (pt-BR message with what to install or start)."""


def _c(mt5, name: str) -> int:
    return int(getattr(mt5, name, _CONST[name]))


def _time(seconds, server_tz: str = "UTC") -> pd.Timestamp | None:
    if seconds is None or not seconds:
        return None
    ts = pd.Timestamp(int(seconds), unit="s")
    if server_tz != "America/Sao_Paulo":
        ts = ts.tz_localize(server_tz).tz_convert("America/Sao_Paulo").tz_localize(None)
    return ts


def request_to_mt5(
    req: OrderRequest, mt5=None, *, price: float | None = None, magic: int = 0, deviation: int = 10
) -> dict:
    """The ``order_send`` request of ``req`` (see the module docstring).

    Parameters
    ----------
    price : float, optional
        Market orders: the current ask (buy) or bid (sell), R$.

    Raises
    ------
    InputError
        Unknown side or type, non-positive quantity, missing prices.
    """
    side = str(req.side).lower()
    typ = str(req.type).lower()
    key = (side, typ)
    if key not in MT5_ORDER_TYPES:
        raise InputError(f"Ordem {side}/{typ} sem equivalente no MetaTrader 5.")
    if not (isinstance(req.qty, int) and req.qty > 0):
        raise InputError(f"Quantidade deve ser um inteiro positivo (recebido {req.qty!r}).")
    out: dict = {
        "symbol": req.ticker.upper(),
        "volume": float(req.qty),
        "type": _c(mt5, MT5_ORDER_TYPES[key]),
        "magic": int(magic),
        "comment": (req.client_id or "")[:31],
        "type_filling": _c(mt5, "ORDER_FILLING_RETURN"),
    }
    if typ == "market":
        if price is None:
            raise InputError("Ordem a mercado no MetaTrader 5 precisa do preço atual (ask/bid).")
        out.update(
            action=_c(mt5, "TRADE_ACTION_DEAL"), price=float(price), deviation=int(deviation)
        )
    else:
        out["action"] = _c(mt5, "TRADE_ACTION_PENDING")
        if typ == "limit":
            if req.price is None:
                raise InputError("Ordem limitada precisa de preço limite.")
            out["price"] = float(req.price)
        else:
            if req.stop_price is None:
                raise InputError("Ordem stop precisa de preço de disparo.")
            out["price"] = float(req.stop_price)
            if typ == "stop_limit":
                if req.price is None:
                    raise InputError("Ordem stop limitada precisa de preço limite.")
                out["stoplimit"] = float(req.price)
    if req.stop_loss is not None:
        out["sl"] = float(req.stop_loss)
    if req.target is not None:
        out["tp"] = float(req.target)
    tif = req.tif
    if tif == "gtc":
        out["type_time"] = _c(mt5, "ORDER_TIME_GTC")
    elif tif == "day" or tif is None:
        out["type_time"] = _c(mt5, "ORDER_TIME_DAY")
    else:
        d = pd.Timestamp(tif)
        out["type_time"] = _c(mt5, "ORDER_TIME_SPECIFIED_DAY")
        out["expiration"] = int(d.tz_localize("America/Sao_Paulo").timestamp())
    return out


def order_from_mt5(o, account: str, *, server_tz: str = "UTC") -> Order:
    """An :class:`Order` from a ``TradeOrder`` named tuple (``orders_get``)."""
    name = _TYPE_BY_VALUE.get(int(o.type), "ORDER_TYPE_BUY")
    side, typ = _SIDE_TYPE_BY_NAME.get(name, ("buy", "market"))
    qty = int(round(o.volume_initial))
    filled = qty - int(round(o.volume_current))
    price = stop = None
    if typ == "limit":
        price = float(o.price_open)
    elif typ == "stop":
        stop = float(o.price_open)
    elif typ == "stop_limit":
        stop, price = float(o.price_open), float(o.price_stoplimit)
    setup = _time(o.time_setup, server_tz)
    done = _time(o.time_done, server_tz) or setup
    tif = {0: "gtc", 1: "day"}.get(int(o.type_time), "day")
    expires = _time(o.time_expiration, server_tz)
    if int(o.type_time) in (2, 3) and expires is not None:
        tif = str(expires.date())
    return Order(
        id=int(o.ticket),
        client_id=o.comment or None,
        account=account,
        ticker=o.symbol,
        side=side,
        type=typ,
        qty=qty,
        filled_qty=filled,
        price=price,
        stop_price=stop,
        status=MT5_STATES.get(int(o.state), "aceita"),
        reason="",
        tif=tif,
        parent_id=None,
        oco_group=None,
        avg_fill_price=None,
        created_at=setup,
        updated_at=done,
        source="mt5",
        stop_loss=float(o.sl) if o.sl else None,
        target=float(o.tp) if o.tp else None,
    )


def position_from_mt5(p, account: str) -> Position:
    """A :class:`Position` (signed ``qty``) from a ``TradePosition`` named tuple."""
    sign = 1 if int(p.type) == _CONST["POSITION_TYPE_BUY"] else -1
    qty = sign * int(round(p.volume))
    last = float(p.price_current)
    return Position(
        account=account,
        ticker=p.symbol,
        qty=qty,
        avg_price=float(p.price_open),
        last=last,
        market_value=qty * last,
        unrealized_pnl=float(p.profit),
        realized_pnl=0.0,
    )


def fill_from_mt5(d, account: str, *, server_tz: str = "UTC") -> Fill:
    """A :class:`Fill` from a ``TradeDeal`` named tuple (``history_deals_get``)."""
    side = "buy" if int(d.type) == _CONST["DEAL_TYPE_BUY"] else "sell"
    return Fill(
        id=int(d.ticket),
        order_id=int(d.order),
        account=account,
        ticker=d.symbol,
        side=side,
        qty=int(round(d.volume)),
        price=float(d.price),
        fees=-(float(d.commission) + float(getattr(d, "fee", 0.0))),
        time=_time(d.time, server_tz),
        market_ticker=d.symbol,
        label="MetaTrader 5",
    )


def snapshot_from_mt5(info, positions: list[Position], name: str) -> AccountSnapshot:
    """An :class:`AccountSnapshot` from an ``AccountInfo`` named tuple and the positions."""
    gross = float(sum(abs(p.market_value) for p in positions))
    return AccountSnapshot(
        name=name,
        cash=float(info.balance),
        cash_available=float(info.margin_free),
        cash_projected=float(info.balance),
        equity=float(info.equity),
        gross_exposure=gross,
        realized_pnl=0.0,
        unrealized_pnl=float(info.profit),
        day_pnl=math.nan,
        peak_equity=float(info.equity),
        drawdown_pct=0.0,
        blocked=not bool(getattr(info, "trade_allowed", True)),
        block_reason=""
        if getattr(info, "trade_allowed", True)
        else "negociação desabilitada no terminal",
        buying_power=float(info.margin_free),
    )


class MT5Broker:
    """The :class:`core.trading.broker.Broker` interface on a MetaTrader 5 terminal.

    Parameters
    ----------
    account : str
        Name shown in results (the terminal's login when empty).
    mt5 : object, optional
        The ``MetaTrader5`` module or an ``mt5linux.MetaTrader5`` connection (default:
        :func:`core.data.sources.mt5.load_mt5_module`).
    rules : RiskRules, optional
        Risk rules checked before every order (default: seed 002's).
    magic : int
        Expert id stamped on the orders (tells this app's orders apart).
    deviation : int
        Maximum slippage of market orders, in points.
    server_tz : str
        Time zone of the terminal's timestamps.

    Raises
    ------
    MT5Unavailable
        Neither package installed, the bridge down, or the terminal refuses to start.
    """

    def __init__(
        self,
        account: str = "",
        mt5=None,
        *,
        rules=None,
        magic: int = 20260,
        deviation: int = 10,
        server_tz: str = "UTC",
    ) -> None:
        from core.trading.risk import RiskRules

        if mt5 is None:
            from core.data.sources.mt5 import load_mt5_module

            try:
                mt5 = load_mt5_module()
            except DataSourceError as exc:
                raise MT5Unavailable(str(exc)) from None
        if not mt5.initialize():
            err = getattr(mt5, "last_error", lambda: "")()
            raise MT5Unavailable(
                f"MetaTrader 5 não iniciou o terminal ({err}): abra o terminal, faça login na "
                "conta da corretora e permita 'Algo Trading'."
            )
        self.mt5 = mt5
        self.rules = rules or RiskRules()
        self.magic = int(magic)
        self.deviation = int(deviation)
        self.server_tz = server_tz
        info = mt5.account_info()
        self.name = account or (str(info.login) if info is not None else "mt5")

    def _fail(self, what: str, result=None):
        err = getattr(self.mt5, "last_error", lambda: "")()
        detail = f"{result.retcode} {result.comment}" if result is not None else str(err)
        return InputError(f"MetaTrader 5 recusou {what}: {detail}")

    def positions(self) -> list[Position]:
        """Open positions of the terminal's account."""
        return [position_from_mt5(p, self.name) for p in (self.mt5.positions_get() or ())]

    def account(self) -> AccountSnapshot:
        """Balance, equity and free margin of the terminal's account."""
        info = self.mt5.account_info()
        if info is None:
            raise self._fail("a leitura da conta")
        return snapshot_from_mt5(info, self.positions(), self.name)

    def orders(self, status=None) -> list[Order]:
        """Working orders (``orders_get``) and, for final statuses, the last 30 days'
        history (``history_orders_get``), newest first."""
        out = [
            order_from_mt5(o, self.name, server_tz=self.server_tz)
            for o in (self.mt5.orders_get() or ())
        ]
        if status not in (None, "open", "nova", "aceita", "parcial"):
            end = _dt.datetime.now() + _dt.timedelta(days=1)
            hist = self.mt5.history_orders_get(end - _dt.timedelta(days=31), end) or ()
            out += [order_from_mt5(o, self.name, server_tz=self.server_tz) for o in hist]
        if status == "open":
            out = [o for o in out if o.is_open]
        elif status is not None:
            sts = (status,) if isinstance(status, str) else tuple(status)
            out = [o for o in out if o.status in sts]
        return sorted(out, key=lambda o: o.id, reverse=True)

    def fills(self, since=None) -> list[Fill]:
        """Deals since ``since`` (default: the last 30 days), oldest first."""
        end = _dt.datetime.now() + _dt.timedelta(days=1)
        start = (
            pd.Timestamp(since).to_pydatetime()
            if since is not None
            else end - _dt.timedelta(days=31)
        )
        deals = self.mt5.history_deals_get(start, end) or ()
        out = [fill_from_mt5(d, self.name, server_tz=self.server_tz) for d in deals if d.symbol]
        return sorted(out, key=lambda f: (f.time, f.id))

    def submit(self, req: OrderRequest) -> Order:
        """Check the risk rules, then ``order_send``.

        Raises
        ------
        RiskRejected
            A rule refused the order (nothing sent).
        InputError
            Bad order, or the terminal refused it (retcode and comment in the message).
        """
        from core.trading.risk import RiskRejected, check

        if req.client_id:
            for o in self.orders(
                status=[
                    "nova",
                    "aceita",
                    "parcial",
                    "executada",
                    "cancelada",
                    "rejeitada",
                    "expirada",
                ]
            ):
                if o.client_id == req.client_id[:31]:
                    return o
        tick = self.mt5.symbol_info_tick(req.ticker.upper())
        if tick is None:
            raise InputError(f"{req.ticker} não é negociável neste terminal (sem cotação).")
        px = float(tick.ask if req.side == "buy" else tick.bid)
        ref = (
            req.price
            if req.price is not None
            else (req.stop_price if req.stop_price is not None else px)
        )
        decision = check(self.account(), self.positions(), req, rules=self.rules, price=float(ref))
        if not decision.ok:
            raise RiskRejected(decision.rule, decision.message)
        request = request_to_mt5(
            req, self.mt5, price=px, magic=self.magic, deviation=self.deviation
        )
        res = self.mt5.order_send(request)
        if res is None or int(res.retcode) not in _OK_RETCODES:
            raise self._fail("a ordem", res)
        for o in self.mt5.orders_get(ticket=int(res.order)) or ():
            return order_from_mt5(o, self.name, server_tz=self.server_tz)
        hist = self.mt5.history_orders_get(ticket=int(res.order)) or ()
        for o in hist:
            return order_from_mt5(o, self.name, server_tz=self.server_tz)
        raise self._fail("a leitura da ordem enviada", res)

    def cancel(self, order_id: int) -> Order:
        """``TRADE_ACTION_REMOVE`` of a working order."""
        res = self.mt5.order_send(
            {"action": _c(self.mt5, "TRADE_ACTION_REMOVE"), "order": int(order_id)}
        )
        if res is None or int(res.retcode) not in _OK_RETCODES:
            raise self._fail(f"o cancelamento da ordem {order_id}", res)
        hist = self.mt5.history_orders_get(ticket=int(order_id)) or ()
        for o in hist:
            return order_from_mt5(o, self.name, server_tz=self.server_tz)
        raise self._fail(f"a leitura da ordem {order_id}", res)

    def replace(self, order_id: int, *, qty=None, price=None, stop_price=None) -> Order:
        """``TRADE_ACTION_MODIFY`` of a pending order's prices (MT5 cannot change the volume
        of a pending order: cancel and resend instead)."""
        if qty is not None:
            raise InputError(
                "O MetaTrader 5 não altera a quantidade de uma ordem pendente: cancele e envie outra."
            )
        cur = next((o for o in self.mt5.orders_get(ticket=int(order_id)) or ()), None)
        if cur is None:
            raise InputError(f"Ordem {order_id} não está pendente no terminal.")
        req = {
            "action": _c(self.mt5, "TRADE_ACTION_MODIFY"),
            "order": int(order_id),
            "price": float(
                stop_price
                if stop_price is not None
                else (price if price is not None else cur.price_open)
            ),
            "sl": float(cur.sl),
            "tp": float(cur.tp),
        }
        if int(cur.type) in (6, 7):
            req["price"] = float(stop_price if stop_price is not None else cur.price_open)
            req["stoplimit"] = float(price if price is not None else cur.price_stoplimit)
        res = self.mt5.order_send(req)
        if res is None or int(res.retcode) not in _OK_RETCODES:
            raise self._fail(f"a alteração da ordem {order_id}", res)
        return order_from_mt5(
            next(iter(self.mt5.orders_get(ticket=int(order_id)))),
            self.name,
            server_tz=self.server_tz,
        )
