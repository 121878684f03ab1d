"""B3 trading costs for cash equities.

Sign and unit conventions: every cost is a positive amount in R$ charged on an order; a
trade's value is ``shares × price`` in R$ (positive for buys and sells alike).

Defaults (configurable) and their sources
-----------------------------------------
* B3 fees for individuals on the cash equity market (B3, "Tarifação de Renda Variável —
  Ações à vista", price list in force in 2024): trading fee (*emolumentos*/negociação)
  0.005 % and settlement fee (liquidação) 0.025 % of traded value for swing trades, i.e.
  0.030 % in all; for day trades negociação 0.005 % and liquidação 0.018 %, 0.023 % in all.
* Brokerage: R$ 0,00 per order (most Brazilian retail brokers charge zero for stocks).
* Slippage: 5 basis points of price against the trader on every fill.
* Borrowing fee for short sales (BTC, *Banco de Títulos*): 2 % a year on the value lent,
  charged per session held (1/252 of the annual rate); the BTC lending rates B3 publishes
  for liquid stocks are usually between 0.5 % and 3 % a year.

Dated schedule (B3 fees change over time)
-----------------------------------------
:data:`B3_FEE_SCHEDULE` lists the B3 rates for individuals on the cash equity market with the
date each came into force; :func:`fee_rates` gives the rates in force on each trade date, so
a 2012 trade pays the 2012 price list. :class:`B3Costs` with ``schedule=True`` (the ``"b3"``
preset) uses it; explicit ``swing_fee_rate``/``day_trade_fee_rate`` with ``schedule=False``
apply one flat rate to every date (what-if runs, comparisons with other engines).

Brokerage is charged **per order**: an entry or exit that splits into a round-lot order and
a fractional-market order (e.g. 257 shares = 200 + 57 ``PETR4F``) pays it twice
(:func:`n_orders`).

One implementation: the engine kernel and :meth:`B3Costs.fees` both call the numba function
:func:`order_fee`; nothing else computes a fee.

Futures (per contract, not per R$)
----------------------------------
B3 charges futures (WIN, WDO) per contract and per side: emolumentos + registration, with a
lower rate for day trades (B3, "Tarifas de listados à vista e derivativos"; first ADV tier
for an individual). The per-contract defaults are part of each contract's specification in
:data:`core.data.futures.FUTURES` (``fee_day_trade``, ``fee_regular``; estimates, overridable
per run); the rule that turns them into an order's cost is :func:`contract_fee`, the only
place it is computed (the engine kernel calls it for futures, :func:`order_fee` for cash
equities).

Presets: :data:`COST_PRESETS` maps ``"none"`` to :data:`NO_COSTS` and ``"b3"`` to
:data:`B3_DEFAULT` (the CLI's ``--costs`` and the page's "Custos" picker).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np
import pandas as pd

from core.errors import InputError

__all__ = [
    "B3Costs",
    "NO_COSTS",
    "B3_DEFAULT",
    "COST_PRESETS",
    "cost_preset",
    "B3_FEE_SCHEDULE",
    "FeePeriod",
    "fee_rates",
    "order_fee",
    "contract_fee",
    "n_orders",
]


@dataclass(frozen=True)
class FeePeriod:
    """B3 fees (negociação + liquidação) for individuals in force from ``since``.

    Parameters
    ----------
    since : str
        First trade date (ISO) on which the rates apply.
    swing : float
        Swing-trade rate, fraction of traded value (0.0003 = 0,030 %).
    day_trade : float
        Day-trade rate of the first (smallest) volume tier, fraction of traded value.
    source : str
        Where the figures come from.
    """

    since: str
    swing: float
    day_trade: float
    source: str


#: B3's price list for individuals, cash equities, by date in force (oldest first).
#: Day-trade rates are those of the first volume tier (an individual trading less than the
#: first tier's monthly day-trade volume; larger volumes pay less: B3 Ofício Circular
#: 189/2023-PRE, section 1.3 — not modelled, so day-trade costs err on the high side).
B3_FEE_SCHEDULE: tuple[FeePeriod, ...] = (
    FeePeriod(
        "1900-01-01",
        0.000325,
        0.000230,
        "BM&FBOVESPA/B3 price list before the 2019-2020 revision: negociação (emolumentos) "
        "0,005 % + liquidação 0,0275 % swing; 0,005 % + 0,018 % day trade (as printed on "
        "brokerage notes of 2010-2019, 'Taxa de liquidação 0,0275 %'). The exact switch date "
        "is approximate (first notes showing 0,025 %).",
    ),
    FeePeriod(
        "2020-01-01",
        0.000300,
        0.000230,
        "B3, 'Tarifação de Renda Variável — Ações à vista', pessoas físicas: negociação "
        "0,005 % + liquidação 0,025 % = 0,030 % swing; day trade 0,023 % (first tier).",
    ),
)


@numba.njit(cache=True)
def n_orders(shares: float, lot: float) -> int:
    """Orders needed for ``shares``: one round-lot order and/or one fractional order.

    >>> n_orders(257, 100), n_orders(200, 100), n_orders(57, 100), n_orders(57, 1)
    (2, 1, 1, 1)
    """
    if shares <= 0:
        return 0
    whole = np.floor(shares / lot + 1e-9) * lot
    n = 0
    if whole > 0:
        n += 1
    if shares - whole > 1e-9:
        n += 1
    return n


@numba.njit(cache=True)
def order_fee(value: float, rate: float, brokerage: float, orders: int) -> float:
    """Cost in R$ of one order decision: ``value × rate + brokerage × orders``.

    Parameters
    ----------
    value : float
        Traded value in R$ (shares × fill price).
    rate : float
        B3 fee rate in force (swing or day trade), fraction of value.
    brokerage : float
        Brokerage per order in R$.
    orders : int
        Orders sent (:func:`n_orders`: 2 when split into lot + fractional).
    """
    if value <= 0:
        return 0.0
    return value * rate + brokerage * orders


@numba.njit(cache=True)
def contract_fee(contracts: float, per_contract: float, brokerage: float) -> float:
    """Cost in R$ of one futures order: ``contracts × per_contract + brokerage``.

    Parameters
    ----------
    contracts : float
        Contracts in the order (≥ 0; 0 means no order and costs nothing).
    per_contract : float
        B3 fee per contract and per side in R$ (day-trade or regular rate of the contract's
        :class:`core.data.futures.FuturesSpec`).
    brokerage : float
        Broker's fee per order in R$.

    >>> contract_fee(3, 0.25, 0.0), contract_fee(0, 0.25, 1.0)
    (0.75, 0.0)
    """
    if contracts <= 0:
        return 0.0
    return contracts * per_contract + brokerage


def fee_rates(
    dates: pd.DatetimeIndex, schedule: tuple[FeePeriod, ...] = B3_FEE_SCHEDULE
) -> tuple[np.ndarray, np.ndarray]:
    """Swing and day-trade B3 fee rates in force on each date.

    Parameters
    ----------
    dates : pandas.DatetimeIndex
        Trade dates (n,).
    schedule : tuple of FeePeriod
        Sorted by ``since``.

    Returns
    -------
    (swing, day_trade) : float64 arrays (n,)
        Fractions of traded value.
    """
    since, swing, day_trade = _schedule_arrays(tuple(schedule))
    d = np.asarray(dates, dtype="datetime64[ns]")
    pos = np.clip(np.searchsorted(since, d, side="right") - 1, 0, None)
    return swing[pos].astype(np.float64), day_trade[pos].astype(np.float64)


@lru_cache(maxsize=16)
def _schedule_arrays(
    schedule: tuple[FeePeriod, ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``since`` (datetime64[ns]), swing and day-trade rates of a schedule (read-only,
    built once per schedule: every backtest asks for the rates of its dates)."""
    out = (
        np.array([np.datetime64(p.since, "ns") for p in schedule]),
        np.array([p.swing for p in schedule]),
        np.array([p.day_trade for p in schedule]),
    )
    for a in out:
        a.flags.writeable = False
    return out


