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

Presets: :data:`COST_PRESETS` maps ``"none"`` to :data:`NO_COSTS` and ``"b3"`` to
:data:`B3_DEFAULT` (the CLI's ``--costs`` and the page's "Custos" picker).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InputError

__all__ = ["B3Costs", "NO_COSTS", "B3_DEFAULT", "COST_PRESETS", "cost_preset"]


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
    """

    swing_fee_rate: float = 0.00030
    day_trade_fee_rate: float = 0.00023
    brokerage_per_order: float = 0.0
    slippage_bps: float = 5.0
    borrow_rate_annual: float = 0.02

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

    def fees(self, traded_value: float, *, day_trade: bool = False) -> float:
        """B3 fees plus brokerage in R$ for one order of ``traded_value`` R$ (0 for no order)."""
        if traded_value <= 0:
            return 0.0
        rate = self.day_trade_fee_rate if day_trade else self.swing_fee_rate
        return traded_value * rate + self.brokerage_per_order

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
        }


#: No costs at all (for comparisons against other engines).
NO_COSTS = B3Costs(0.0, 0.0, 0.0, 0.0, 0.0)
#: Pregão's default B3 cost preset.
B3_DEFAULT = B3Costs()
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
