"""Working the order book of one ticker against one bar (a mixin of
:class:`core.trading.broker.PaperBroker`): the fill rules of :mod:`core.backtest.fills`, the
participation cap, bracket children (one-cancels-other), and the bookkeeping of a fill —
fill rows per B3 book, position (:mod:`core.trading.book`), cash-ledger rows with their D+2
settlement, realised trades and the ``fill``/``stop``/``target`` events.

Conventions: :mod:`core.trading.broker`.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, select

from core.backtest.costs import n_orders
from core.backtest.fills import (
    contract_fill,
    entry_fill,
    limit_fill,
    market_fill,
    stop_fill,
    stop_limit_trigger,
    target_fill,
)
from core.textfmt import brl, integer, points
from core.trading.b3 import settle_date, split_order
from core.trading.book import PositionState, book_fill
from core.trading.events import write_event
from core.trading.models import PaperFill, PaperOrder, PaperPosition, PaperTrade
from core.trading.records import OPEN_STATUSES, SIDE_PT, Fill

__all__ = ["ExecutionMixin"]

_ORD = PaperOrder.__table__
_FIL = PaperFill.__table__
_POS = PaperPosition.__table__
_TRD = PaperTrade.__table__

# The bar work's reads, built once (bind parameters): every replayed bar runs them.
_Q_WORK = (
    select(_ORD)
    .where(
        _ORD.c.account_id == bindparam("aid"),
        _ORD.c.ticker == bindparam("t"),
        _ORD.c.status.in_(("aceita", "parcial")),
    )
    .order_by(_ORD.c.id)
)
_Q_HELD = select(_POS.c.qty).where(
    _POS.c.account_id == bindparam("aid"), _POS.c.ticker == bindparam("t")
)
_Q_POS_ROW = select(_POS).where(
    _POS.c.account_id == bindparam("aid"), _POS.c.ticker == bindparam("t")
)
# A fill's writes (executed with parameter dicts: no per-call statement building).
_INS_FIL = _FIL.insert()
_INS_TRD = _TRD.insert()
_INS_POS = _POS.insert()
_UPD_POS = _POS.update().where(
    _POS.c.account_id == bindparam("aid_"), _POS.c.ticker == bindparam("t_")
)


def _py(ts):
    return pd.Timestamp(ts).to_pydatetime()


def _exit_reason(o: dict) -> str:
    """The engine's exit-reason vocabulary (``sinal``, ``stop``, ``alvo``, ``fim do
    pregão``) plus ``manual`` and ``kill switch``."""
    if o["role"] == "stop":
        return "stop"
    if o["role"] == "target":
        return "alvo"
    if o["source"] == "kill_switch":
        return "kill switch"
    if o["source"] == "day_trade":
        return "fim do pregão"
    return "manual" if o["source"] == "manual" else "sinal"


class ExecutionMixin:
    """Order-book work on a bar and fill bookkeeping (needs PaperBroker's helpers)."""

    if TYPE_CHECKING:  # the helpers and attributes live on PaperBroker

        def __getattr__(self, name: str) -> Any: ...

    def _work_ticker(
        self,
        conn,
        acc,
        cfg,
        t,
        b,
        time,
        *,
        label: str,
        only: int | None = None,
        phase: str | None = None,
        state: dict | None = None,
    ) -> list[Fill]:
        """Work ``t``'s open orders on bar ``b``; ``phase`` ``exit`` (orders that reduce the
        position), ``entry`` (the others) or ``children`` (bracket legs), None: all."""
        state = {} if state is None else state
        session = time.normalize()
        rows = [dict(r) for r in conn.execute(_Q_WORK, {"aid": self.account_id, "t": t}).mappings()]
        if not rows:
            return []
        fills: list[Fill] = []
        slip = cfg.engine.costs.slippage_bps / 10_000.0
        fut = self._future(t, conn)
        if fut is not None:
            slip = 0.0  # a futures limit never slips past its price; market fills slip ticks

        def market(px: float, side: int) -> float:
            if fut is not None:
                return contract_fill(px, side, fut.slippage)
            return market_fill(px, side, slip)

        cap = None
        if (
            cfg.participation is not None
            and b["volume"] == b["volume"]
            and math.isfinite(b["volume"])
            # a futures series without volume (the bundled WINFUT file) has no cap
            and not (self._future(t, conn) is not None and b["volume"] <= 0)
        ):
            cap = int(math.floor(b["volume"] * cfg.participation))
        used = state.get(("used", t), 0)
        o_, h, lo = b["open"], b["high"], b["low"]
        entries = [r for r in rows if r["role"] == "entry"]
        if phase == "children":
            entries = []
        elif phase is not None:
            held = int(conn.execute(_Q_HELD, {"aid": self.account_id, "t": t}).scalar() or 0)
            want_exit = phase == "exit"
            entries = [
                r for r in entries if (held * (1 if r["side"] == "buy" else -1) < 0) == want_exit
            ]
        new_children: dict[int, float] = state.setdefault(("activated", t), {})
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
                fill = market(raw, s)
            elif o["type"] == "stop":
                raw, _ = entry_fill(o_, h, lo, float(o["stop_price"]), s)
                fill = market(raw, s) if raw == raw else raw
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
        state[("used", t)] = used
        # bracket children: stop first, then target (engine order); entry bar uses its price
        if only is None and phase in (None, "children"):
            if phase == "children":
                # nothing was written since ``rows`` was read (no entry is worked in this
                # phase): the working children are its non-entry rows, in the same order
                children = [dict(r) for r in rows if r["role"] != "entry"]
            else:  # entries filled above may have activated children: read them again
                children = [
                    dict(r)
                    for r in conn.execute(_Q_WORK, {"aid": self.account_id, "t": t}).mappings()
                    if r["role"] != "entry"
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
                    fill = market(raw, -d)
                    rem = int(c["qty"]) - int(c["filled_qty"])
                    held = conn.execute(_Q_HELD, {"aid": self.account_id, "t": t}).scalar()
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
        pos_row = conn.execute(_Q_POS_ROW, {"aid": self.account_id, "t": t}).mappings().first()
        session = time.normalize()
        fut = self._future(t, conn)
        # futures: prices stored in points, booked in R$ per contract (× point value)
        m = 1.0 if fut is None else fut.point_value
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
                float(pos_row["avg_fill"] or 0.0),
            )
            if fut is not None:
                st = replace(st, avg=st.avg * m, day_px=st.day_px * m, day_fee=st.day_fee * m)
                st = replace(st, px=st.px * m)
            opened_at = pos_row["opened_at"]
        # futures are sold short freely (no stock loan): only shares need allow_short
        if s < 0 and fut is None and not cfg.engine.allow_short and q > max(0, st.qty):
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
        if fut is not None and q > closing:
            # futures: the contracts the free cash pays the margin and fees of
            snap, _ = self._snapshot(conn, acc)
            free = snap.buying_power + self._reserved(conn, self._pos_rows(conn))
            per = fut.margin + fut.fee_regular
            afford = closing + int(max(0.0, free) // per) if per > 0 else q
            if afford < q:
                if afford <= 0:
                    self._set_status(
                        conn,
                        o,
                        "cancelada",
                        time,
                        "margem insuficiente na execução",
                        reason="margem insuficiente na execução",
                    )
                    return []
                q = afford
        elif s > 0 and q > closing:
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
        if fut is not None:
            new, bk = book_fill(
                st,
                s,
                q,
                price * m,
                swing_rate=fut.fee_regular,
                dt_rate=fut.fee_day_trade,
                brokerage=costs.brokerage_per_order * (1 if first else 0),
                per_unit=True,
            )
            # back to points per contract for the stored position
            new = replace(new, avg=new.avg / m, day_px=new.day_px / m, day_fee=new.day_fee / m)
            new = replace(new, px=new.px / m)
        else:
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
                _INS_FIL,
                {
                    "order_id": o["id"],
                    "account_id": self.account_id,
                    "ticker": t,
                    "market_ticker": mt,
                    "side": o["side"],
                    "qty": n,
                    "price": price,
                    "fees": fee,
                    "time": _py(time),
                    "label": label,
                },
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
        if fut is not None:
            # futures: no notional moves; a closing fill settles the result in R$
            settle = session
            what = f"{integer(q)} contrato(s) {t} a {points(price)}" + (
                f" ({label})" if label else ""
            )
            if bk.closed:
                gross = bk.direction * bk.closed * (price * m - bk.entry_px)
                self._ledger(
                    conn,
                    time,
                    "settlement",
                    gross,
                    f"Ajuste de {what}",
                    ticker=t,
                    settle=settle,
                    order_id=o["id"],
                    fill_id=fid,
                )
        elif s > 0:
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
            entry_value = bk.closed * bk.entry_px
            conn.execute(
                _INS_TRD,
                dict(
                    account_id=self.account_id,
                    fill_id=fid,
                    ticker=t,
                    direction="compra" if d > 0 else "venda",
                    entry_date=opened_at or _py(time),
                    entry_price=bk.entry_px / m,
                    exit_date=_py(time),
                    exit_price=price,
                    shares=bk.closed,
                    entry_value=entry_value,
                    exit_value=bk.closed * price * m,
                    fees=bk.fee * bk.closed / q,
                    pnl=bk.pnl,
                    day_trade=bk.dt_qty == bk.closed,
                    day_trade_qty=bk.dt_qty,
                    day_trade_pnl=bk.dt_pnl,
                    swing_pnl=bk.sw_pnl,
                    sale_value=bk.sale_value,
                    day_trade_sale_value=bk.dt_sale_value,
                    exit_reason=_exit_reason(o),
                ),
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
            avg_fill=new.px,
        )
        self._positions_written()
        if pos_row is None:
            conn.execute(
                _INS_POS,
                dict(account_id=self.account_id, ticker=t, last=price, last_time=_py(time), **vals),
            )
        else:
            if pos_row["last"] is None:
                vals["last"] = price
            conn.execute(_UPD_POS, {"aid_": self.account_id, "t_": t, **vals})
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
            f"{SIDE_PT[o['side']].capitalize()} executada: {what}.",
        )
        return out