@dataclass(frozen=True)
class B3Costs:
    """Cost model of one order on B3's cash equity market.

    Parameters
    ----------
    swing_fee_rate : float
        B3 fees (negociação + liquidação) for swing trades, fraction of traded value.
    day_trade_fee_rate : float
        B3 fees for day trades, fraction of traded value.
    brokerage_per_order : float
        Broker's fixed fee per order in R$.
    slippage_bps : float
        Adverse price move per fill in basis points (1 bp = 0.01 %).
    borrow_rate_annual : float
        Short-sale borrowing fee, fraction of the position's value per year (252 sessions).
    schedule : bool
        Charge B3's dated price list (:data:`B3_FEE_SCHEDULE`) by trade date instead of the
        two flat rates above.
    """

    swing_fee_rate: float = 0.00030
    day_trade_fee_rate: float = 0.00023
    brokerage_per_order: float = 0.0
    slippage_bps: float = 5.0
    borrow_rate_annual: float = 0.02
    schedule: bool = False

    def __post_init__(self) -> None:
        for name in (
            "swing_fee_rate",
            "day_trade_fee_rate",
            "brokerage_per_order",
            "slippage_bps",
            "borrow_rate_annual",
        ):
            v = getattr(self, name)
            if v < 0:
                raise InputError(f"Custo {name} não pode ser negativo (recebido {v}).")

    def rates(self, dates: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
        """Swing and day-trade rates per date (the schedule, or the flat rates)."""
        if self.schedule:
            return fee_rates(dates)
        n = len(dates)
        return (
            np.full(n, float(self.swing_fee_rate)),
            np.full(n, float(self.day_trade_fee_rate)),
        )

    def fees(
        self,
        traded_value: float,
        *,
        day_trade: bool = False,
        date=None,
        orders: int = 1,
    ) -> float:
        """B3 fees plus brokerage in R$ for one order decision of ``traded_value`` R$.

        ``date`` picks the schedule's rates (today's when omitted); ``orders`` is the
        number of orders sent (2 for a lot + fractional split). 0 for no order.
        """
        d = pd.DatetimeIndex([pd.Timestamp(date) if date is not None else pd.Timestamp.now()])
        sw, dt = self.rates(d)
        rate = float(dt[0] if day_trade else sw[0])
        return float(order_fee(float(traded_value), rate, self.brokerage_per_order, int(orders)))

    def fill_price(self, price: float, side: int) -> float:
        """Price after slippage: ``side`` +1 buys pay more, -1 sells receive less."""
        if side not in (1, -1):
            raise InputError("side deve ser +1 (compra) ou -1 (venda).")
        return price * (1.0 + side * self.slippage_bps / 10_000.0)

    def borrow_cost(self, value: float, sessions: float = 1.0) -> float:
        """Borrowing fee in R$ for a short of ``value`` R$ held ``sessions`` sessions."""
        return max(0.0, value) * self.borrow_rate_annual / 252.0 * sessions

    def to_dict(self) -> dict:
        """Plain dict of the fields (stored with each backtest run)."""
        return {
            "swing_fee_rate": self.swing_fee_rate,
            "day_trade_fee_rate": self.day_trade_fee_rate,
            "brokerage_per_order": self.brokerage_per_order,
            "slippage_bps": self.slippage_bps,
            "borrow_rate_annual": self.borrow_rate_annual,
            "schedule": self.schedule,
        }


#: No costs at all (for comparisons against other engines).
NO_COSTS = B3Costs(0.0, 0.0, 0.0, 0.0, 0.0)
#: Pregão's default B3 cost preset.
B3_DEFAULT = B3Costs(schedule=True)
#: Named presets offered by the CLI (``--costs``) and the page.
COST_PRESETS: dict[str, B3Costs] = {"none": NO_COSTS, "b3": B3_DEFAULT}


def cost_preset(name: str) -> B3Costs:
    """The preset called ``name`` (``"none"`` or ``"b3"``).

    Raises
    ------
    InputError
        For an unknown preset name.
    """
    try:
        return COST_PRESETS[str(name).lower()]
    except KeyError:
        raise InputError(
            f"Preset de custos desconhecido {name!r}: use {' ou '.join(COST_PRESETS)}."
        ) from None
