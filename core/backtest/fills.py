"""Fill rules of one order against one bar: the single implementation shared by the backtest
engine and, bar by bar, by a paper-trading broker.

Every function is a small ``numba.njit`` function, callable from the engine's kernel and from
plain Python alike (scalars in, scalars out). Prices in R$ per share; ``side``/``direction``
is ``+1`` for a buy / long position and ``-1`` for a sell / short position; ``nan`` means
"no level" (or "not filled").

Rules
-----
* **Market order** (:func:`market_fill`): fills at the reference price (the bar's open)
  moved against the trader by the slippage, ``px × (1 + side × slip)``; a futures contract
  (:func:`contract_fill`) slips by a fixed amount (ticks), ``px + side × slip_abs``.
* **Stop entry** (buy-stop above the market, sell-stop below; :func:`entry_fill`): fills at
  ``max(open, level)`` (``min`` for a sell-stop) if the bar trades through the level, and is
  not filled otherwise. A bar that opens beyond the level fills at the open (a gap).
* **Protective stop** (:func:`stop_fill`): a bar that opens beyond the stop fills at the open
  (gap); otherwise a bar whose low (high, for shorts) touches the stop fills at the stop.
* **Target = limit order** (:func:`target_fill`): fills at the target or better, never worse
  than the market. A bar that opens beyond the target fills at the open; on the bar of the
  entry, a target already beyond the entry price is marketable at once and fills at the entry
  price (the market at that moment), not at the target.
* When one bar touches both the stop and the target, the stop comes first (pessimistic).
* **Limit order** of a paper account (:func:`limit_fill`): the target rule for the order's
  side, slippage applied, but never worse than the limit price (a limit order's promise).
* **Stop-limit order** (:func:`stop_limit_trigger`): triggers like a stop entry; on the
  trigger bar it fills only if the trigger price is within the limit (at the trigger price,
  slippage capped by the limit); otherwise it rests as a limit order from the next bar.
* Trailing stop (:func:`trail_level`): trails the best price of the bars **before** the
  current one by ``pct``; the tighter of the trailing and the fixed stop applies.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "market_fill",
    "contract_fill",
    "entry_fill",
    "stop_fill",
    "target_fill",
    "trail_level",
    "limit_fill",
    "stop_limit_trigger",
    "NO_FILL",
]

#: Returned as price when an order does not fill on the bar.
NO_FILL = np.nan


@numba.njit(cache=True)
def market_fill(price: float, side: int, slip: float) -> float:
    """Fill price of a market order at ``price`` with slippage ``slip`` (fraction).

    >>> round(market_fill(10.0, 1, 0.0005), 4), round(market_fill(10.0, -1, 0.0005), 4)
    (10.005, 9.995)
    """
    return price * (1.0 + side * slip)


@numba.njit(cache=True)
def contract_fill(price: float, side: int, slip_abs: float) -> float:
    """Fill price of a futures market order at ``price`` slipping ``slip_abs`` price units
    (ticks × tick size) against the trader.

    >>> contract_fill(110000.0, 1, 5.0), contract_fill(110000.0, -1, 5.0)
    (110005.0, 109995.0)
    """
    return price + side * slip_abs


@numba.njit(cache=True)
def entry_fill(open_: float, high: float, low: float, level: float, direction: int):
    """Raw (pre-slippage) fill of an entry at the open, or of a stop entry at ``level``.

    Returns
    -------
    (price, at_open) : (float, bool)
        ``price`` is ``nan`` when a stop entry is not reached; ``at_open`` tells whether the
        fill happened at the open.
    """
    if not level == level:
        return open_, True
    if direction > 0:
        if open_ >= level:
            return open_, True
        if high >= level:
            return level, False
    else:
        if open_ <= level:
            return open_, True
        if low <= level:
            return level, False
    return np.nan, False


@numba.njit(cache=True)
def stop_fill(open_: float, high: float, low: float, stop: float, direction: int, ref: float):
    """Raw fill of a protective stop on a bar, or ``nan`` when not touched.

    Parameters
    ----------
    ref : float
        The market price when the stop becomes active on this bar: the entry price on the
        entry bar, the open on later bars. A stop already beyond ``ref`` fills at ``ref``.
    """
    if not stop == stop:
        return np.nan
    if direction > 0:
        if ref <= stop:
            return ref
        if low <= stop:
            return stop
    else:
        if ref >= stop:
            return ref
        if high >= stop:
            return stop
    return np.nan


@numba.njit(cache=True)
def target_fill(open_: float, high: float, low: float, target: float, direction: int, ref: float):
    """Raw fill of a target (a limit order) on a bar, or ``nan`` when not reached.

    ``ref`` as in :func:`stop_fill`. A target already beyond the market fills at the market
    (``ref``): a limit order never fills worse than the market.
    """
    if not target == target:
        return np.nan
    if direction > 0:
        if ref >= target:
            return ref
        if high >= target:
            return target
    else:
        if ref <= target:
            return ref
        if low <= target:
            return target
    return np.nan


@numba.njit(cache=True)
def trail_level(stop: float, peak: float, pct: float, direction: int):
    """The stop in force with a trailing stop of ``pct`` from ``peak`` (best earlier price).

    Returns
    -------
    (level, trailing) : (float, bool)
        The tighter of ``stop`` and the trailing level, and whether the trailing one won.
    """
    if not pct > 0:
        return stop, False
    ts = peak * (1.0 - pct) if direction > 0 else peak * (1.0 + pct)
    if not stop == stop or (direction > 0 and ts > stop) or (direction < 0 and ts < stop):
        return ts, True
    return stop, False


@numba.njit(cache=True)
def limit_fill(
    open_: float, high: float, low: float, limit: float, side: int, slip: float, ref: float
):
    """Fill price of a limit order of ``side`` (+1 buy, -1 sell), or ``nan``.

    A buy limit is a short position's target and a sell limit a long's (:func:`target_fill`
    with ``direction = -side``); slippage moves the fill against the trader but never past
    the limit. ``ref`` is the market price when the order becomes active on the bar (the
    open, or the trigger price of a stop-limit).

    >>> limit_fill(10.0, 10.5, 9.5, 9.8, 1, 0.0005, 10.0), limit_fill(9.0, 9.5, 8.5, 9.8, 1, 0.0, 9.0)
    (9.8, 9.0)
    """
    px = target_fill(open_, high, low, limit, -side, ref)
    if not px == px:
        return np.nan
    fill = market_fill(px, side, slip)
    if side > 0:
        return min(fill, limit)
    return max(fill, limit)


@numba.njit(cache=True)
def stop_limit_trigger(
    open_: float, high: float, low: float, stop: float, limit: float, side: int, slip: float
):
    """A stop-limit order of ``side`` on the bar where it may trigger.

    Returns
    -------
    (price, triggered) : (float, bool)
        ``triggered`` when the bar trades through ``stop`` (:func:`entry_fill`); ``price``
        the fill when the trigger price is within ``limit`` (slippage capped by the limit),
        ``nan`` otherwise (not triggered, or triggered beyond the limit: the order then
        rests as a limit order).

    >>> stop_limit_trigger(10.0, 10.6, 9.9, 10.5, 10.6, 1, 0.0)
    (10.5, True)
    >>> p, t = stop_limit_trigger(10.8, 11.0, 10.7, 10.5, 10.6, 1, 0.0); (p != p, t)
    (True, True)
    """
    px, _ = entry_fill(open_, high, low, stop, side)
    if not px == px:
        return np.nan, False
    if (side > 0 and px > limit) or (side < 0 and px < limit):
        return np.nan, True
    fill = market_fill(px, side, slip)
    if side > 0:
        return min(fill, limit), True
    return max(fill, limit), True
