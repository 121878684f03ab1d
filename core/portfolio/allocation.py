"""Turn weights into executable B3 orders: whole lots of 100 plus a fractional remainder.

On B3's cash market a stock trades in standard lots of 100 shares (``PETR4``); 1 to 99
shares go to the fractional market (``PETR4F``). Given capital in R$ (and optionally
current holdings), :func:`allocate_lots` solves the integer programme

.. math::

    \\min_{L, F} \\sum_i |p_i (100 L_i + F_i) - w_i W| + \\varepsilon \\cdot \\text{costs}

    \\text{s.t. } \\sum_i p_i (100 L_i + F_i) + \\text{costs} \\le W,\\quad
    L_i \\in \\mathbb{Z}_{\\ge 0},\\ F_i \\in \\{0, \\dots, 99\\}

with ``W`` = cash + value of current holdings, ``costs`` = slippage + B3 fees on every traded
share (and brokerage per order when it is not zero), using :func:`scipy.optimize.milp`
(HiGHS branch and bound). The absolute values are linearised with auxiliary variables.
Because ``F_i ≤ 99`` the lot/fractional split of a position is unique, so the lot market
never receives a non-multiple of 100 and the fractional market never 100 or more.

Units: prices in R$ per share (the traded, unadjusted close), capital and costs in R$,
weights as fractions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from core.backtest.costs import B3_DEFAULT, B3Costs
from core.data.store import Store
from core.errors import InputError
from core.textfmt import pct

__all__ = ["LOT_SIZE", "Allocation", "allocate_lots", "latest_prices", "split_order"]

#: HiGHS options of the allocation MILP: a relative gap of 1e-4 (centavos on the R$
#: distance); presolve off because scipy's HiGHS build prints a debug line to stdout from
#: presolve on some instances (which would corrupt ``--json`` output), and it is faster here.
_MILP_OPTIONS = {"mip_rel_gap": 1e-4, "presolve": False}

#: Standard B3 lot (shares).
LOT_SIZE = 100


@dataclass(frozen=True)
class Allocation:
    """Result of :func:`allocate_lots`.

    Attributes
    ----------
    positions : pandas.DataFrame
        One row per ticker: ``price`` (R$), ``target_weight``, ``target_value`` (R$),
        ``current_shares``, ``shares``, ``lots`` (lot-market lots), ``fractional``
        (fractional-market shares, 0–99), ``value`` (R$), ``weight`` (achieved, fraction of
        ``capital``).
    orders : pandas.DataFrame
        Columns ``ticker`` (``PETR4`` or ``PETR4F``), ``market`` (``lote``/``fracionário``),
        ``side`` (``C`` buy, ``V`` sell), ``shares``, ``price`` (R$, before slippage),
        ``value`` (R$ at fill price), ``fees`` (R$, B3 fees + brokerage), ``slippage`` (R$).
    capital : float
        Cash plus current holdings at ``price`` (R$).
    invested : float
        Value of the target positions at ``price`` (R$).
    costs : float
        Fees + brokerage + slippage of all orders (R$).
    cash_left : float
        Cash after every order: cash + sells - buys - fees (R$, never negative; with no
        holdings it is ``capital - invested - costs``).
    distance : float
        ``Σ |value - target_value|`` (R$), the minimised objective.
    status : str
        Solver message.
    """

    positions: pd.DataFrame
    orders: pd.DataFrame
    capital: float
    invested: float
    costs: float
    cash_left: float
    distance: float
    status: str = ""
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain data (JSON-ready)."""
        pos = self.positions.reset_index().rename(columns={"index": "ticker"})
        return {
            "capital": float(self.capital),
            "invested": float(self.invested),
            "costs": float(self.costs),
            "cash_left": float(self.cash_left),
            "distance": float(self.distance),
            "positions": pos.to_dict(orient="records"),
            "orders": self.orders.to_dict(orient="records"),
            "notes": list(self.notes),
        }


def split_order(ticker: str, shares: int, lot_size: int = LOT_SIZE) -> list[tuple[str, int]]:
    """Split ``shares`` (> 0) into a lot-market and a fractional-market leg.

    >>> split_order("PETR4", 250)
    [('PETR4', 200), ('PETR4F', 50)]
    """
    shares = int(shares)
    out = []
    lots, frac = divmod(shares, lot_size)
    if lots:
        out.append((ticker, lots * lot_size))
    if frac:
        out.append((ticker + "F", frac))
    return out


def latest_prices(store: Store, tickers: Sequence[str], asof=None) -> pd.DataFrame:
    """Last traded close (unadjusted, R$ per share) of each ticker on or before ``asof``.

    Returns
    -------
    pandas.DataFrame
        Index ticker; columns ``price`` and ``date``.

    Raises
    ------
    InputError
        A ticker without bars up to ``asof``.
    """
    rows = {}
    for t in tickers:
        bars = store.bars(t, None, asof)
        if bars.empty:
            raise InputError(f"Sem preço para {t} até a data pedida.")
        rows[t] = {"price": float(bars["close"].iloc[-1]), "date": bars.index[-1]}
    return pd.DataFrame.from_dict(rows, orient="index")


