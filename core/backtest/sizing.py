"""Position sizing: how many shares an entry buys (or sells short).

Methods (``Sizing.method``)
---------------------------
``all_in``
    Every free R$ of cash, split evenly over the free position slots of a portfolio
    (``cash / (max_positions - open_positions)``); with one ticker: all the cash.
``fixed``
    A fixed amount of R$ per entry (``value`` in R$).
``percent``
    A percentage of current equity per entry (``value`` in % of equity).
``risk``
    Fixed-fractional risk to the stop (Van Tharp, *Trade Your Way to Financial Freedom*,
    1998): the position loses ``value`` % of equity if the stop is hit,
    ``shares = equity × value% / (entry − stop)``. Needs a stop (a stop-loss % or a strategy
    that sets stop levels).
``contracts``
    A fixed quantity per entry (``value`` contracts of a futures contract, or shares of a
    stock), reduced to what the free cash (the margin, for futures) allows.
``kelly``
    Kelly criterion for a binary bet with payoff ratio ``R`` (Kelly, 1956; the trading form
    ``f = W − (1 − W) / R`` as in Thorp, 2006): ``W`` (win rate) and ``R`` (average win /
    average loss, as returns) are estimated **only from trades closed before the entry**;
    the stake is ``kelly_fraction × f`` of equity (half Kelly by default), capped at
    ``kelly_cap``; until ``kelly_min_trades`` trades have closed it is ``value`` % of equity.

Every method is also capped by the free cash (no leverage). A futures contract (see
:mod:`core.backtest.engine`) needs its margin in free cash, and its notional (points ×
point value) counts against the R$ budget of ``all_in``/``fixed``/``percent``/``kelly``.

Lots (B3)
---------
The standard lot of a B3 stock is 100 shares; quantities of 1 to 99 trade in the fractional
market (ticker suffix ``F``: ``PETR4F``). With ``fractional=True`` (default) an order is
rounded down to whole shares: ``100 × floor(q / 100)`` in the round-lot market and the
remainder (< 100) in the fractional market. With ``fractional=False`` only whole lots are
bought. ``lot_size=1`` gives 1-share lots (for comparisons with other engines).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba

from core.errors import InputError

__all__ = [
    "SIZING_METHODS",
    "Sizing",
    "round_shares",
    "split_lots",
    "kelly_fraction",
]

#: Sizing method names, in the integer order the engine kernel uses.
SIZING_METHODS: tuple[str, ...] = ("all_in", "fixed", "percent", "risk", "kelly", "contracts")


@dataclass(frozen=True)
class Sizing:
    """How entries are sized.

    Parameters
    ----------
    method : {"all_in", "fixed", "percent", "risk", "kelly", "contracts"}
    value : float
        R$ per entry for ``fixed``; % of equity for ``percent``; % of equity risked for
        ``risk``; % of equity before enough trades for ``kelly``; contracts (or shares) per
        entry for ``contracts``. Ignored by ``all_in``.
    kelly_fraction : float
        Multiplier of the Kelly fraction (0.5 = half Kelly).
    kelly_cap : float
        Upper bound of the stake as a fraction of equity.
    kelly_min_trades : int
        Closed trades needed before Kelly replaces ``value``.
    lot_size : int
        Round lot in shares (100 on B3; 1 for 1-share lots).
    fractional : bool
        Buy the remainder below a lot in the fractional market.
    """

    method: str = "all_in"
    value: float = 10.0
    kelly_fraction: float = 0.5
    kelly_cap: float = 0.25
    kelly_min_trades: int = 10
    lot_size: int = 100
    fractional: bool = True

    def __post_init__(self) -> None:
        if self.method not in SIZING_METHODS:
            raise InputError(
                f"Dimensionamento desconhecido {self.method!r}: use {', '.join(SIZING_METHODS)}."
            )
        if self.method != "all_in" and not self.value > 0:
            raise InputError(f"O valor do dimensionamento deve ser positivo ({self.value}).")
        if self.method in ("percent", "risk", "kelly") and self.value > 100:
            raise InputError(f"Percentual de dimensionamento acima de 100% ({self.value}).")
        if self.method == "contracts" and (self.value != int(self.value) or self.value < 1):
            raise InputError(
                f"Quantidade de contratos deve ser um inteiro ≥ 1 (recebido {self.value})."
            )
        if int(self.lot_size) < 1:
            raise InputError(f"Lote deve ser ≥ 1 ação (recebido {self.lot_size}).")
        if not 0 < self.kelly_fraction <= 1 or not 0 < self.kelly_cap <= 1:
            raise InputError("Fração e teto de Kelly devem estar em (0, 1].")

    @property
    def code(self) -> int:
        """Integer code of the method for the kernel."""
        return SIZING_METHODS.index(self.method)

    def to_dict(self) -> dict:
        """Plain dict of the fields."""
        return {
            "method": self.method,
            "value": self.value,
            "kelly_fraction": self.kelly_fraction,
            "kelly_cap": self.kelly_cap,
            "kelly_min_trades": self.kelly_min_trades,
            "lot_size": int(self.lot_size),
            "fractional": bool(self.fractional),
        }


@numba.njit(cache=True)
def _round_shares(q: float, lot: int, fractional: bool) -> float:
    if not q > 0:
        return 0.0
    whole = math.floor(q / lot) * lot
    if fractional:
        return float(math.floor(q + 1e-9))
    return float(whole)


@numba.njit(cache=True)
def _kelly(win_rate: float, payoff: float, fraction: float, cap: float) -> float:
    if payoff <= 0 or not win_rate == win_rate:
        return 0.0
    f = win_rate - (1.0 - win_rate) / payoff
    if f <= 0:
        return 0.0
    f *= fraction
    return cap if f > cap else f


def round_shares(quantity: float, lot_size: int = 100, fractional: bool = True) -> int:
    """Round a wanted quantity of shares down to what can be traded.

    Parameters
    ----------
    quantity : float
        Shares wanted (≥ 0).
    lot_size : int
        Round lot (100 on B3).
    fractional : bool
        Allow the remainder below a lot (fractional market).

    Returns
    -------
    int
        Shares to trade: a multiple of ``lot_size``, plus the remainder when ``fractional``.

    Examples
    --------
    >>> round_shares(257.9), round_shares(257.9, fractional=False), round_shares(99, 100, False)
    (257, 200, 0)
    """
    return int(_round_shares(float(quantity), int(lot_size), bool(fractional)))


def split_lots(shares: int, lot_size: int = 100) -> tuple[int, int]:
    """Split a quantity into ``(round-lot shares, fractional-market shares)``.

    >>> split_lots(257)
    (200, 57)
    """
    shares = int(shares)
    whole = (shares // lot_size) * lot_size
    return whole, shares - whole


def kelly_fraction(
    win_rate: float, payoff: float, fraction: float = 1.0, cap: float = 1.0
) -> float:
    """Kelly stake ``f = W − (1 − W)/R`` times ``fraction``, floored at 0 and capped at ``cap``.

    Parameters
    ----------
    win_rate : float
        ``W``, fraction of winning trades (0-1).
    payoff : float
        ``R``, average winning return / average losing return (absolute values).

    Returns
    -------
    float
        Fraction of equity to stake (0 when the edge is not positive).

    Examples
    --------
    >>> round(kelly_fraction(0.6, 1.0), 4)   # 0.6 - 0.4 / 1
    0.2
    """
    return float(_kelly(float(win_rate), float(payoff), float(fraction), float(cap)))
