"""Contract specifications of the B3 futures Pregão knows (mini index WIN, mini dollar WDO).

A futures price is quoted in points (index) or R$ per US$ 1.000 (dollar); the money a
position makes is ``points × point_value × contracts``. The table :data:`FUTURES` holds the
facts a backtest or a paper account needs per contract; margins and fees change with the
broker and with B3's schedules, so both are defaults that callers override with
:func:`futures_spec` (``margin_day_trade=...``, ``fee_day_trade=...``).

Continuous series
-----------------
A ticker ending in ``FUT`` (the bundled ``WINFUT``) is a *continuous* series: successive
contract months joined at each roll. The jumps at the rolls are real price differences
between two contracts (carry), not market moves: a position held across a roll would in
reality be closed in one contract and reopened in the next. :attr:`FuturesSpec.continuous`
says so for the ticker asked about.

Sources
-------
* B3, "Contrato Futuro Míni de Ibovespa" specification: 1 point = R$ 0,20, minimum price
  variation 5 points, monthly even-month maturities (G, J, M, Q, V, Z) on the Wednesday
  closest to the 15th.
* B3, "Contrato Futuro Míni de Taxa de Câmbio de Reais por Dólar Comercial": US$ 10.000
  per contract, quoted in R$ per US$ 1.000, so 1 point = R$ 10,00; tick 0,5 point; monthly
  maturities on the first business day of the month.
* B3, "Tarifas de listados à vista e derivativos" (índice / dólar): emolumentos and
  registration fees per contract, tiered by the investor's average daily volume (ADV) with a
  day-trade reduction. The defaults below are the first tier (a retail trader, ADV of a
  few contracts) rounded to the cent: WDO US$ 0,97 × 0,25 per contract, 16 % day-trade
  reduction, at about R$ 5,15 per US$ → R$ 1,05 (day trade) / R$ 1,25; WIN about
  R$ 0,25 (day trade) / R$ 0,37. They are approximations of a schedule that B3 revises;
  pass the broker's figures when they matter.
* Margins: B3's CORE margin for one WIN contract held overnight was about R$ 3.200 in
  2022 (≈ 15 % of the notional); brokers ask far less for day trade (R$ 25-150 per WIN).
  Both are broker decisions: defaults only.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from core.errors import InputError

__all__ = ["FuturesSpec", "FUTURES", "futures_root", "futures_spec", "is_future_ticker"]


@dataclass(frozen=True)
class FuturesSpec:
    """One futures contract's specification (all money in R$ per contract).

    Attributes
    ----------
    root : str
        B3 commodity code (``WIN``, ``WDO``).
    name : str
        Display name (pt-BR).
    point_value : float
        R$ per point per contract (WIN 0,20; WDO 10,00).
    tick : float
        Minimum price variation in points (WIN 5; WDO 0,5).
    margin_day_trade, margin_overnight : float
        Margin per contract, R$ (broker-dependent defaults, see the module docstring).
    fee_day_trade, fee_regular : float
        B3 emolumentos + registration per contract and per side, R$ (first ADV tier).
    continuous : bool
        True when the ticker is a continuous series (``...FUT``): rolls are real price
        differences between contract months.
    """

    root: str
    name: str
    point_value: float
    tick: float
    margin_day_trade: float
    margin_overnight: float
    fee_day_trade: float
    fee_regular: float
    continuous: bool = False

    def money(self, points: float, contracts: float = 1) -> float:
        """R$ made by ``points`` of price change on ``contracts`` contracts."""
        return float(points) * self.point_value * float(contracts)

    def round_to_tick(self, price: float) -> float:
        """``price`` rounded to the nearest multiple of :attr:`tick`."""
        return round(float(price) / self.tick) * self.tick


#: Default specifications by root (see the module docstring for the sources).
FUTURES: dict[str, FuturesSpec] = {
    "WIN": FuturesSpec(
        root="WIN",
        name="Mini Índice Bovespa",
        point_value=0.20,
        tick=5.0,
        margin_day_trade=100.0,
        margin_overnight=3200.0,
        fee_day_trade=0.25,
        fee_regular=0.37,
    ),
    "WDO": FuturesSpec(
        root="WDO",
        name="Mini Dólar",
        point_value=10.0,
        tick=0.5,
        margin_day_trade=150.0,
        margin_overnight=5000.0,
        fee_day_trade=1.05,
        fee_regular=1.25,
    ),
}

#: B3 maturity month codes (F = January ... Z = December).
_MONTHS = "FGHJKMNQUVXZ"
_TICKER_RE = re.compile(rf"^([A-Z]{{3}})(FUT|[{_MONTHS}]\d{{2}}|[{_MONTHS}]\d{{4}})$")


def futures_root(ticker: str) -> str | None:
    """The commodity root of a futures ticker (``WINFUT``, ``WINJ22`` → ``WIN``), else None."""
    m = _TICKER_RE.match(str(ticker or "").strip().upper())
    return m.group(1) if m and m.group(1) in FUTURES else None


def is_future_ticker(ticker: str) -> bool:
    """True for a ticker of a known futures root (continuous ``...FUT`` or a contract month)."""
    return futures_root(ticker) is not None


def futures_spec(ticker: str, **overrides: float) -> FuturesSpec:
    """The contract specification of ``ticker``, with optional overrides.

    Parameters
    ----------
    ticker : str
        ``WINFUT`` (continuous), ``WINJ22`` (one contract month) or a root (``WIN``).
    **overrides : float
        Any of ``margin_day_trade``, ``margin_overnight``, ``fee_day_trade``,
        ``fee_regular`` (R$ per contract) — the broker's figures.

    Returns
    -------
    FuturesSpec
        ``continuous`` is True for a ``...FUT`` ticker.

    Raises
    ------
    InputError
        Unknown ticker, unknown override or a negative value (pt-BR message).
    """
    t = str(ticker or "").strip().upper()
    root = t if t in FUTURES else futures_root(t)
    if root is None:
        raise InputError(
            f"{t or '(vazio)'} não é um contrato futuro conhecido (use {', '.join(FUTURES)})."
        )
    allowed = {"margin_day_trade", "margin_overnight", "fee_day_trade", "fee_regular"}
    bad = sorted(set(overrides) - allowed)
    if bad:
        raise InputError(f"Parâmetros desconhecidos do contrato: {', '.join(bad)}.")
    for k, v in overrides.items():
        if v is None or float(v) < 0:
            raise InputError(f"{k} deve ser um valor em R$ não negativo.")
    values: dict[str, Any] = {k: float(v) for k, v in overrides.items()}
    spec = dataclasses.replace(FUTURES[root], continuous=t.endswith("FUT"), **values)
    return spec
