"""The pre-trade risk manager: named rules checked before every order of an account.

Every rule is a small named check returning a reason (nautilus_trader's ``RiskEngine``
shape): :func:`check` runs them in a fixed order and returns the first breach as a
:class:`RiskDecision` naming the rule and the numbers, in pt-BR. The broker raises
:class:`RiskRejected` with that decision.

Rules (:class:`RiskRules`; ``None`` disables a rule)
-----------------------------------------------------
``max_position_pct``
    Position in one ticker after the order, at most this fraction of equity.
``max_gross_exposure_pct``
    Sum of |position values| after the order, at most this fraction of equity.
``max_open_positions``
    Open positions (plus tickers with pending entries) after the order.
``daily_loss_limit_pct``
    Once the day's loss reaches this fraction of the equity at the session's start, no new
    entries that day (exits stay allowed).
``max_drawdown_pct``
    Drawdown from the peak equity at which the account is flattened and blocked (the kill
    switch); default 0.15 (seed 002: stop at 15 %). Entries are refused beyond it.
``require_stop``
    Entries must carry a protective stop (``stop_loss``).
``max_orders_per_day``
    Orders created in the account's current session.
``window``
    ``"HH:MM-HH:MM"`` (São Paulo wall time) in which orders are accepted; only applies to
    orders timed within the day (a daily bar's clock is midnight and is never judged).

Only **entries** (orders that open or increase a position) are judged by the exposure,
loss and stop rules; an order that reduces a position is always allowed (a trader must be
able to get out). The cash check (``saldo``) is the broker's and is reported the same way.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

from core.errors import InputError
from core.textfmt import brl, integer, pct

if TYPE_CHECKING:
    from core.trading.broker import AccountSnapshot, OrderRequest, Position

__all__ = [
    "RiskRules",
    "RiskDecision",
    "RiskRejected",
    "RULE_LABELS",
    "check",
    "kill_switch",
    "unblock",
]

#: pt-BR names of the rules (shown with every rejection).
RULE_LABELS: dict[str, str] = {
    "max_position_pct": "posição máxima por ativo",
    "max_gross_exposure_pct": "exposição bruta máxima",
    "max_open_positions": "máximo de posições abertas",
    "daily_loss_limit_pct": "limite de perda diária",
    "max_drawdown_pct": "drawdown máximo",
    "require_stop": "stop obrigatório",
    "max_orders_per_day": "máximo de ordens por dia",
    "window": "janela de negociação",
    "saldo": "saldo insuficiente",
    "bloqueio": "conta bloqueada",
    "venda_descoberto": "venda a descoberto",
}

_WINDOW_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _parse_window(text: str) -> tuple[_dt.time, _dt.time]:
    m = _WINDOW_RE.match(text or "")
    if not m:
        raise InputError(
            f"Janela de negociação inválida {text!r}: use HH:MM-HH:MM (ex.: 10:15-16:45)."
        )
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    try:
        a, b = _dt.time(h1, m1), _dt.time(h2, m2)
    except ValueError:
        raise InputError(
            f"Janela de negociação inválida {text!r}: horário fora de 00:00-23:59."
        ) from None
    if not a < b:
        raise InputError(f"Janela de negociação inválida {text!r}: o início deve ser antes do fim.")
    return a, b


@dataclass(frozen=True)
class RiskRules:
    """Risk rules of one account (fractions of equity; ``None`` disables a rule).

    Parameters
    ----------
    max_position_pct : float or None
        Max |value| of one ticker's position after an order, fraction of equity (0.2 = 20 %).
    max_gross_exposure_pct : float or None
        Max gross exposure (sum of |position values|) after an order, fraction of equity.
    max_open_positions : int or None
        Max simultaneously open positions.
    daily_loss_limit_pct : float or None
        Day loss (fraction of the equity at the session's start) that stops new entries.
    max_drawdown_pct : float or None
        Drawdown from the peak equity that flattens and blocks the account (kill switch);
        default 0.15 (seed 002).
    require_stop : bool
        Entries must carry ``stop_loss``.
    max_orders_per_day : int or None
        Orders per session.
    window : str or None
        ``"HH:MM-HH:MM"`` São Paulo wall time in which orders are accepted.

    Raises
    ------
    InputError
        A fraction outside (0, 10], a non-positive count or a malformed window.
    """

    max_position_pct: float | None = None
    max_gross_exposure_pct: float | None = None
    max_open_positions: int | None = None
    daily_loss_limit_pct: float | None = None
    max_drawdown_pct: float | None = 0.15
    require_stop: bool = False
    max_orders_per_day: int | None = None
    window: str | None = None

    def __post_init__(self) -> None:
        for name in (
            "max_position_pct",
            "max_gross_exposure_pct",
            "daily_loss_limit_pct",
            "max_drawdown_pct",
        ):
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= 10:
                raise InputError(
                    f"Regra de risco {name} deve ser uma fração positiva (0,2 = 20%), recebido {v!r}."
                )
            if name in ("daily_loss_limit_pct", "max_drawdown_pct") and v >= 1:
                raise InputError(f"Regra de risco {name} deve ficar entre 0 e 1 (recebido {v!r}).")
        for name in ("max_open_positions", "max_orders_per_day"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise InputError(f"Regra de risco {name} deve ser um inteiro ≥ 1 (recebido {v!r}).")
        if self.window is not None:
            _parse_window(self.window)

    # -- conversions -------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain dict of the fields (stored with the account)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> RiskRules:
        """Inverse of :meth:`to_dict` (unknown keys ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (d or {}).items() if k in known})

    @classmethod
    def from_text(cls, text: str | None, base: RiskRules | None = None) -> RiskRules:
        """Parse ``"max_position_pct=0.2,max_open_positions=5,window=10:15-16:45"``.

        Values: fractions for ``*_pct`` (``20%`` is accepted and means 0.2), integers for
        counts, ``true``/``false`` for ``require_stop``, ``none``/``off`` disables a rule.
        Keys not given keep ``base``'s values (the defaults when omitted).

        Raises
        ------
        InputError
            Unknown key, malformed pair or value (the message names the key).
        """
        base = base or cls()
        values = base.to_dict()
        if not text or not text.strip():
            return cls(**values)
        known = {f.name for f in fields(cls)}
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            if "=" not in part:
                raise InputError(f"Regra de risco sem valor: {part!r} (use chave=valor).")
            key, raw = (s.strip() for s in part.split("=", 1))
            if key not in known:
                raise InputError(
                    f"Regra de risco desconhecida {key!r}: use {', '.join(sorted(known))}."
                )
            low = raw.lower()
            if low in ("none", "off", "nenhum", ""):
                values[key] = None if key != "require_stop" else False
                continue
            try:
                if key == "require_stop":
                    if low not in ("true", "false", "1", "0", "sim", "não", "nao", "yes", "no"):
                        raise ValueError
                    values[key] = low in ("true", "1", "sim", "yes")
                elif key == "window":
                    values[key] = raw
                elif key.endswith("_pct"):
                    values[key] = float(low[:-1]) / 100 if low.endswith("%") else float(low)
                else:
                    f = float(low)
                    if f != int(f):
                        raise ValueError
                    values[key] = int(f)
            except ValueError:
                raise InputError(f"Valor inválido para a regra de risco {key}: {raw!r}.") from None
        return cls(**values)

    def window_times(self) -> tuple[_dt.time, _dt.time] | None:
        """The trading window as two ``datetime.time`` (None when not set)."""
        return None if self.window is None else _parse_window(self.window)


