"""Position bookkeeping of one fill: average cost with costs, realised P&L, day-trade split.

Pure functions, no I/O (the broker stores the result). Conventions: ``qty`` signed (+ long,
− short); ``avg`` is the **cost basis per share including costs**: for a long, what was paid
per share plus fees; for a short, the net proceeds per share (sale price minus fees).
Realised P&L of closing ``c`` shares at price ``P`` with closing fees ``F`` is
``d × c × (P − avg) − F`` (``d`` = +1 long, −1 short).

Day trades (IN RFB 1.585/2015, art. 65; costs: :mod:`core.backtest.costs`): the shares
opened in the current session and still held (``day_qty`` at ``day_px`` with ``day_fee``
per share, charged at the swing rate ``day_rate``) are matched first by a closing fill of
the same session. The matched shares pay the day-trade rate on both sides — the closing
fee is charged at that rate and the entry's overcharge ``m × day_px × (day_rate − dt)`` is
refunded — as the engine does. Their result is the day-trade P&L; the rest of the closing
fill is a swing trade against the average cost of the shares carried from earlier
sessions. Limitation (stated): a sale of carried shares followed by a re-purchase in the
same session is not re-booked as a day trade (the engine does re-book it).

Futures (``per_unit=True``): quantities are contracts, prices R$ per contract (points ×
point value, so results are points × point value × contracts) and the two rates are B3's
fees per contract and side (:func:`core.backtest.costs.contract_fee`, the engine's rule):
the entry pays the regular fee, and a same-session exit pays the day-trade fee and gets
the entry's difference refunded, as the engine does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.backtest.costs import contract_fee, order_fee

__all__ = ["PositionState", "Booking", "book_fill"]


@dataclass(frozen=True)
class PositionState:
    """A position before or after a fill (see the module docstring for the fields)."""

    qty: int = 0
    avg: float = 0.0
    realized: float = 0.0
    day_qty: int = 0
    day_px: float = 0.0
    day_fee: float = 0.0
    day_rate: float = 0.0
    px: float = 0.0


@dataclass(frozen=True)
class Booking:
    """What one fill did.

    Attributes
    ----------
    fee : float
        Fees charged on the fill, R$ (B3 fees + brokerage).
    refund : float
        Day-trade refund of the entry's swing-rate fee, R$ (≥ 0).
    closed : int
        Shares closed.
    direction : int
        Direction of the closed position (+1 long, −1 short); 0 when nothing closed.
    entry_basis : float
        Average basis per share of the closed shares (R$, incl. costs).
    entry_px : float
        Average fill price of the position's entries (R$, after slippage, before fees: the
        engine's ``entry_price``).
    dt_qty, dt_pnl, sw_pnl : int, float, float
        Day-trade shares and results, swing result (R$, net of costs).
    sale_value, dt_sale_value : float
        Sale value of the closed shares (a long's exit, a short's entry) and its day-trade
        part, R$ (the R$ 20.000 exemption test).
    """

    fee: float = 0.0
    refund: float = 0.0
    closed: int = 0
    direction: int = 0
    entry_basis: float = 0.0
    entry_px: float = 0.0
    dt_qty: int = 0
    dt_pnl: float = 0.0
    sw_pnl: float = 0.0
    sale_value: float = 0.0
    dt_sale_value: float = 0.0

    @property
    def pnl(self) -> float:
        """Realised result of the fill, R$ (day trade + swing, refund included)."""
        return self.dt_pnl + self.sw_pnl


def book_fill(
    st: PositionState,
    side: int,
    q: int,
    price: float,
    *,
    swing_rate: float,
    dt_rate: float,
    brokerage: float = 0.0,
    per_unit: bool = False,
) -> tuple[PositionState, Booking]:
    """Apply one fill to a position.

    Parameters
    ----------
    st : PositionState
        The position; its ``day_*`` fields must already be reset when the session changed.
    side : int
        +1 buy, −1 sell.
    q : int
        Shares filled (> 0).
    price : float
        Fill price in R$ after slippage.
    swing_rate, dt_rate : float
        B3 fee rates in force (fractions of value).
    brokerage : float
        Brokerage charged on this fill, R$ (per order × orders).
    per_unit : bool
        Futures: ``swing_rate`` / ``dt_rate`` are R$ per contract and side (regular and
        day-trade fee) and ``price`` is R$ per contract (see the module docstring).

    Returns
    -------
    (PositionState, Booking)

    Examples
    --------
    Buy 100 at R$ 10 with 0,03 % fees, sell 100 at R$ 11 the same session (day trade,
    0,023 %): fees 0,30 then 0,253 and a refund of 0,07; result 100 − 0,23 − 0,253.

    >>> s, b = book_fill(PositionState(), 1, 100, 10.0, swing_rate=0.0003, dt_rate=0.00023)
    >>> s2, b2 = book_fill(s, -1, 100, 11.0, swing_rate=0.0003, dt_rate=0.00023)
    >>> round(b.fee, 3), round(b2.fee, 3), round(b2.refund, 3), round(b2.dt_pnl, 3), s2.qty
    (0.3, 0.253, 0.07, 99.517, 0)
    """
    if q <= 0:
        raise ValueError("fill quantity must be positive")
    qty = st.qty
    d = 1 if qty > 0 else (-1 if qty < 0 else 0)
    closing = min(q, abs(qty)) if d != 0 and side != d else 0
    opening = q - closing
    m = min(closing, abs(st.day_qty)) if st.day_qty * d > 0 else 0
    k = closing - m
    # fees: day-trade rate on the matched shares, swing rate on the rest, brokerage apart
    if per_unit:  # futures: B3 fees per contract and side
        f_dt = contract_fee(m, dt_rate, 0.0)
        f_sw_close = contract_fee(k, swing_rate, 0.0)
        f_open = contract_fee(opening, swing_rate, 0.0)
    else:
        f_dt = order_fee(m * price, dt_rate, 0.0, 0)
        f_sw_close = order_fee(k * price, swing_rate, 0.0, 0)
        f_open = order_fee(opening * price, swing_rate, 0.0, 0)
    brk_close = brokerage * closing / q
    brk_open = brokerage - brk_close
    fee = f_dt + f_sw_close + f_open + brokerage
    unit_px = 1.0 if per_unit else st.day_px
    refund = m * unit_px * max(0.0, st.day_rate - dt_rate) if m else 0.0

    dt_pnl = sw_pnl = 0.0
    sale = dt_sale = 0.0
    basis_closed = 0.0
    new = st
    if closing:
        aq = abs(qty)
        day_basis = st.day_px + d * st.day_fee  # per share, incl. costs
        dq = abs(st.day_qty) if st.day_qty * d > 0 else 0
        carry_q = aq - dq
        carry_basis = (st.avg * aq - day_basis * dq) / carry_q if carry_q else 0.0
        bclose_dt = f_dt + (brk_close * m / closing if closing else 0.0)
        bclose_sw = f_sw_close + (brk_close * k / closing if closing else 0.0)
        if m:
            # the entry's fee per share after the day-trade refund
            dt_basis = day_basis - d * (refund / m)
            dt_pnl = d * m * (price - dt_basis) - bclose_dt
        if k:
            sw_pnl = d * k * (price - carry_basis) - bclose_sw
        basis_closed = (day_basis * m + carry_basis * k) / closing
        if d > 0:
            sale, dt_sale = closing * price, m * price
        else:
            sale = m * st.day_px + k * carry_basis
            dt_sale = m * st.day_px
        left = aq - closing
        new_dq = dq - m
        if left:
            avg = (carry_basis * (carry_q - k) + day_basis * new_dq) / left
        else:
            avg = 0.0
        new = replace(
            st,
            qty=d * left,
            avg=avg,
            realized=st.realized + dt_pnl + sw_pnl,
            day_qty=d * new_dq,
            day_px=st.day_px if new_dq else 0.0,
            day_fee=st.day_fee if new_dq else 0.0,
            day_rate=st.day_rate if new_dq else 0.0,
            px=st.px if left else 0.0,
        )
    if opening:
        fo = (f_open + brk_open) / opening
        b = price + side * fo
        cur = abs(new.qty)
        avg = (new.avg * cur + b * opening) / (cur + opening)
        dq = abs(new.day_qty)
        day_px = (new.day_px * dq + price * opening) / (dq + opening)
        day_fee = (new.day_fee * dq + fo * opening) / (dq + opening)
        new = replace(
            new,
            qty=side * (cur + opening),
            avg=avg,
            px=(new.px * cur + price * opening) / (cur + opening),
            day_qty=side * (dq + opening),
            day_px=day_px,
            day_fee=day_fee,
            day_rate=swing_rate,
        )
    return new, Booking(
        fee=fee,
        refund=refund,
        closed=closing,
        direction=d if closing else 0,
        entry_basis=basis_closed,
        entry_px=st.px if closing else 0.0,
        dt_qty=m,
        dt_pnl=dt_pnl,
        sw_pnl=sw_pnl,
        sale_value=sale,
        dt_sale_value=dt_sale,
    )