def _orders(tickers, shares, h, price, costs: B3Costs, lot_size: int) -> tuple[list, float]:
    """Orders (lot + fractional legs) taking ``h`` to ``shares``, and their total cost."""
    orders = []
    total = 0.0
    for i, t in enumerate(tickers):
        delta = int(shares[i] - h[i])
        if delta == 0:
            continue
        side = 1 if delta > 0 else -1
        for leg, qty in split_order(t, abs(delta), lot_size):
            fill = costs.fill_price(price[i], side)
            val = fill * qty
            fee = costs.fees(val)
            slip = abs(fill - price[i]) * qty
            total += fee + slip
            orders.append(
                {
                    "ticker": leg,
                    "market": "fracionário" if leg != t else "lote",
                    "side": "C" if side > 0 else "V",
                    "shares": int(qty),
                    "price": float(price[i]),
                    "value": float(val),
                    "fees": float(fee),
                    "slippage": float(slip),
                }
            )
    return orders, total


def allocate_lots(
    weights: Mapping[str, float] | pd.Series,
    prices: Mapping[str, float] | pd.Series,
    capital: float,
    *,
    costs: B3Costs = B3_DEFAULT,
    holdings: Mapping[str, int] | None = None,
    lot_size: int = LOT_SIZE,
    time_limit: float = 20.0,
) -> Allocation:
    """Whole lots plus fractional shares closest (in R$) to ``weights`` of the capital.

    Parameters
    ----------
    weights : mapping of str -> float
        Target weights (fractions, long-only, summing to at most 1; the rest stays cash).
    prices : mapping of str -> float
        R$ per share for every ticker in ``weights`` and ``holdings``.
    capital : float
        Cash available in R$ (in a rebalance: cash beside the holdings; may be 0).
    costs : B3Costs
        Fee, brokerage and slippage model; every order pays them.
    holdings : mapping of str -> int, optional
        Current shares. Then the result is a rebalance: orders buy and sell the difference.
    lot_size : int
        Standard lot (100 on B3).
    time_limit : float
        Seconds for the MILP solver.

    Returns
    -------
    Allocation

    Raises
    ------
    InputError
        Negative capital or weights, weights summing above 1, missing or non-positive
        prices, negative holdings.
    """
    w = pd.Series(dict(weights), dtype=float)
    h_map = {str(k).upper(): int(v) for k, v in (holdings or {}).items() if int(v) != 0}
    if any(v < 0 for v in h_map.values()):
        raise InputError("Posições atuais devem ser quantidades positivas de ações.")
    if not np.isfinite(capital) or capital < 0:
        raise InputError("O capital deve ser um valor em R$ maior ou igual a zero.")
    if (w < -1e-9).any():
        raise InputError("A alocação em lotes só aceita pesos positivos (carteira comprada).")
    w = w.clip(lower=0.0)
    if w.sum() > 1 + 1e-6:
        raise InputError(f"Os pesos somam {pct(w.sum(), 2)}; devem somar no máximo 100%.")
    tickers = list(dict.fromkeys([*w.index, *h_map]))
    p = pd.Series(dict(prices), dtype=float).reindex(tickers)
    if p.isna().any() or (p <= 0).any():
        bad = [t for t in tickers if not (p.get(t, np.nan) > 0)]
        raise InputError(f"Preço ausente ou inválido para: {', '.join(bad)}.")
    n = len(tickers)
    price = p.to_numpy()
    h = np.array([h_map.get(t, 0) for t in tickers], dtype=float)
    wt = w.reindex(tickers).fillna(0.0).to_numpy()
    wealth = float(capital + price @ h)
    if wealth <= 0:
        raise InputError("Capital e posições atuais somam R$ 0: nada a alocar.")
    target = wt * wealth
    s = costs.slippage_bps / 10_000.0
    unit_cost = price * (s + (1 + s) * costs.swing_fee_rate)  # R$ per traded share, ≥ actual
    brok = costs.brokerage_per_order
    # Never above the target rounded up (or the current holding): one more share would add
    # p_i to the distance and spend cash, so these bounds cut no optimal solution.
    max_shares = np.maximum(np.ceil(target / price), h)
    max_lots = np.floor(max_shares / lot_size)

    # Variable blocks: L (n), F (n), dp (n), dm (n), u (n), z (n, only with brokerage).
    nb = 6 if brok > 0 else 5
    nv = nb * n
    iL, iF, iP, iM, iU, iZ = (np.arange(n) + k * n for k in range(6))
    c = np.zeros(nv)
    c[iU] = 1.0
    eps = 1e-4
    c[iP] = eps * unit_cost
    c[iM] = eps * unit_cost
    if brok > 0:
        c[iZ] = eps * 2 * brok
    lb = np.zeros(nv)
    ub = np.full(nv, np.inf)
    ub[iL] = max_lots
    ub[iF] = lot_size - 1
    if brok > 0:
        ub[iZ] = 1
    integrality = np.zeros(nv)
    integrality[iL] = 1
    integrality[iF] = 1
    if brok > 0:
        integrality[iZ] = 1

    rows: list[np.ndarray] = []
    lo_b: list[float] = []
    hi_b: list[float] = []

    def row() -> np.ndarray:
        return np.zeros(nv)

    def add(r: np.ndarray, lo: float, hi: float) -> None:
        """One constraint ``lo <= r @ x <= hi``."""
        rows.append(r)
        lo_b.append(lo)
        hi_b.append(hi)

    for i in range(n):
        # 100 L + F - dp + dm = h
        r = row()
        r[iL[i]], r[iF[i]], r[iP[i]], r[iM[i]] = lot_size, 1.0, -1.0, 1.0
        add(r, h[i], h[i])
        # u >= p*shares - T  ->  p*100 L + p F - u <= T
        r = row()
        r[iL[i]], r[iF[i]], r[iU[i]] = price[i] * lot_size, price[i], -1.0
        add(r, -np.inf, target[i])
        # u >= T - p*shares  ->  -p*100 L - p F - u <= -T
        r = row()
        r[iL[i]], r[iF[i]], r[iU[i]] = -price[i] * lot_size, -price[i], -1.0
        add(r, -np.inf, -target[i])
        if brok > 0:
            big = max_lots[i] * lot_size + lot_size + h[i]
            r = row()
            r[iP[i]], r[iM[i]], r[iZ[i]] = 1.0, 1.0, -big
            add(r, -np.inf, 0.0)
    # Budget as cash flow: Σ p·(dp - dm) + Σ unit_cost·(dp + dm) + 2·brok·Σz ≤ cash.
    r = row()
    r[iP] = price + unit_cost
    r[iM] = -price + unit_cost
    if brok > 0:
        r[iZ] = 2 * brok
    add(r, -np.inf, float(capital))

    res = milp(
        c,
        constraints=LinearConstraint(np.vstack(rows), lo_b, hi_b),
        integrality=integrality,
        bounds=Bounds(lb, ub),
        options={"time_limit": time_limit, **_MILP_OPTIONS},
    )
    notes: list[str] = []
    if res.x is None:
        # Cannot happen (keeping the holdings is always feasible) but never crash.
        lots = np.floor(h / lot_size)
        frac = h - lots * lot_size
        notes.append(f"Otimizador inteiro sem solução ({res.message}); posições mantidas.")
    else:
        lots = np.round(res.x[iL])
        frac = np.round(res.x[iF])
        if res.status == 1:
            notes.append("Tempo-limite do otimizador atingido: alocação viável, talvez não ótima.")
    shares = lots * lot_size + frac
    orders, total_costs = _orders(tickers, shares, h, price, costs, lot_size)
    # Integer rounding of the solver's output may overshoot the cash by a fraction of a
    # centavo: trim the largest buy one share at a time until the cash ledger is >= 0.
    while (
        capital + sum((-o["value"] if o["side"] == "C" else o["value"]) - o["fees"] for o in orders)
        < 0
    ):
        buys = [(price[i] * (shares[i] - h[i]), i) for i in range(n) if shares[i] > h[i]]
        if not buys:
            break
        i = max(buys)[1]
        shares[i] -= 1
        notes.append(f"Compra de {tickers[i]} reduzida em 1 ação para caber no caixa.")
        orders, total_costs = _orders(tickers, shares, h, price, costs, lot_size)
    lots, frac = np.divmod(shares, lot_size)
    value = price * shares
    invested = float(value.sum())
    cash_left = float(capital) + sum(
        (-o["value"] if o["side"] == "C" else o["value"]) - o["fees"] for o in orders
    )
    if min(price) * 1 > wealth:
        notes.append("Capital menor que o preço de uma ação: nada comprado.")
    positions = pd.DataFrame(
        {
            "price": price,
            "target_weight": wt,
            "target_value": target,
            "current_shares": h.astype(int),
            "shares": shares.astype(int),
            "lots": lots.astype(int),
            "fractional": frac.astype(int),
            "value": value,
            "weight": value / wealth,
        },
        index=pd.Index(tickers, name="ticker"),
    )
    cols = ["ticker", "market", "side", "shares", "price", "value", "fees", "slippage"]
    return Allocation(
        positions=positions,
        orders=pd.DataFrame(orders, columns=cols),
        capital=wealth,
        invested=invested,
        costs=float(total_costs),
        cash_left=float(cash_left),
        distance=float(np.abs(value - target).sum()),
        status=str(res.message),
        notes=notes,
    )