@dataclass(frozen=True)
class RiskDecision:
    """Outcome of :func:`check`: ``ok``, the breached ``rule`` (key of :data:`RULE_LABELS`)
    and a pt-BR ``message`` with the numbers (both empty when ok)."""

    ok: bool
    rule: str = ""
    message: str = ""


class RiskRejected(InputError):
    """An order refused by a risk rule (or the cash check).

    Attributes
    ----------
    rule : str
        Key of :data:`RULE_LABELS`.
    message : str
        pt-BR explanation with the numbers.
    order_id : int or None
        The stored order (status ``rejeitada``) when the broker recorded it.
    """

    def __init__(self, rule: str, message: str, order_id: int | None = None) -> None:
        self.rule = rule
        self.message = message
        self.order_id = order_id
        super().__init__(message)


def _reject(rule: str, detail: str) -> RiskDecision:
    return RiskDecision(False, rule, f"Ordem rejeitada pela regra '{RULE_LABELS[rule]}': {detail}")


def check(
    snapshot: AccountSnapshot,
    positions: list[Position],
    request: OrderRequest,
    *,
    rules: RiskRules,
    price: float,
    orders_today: int = 0,
    pending_entries: tuple[str, ...] = (),
    now=None,
) -> RiskDecision:
    """Judge one order against the account's rules (the cash check is the broker's).

    Parameters
    ----------
    snapshot : AccountSnapshot
        The account before the order (equity, exposure, day P&L, drawdown, block).
    positions : list of Position
        Open positions (signed ``qty``, ``market_value`` in R$).
    request : OrderRequest
        The order (``qty`` shares > 0, ``side`` buy/sell).
    rules : RiskRules
    price : float
        Reference price of the order in R$ per share (limit, stop or the last price).
    orders_today : int
        Orders already created in the account's current session.
    pending_entries : tuple of str
        Tickers without a position that have open entry orders (count as positions).
    now : datetime-like, optional
        The order's time (São Paulo wall time) for the ``window`` rule.

    Returns
    -------
    RiskDecision
        ``ok=True`` or the first breach, in the order of the module docstring.
    """
    t = request.ticker.upper()
    pos = next((p for p in positions if p.ticker == t and p.qty != 0), None)
    cur = pos.qty if pos is not None else 0
    sign = 1 if request.side == "buy" else -1
    new = cur + sign * int(request.qty)
    entry = abs(new) > abs(cur) or (cur != 0 and new != 0 and (new > 0) != (cur > 0))
    if snapshot.blocked and entry:
        return _reject("bloqueio", snapshot.block_reason or "kill switch acionado.")
    if rules.max_orders_per_day is not None and orders_today >= rules.max_orders_per_day:
        return _reject(
            "max_orders_per_day",
            f"{integer(orders_today)} ordens hoje, limite {integer(rules.max_orders_per_day)}.",
        )
    win = rules.window_times()
    if win is not None and now is not None:
        ts = now if isinstance(now, _dt.datetime) else None
        if ts is None and hasattr(now, "to_pydatetime"):
            ts = now.to_pydatetime()
        if ts is not None and ts.time() != _dt.time(0, 0) and not win[0] <= ts.time() <= win[1]:
            return _reject(
                "window",
                f"horário {ts.strftime('%H:%M')} fora da janela {rules.window}.",
            )
    if not entry:
        return RiskDecision(True)
    eq = snapshot.equity
    if rules.max_drawdown_pct is not None and snapshot.drawdown_pct >= rules.max_drawdown_pct:
        return _reject(
            "max_drawdown_pct",
            f"drawdown de {pct(snapshot.drawdown_pct)} ≥ limite de {pct(rules.max_drawdown_pct)}.",
        )
    if rules.daily_loss_limit_pct is not None and snapshot.day_pnl < 0:
        start = eq - snapshot.day_pnl
        loss = -snapshot.day_pnl / start if start > 0 else 0.0
        if loss >= rules.daily_loss_limit_pct:
            return _reject(
                "daily_loss_limit_pct",
                f"perda do dia de {brl(-snapshot.day_pnl)} ({pct(loss)}) ≥ limite de "
                f"{pct(rules.daily_loss_limit_pct)}; novas entradas só no próximo pregão.",
            )
    if rules.require_stop and request.stop_loss is None:
        return _reject("require_stop", "entradas precisam de um stop (stop_loss).")
    if rules.max_open_positions is not None and cur == 0:
        n_open = sum(1 for p in positions if p.qty != 0)
        n_pending = len({x for x in pending_entries if x != t})
        if n_open + n_pending + 1 > rules.max_open_positions:
            return _reject(
                "max_open_positions",
                f"{integer(n_open)} posições abertas + {integer(n_pending)} entradas pendentes; "
                f"limite {integer(rules.max_open_positions)}.",
            )
    new_value = abs(new) * price
    if rules.max_position_pct is not None:
        lim = rules.max_position_pct * eq
        if new_value > lim + 1e-9:
            return _reject(
                "max_position_pct",
                f"posição em {t} de {brl(new_value)} ({pct(new_value / eq if eq > 0 else 0)} do "
                f"patrimônio de {brl(eq)}) > limite de {pct(rules.max_position_pct)} ({brl(lim)}).",
            )
    if rules.max_gross_exposure_pct is not None:
        cur_value = abs(cur) * price
        gross = snapshot.gross_exposure - (abs(pos.market_value) if pos else 0.0)
        gross = max(0.0, gross) + new_value
        lim = rules.max_gross_exposure_pct * eq
        if gross > lim + 1e-9 and new_value > cur_value:
            return _reject(
                "max_gross_exposure_pct",
                f"exposição bruta de {brl(gross)} ({pct(gross / eq if eq > 0 else 0)} do patrimônio) "
                f"> limite de {pct(rules.max_gross_exposure_pct)} ({brl(lim)}).",
            )
    return RiskDecision(True)


def kill_switch(store, account: str, reason: str = "", *, immediate: bool = True, time=None):
    """Manual (or drawdown) kill switch: cancel open orders, flatten every position, block.

    Parameters
    ----------
    store : Store
    account : str
        Account name.
    reason : str
        Shown as the block reason (pt-BR).
    immediate : bool
        Fill the flattening orders at once at the last known price plus slippage (a manual
        kill switch); False leaves them as market orders for the next bar (the drawdown
        switch triggered at a bar's close, as the engine acts on the next open).
    time : datetime-like, optional
        Event time (default: the account's clock).

    Returns
    -------
    list of Order
        The flattening orders.
    """
    from core.trading.broker import PaperBroker

    return PaperBroker(store, account).kill(reason, immediate=immediate, time=time)


def unblock(store, account: str) -> None:
    """Lift the kill-switch block of ``account`` (the peak equity restarts at the current one)."""
    from core.trading.broker import PaperBroker

    PaperBroker(store, account).unblock()
