"""Futures contracts in a paper account: what a WIN or WDO order costs and moves.

A paper account keeps futures quantities in **contracts** and prices in **points** (as the
trader reads them on the screen, tick 5 points for WIN), while money is R$: a fill's result
is ``points × point value × contracts``. The terms — point value, tick, margin per contract,
B3 fee per contract and side (regular and day trade), slippage in ticks — come from the one
rule the backtest engine uses (:func:`core.backtest.runner.contract_terms` over
:func:`core.data.futures.futures_spec`, with the account's :class:`EngineConfig` overrides),
so a replay charges what the backtest charges.

Cash model (as the engine's, :mod:`core.backtest.engine`): no notional is paid; an entry
needs ``contracts × margin + fees`` of free cash and the margin stays blocked while the
position is open; the cash moves by the fees and, when a position closes, by its result
(the daily settlement of a day trade happens at its close).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PaperContract", "paper_contract"]


@dataclass(frozen=True)
class PaperContract:
    """The terms a paper account trades one futures ticker with.

    Attributes
    ----------
    ticker : str
    point_value : float
        R$ per point per contract (WIN 0,20).
    tick : float
        Minimum price variation in points (WIN 5).
    margin : float
        Margin per contract, R$ (day-trade margin when the account's engine is in day-trade
        mode, else overnight; or the configured one).
    fee_regular, fee_day_trade : float
        B3 fee per contract and side, R$.
    slippage : float
        Slippage per market fill in points (ticks × tick).
    """

    ticker: str
    point_value: float
    tick: float
    margin: float
    fee_regular: float
    fee_day_trade: float
    slippage: float

    @property
    def tick_text(self) -> str:
        """The tick in pt-BR (``5``, ``0,5``)."""
        from core.textfmt import num

        return num(self.tick, 0 if self.tick == int(self.tick) else 1)

    def on_tick(self, price: float) -> bool:
        """True when ``price`` (points) is a multiple of the tick."""
        x = float(price) / self.tick
        return abs(x - round(x)) < 1e-6


def paper_contract(ticker: str, kind: str | None, engine) -> PaperContract | None:
    """The futures terms of ``ticker`` for an account traded with ``engine`` (None: not a
    future).

    Parameters
    ----------
    ticker : str
    kind : str or None
        The instrument's kind (``future`` makes it a future; so does a known futures code
        such as ``WINFUT``).
    engine : EngineConfig
        The account's engine settings (costs preset, overrides, day-trade mode).

    Returns
    -------
    PaperContract or None

    Raises
    ------
    InputError
        A future of a root Pregão has no specification for (pt-BR).
    """
    from core.backtest.runner import contract_terms
    from core.data.futures import futures_spec

    t = str(ticker).upper()
    got = contract_terms([t], {t: kind or ""}, engine).get(t)
    if got is None:
        return None
    pv, terms = got
    tick = futures_spec(t).tick
    return PaperContract(
        ticker=t,
        point_value=float(pv),
        tick=float(tick),
        margin=float(terms.margin),
        fee_regular=float(terms.fee_regular),
        fee_day_trade=float(terms.fee_day_trade),
        slippage=float(terms.slippage) / float(pv),
    )
