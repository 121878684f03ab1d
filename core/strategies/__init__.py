"""Trading strategies: one module each, one interface (:class:`core.strategies.base.Strategy`).

``STRATEGIES`` maps each name to its class; :func:`get_strategy` builds one from
parameters (strings accepted, validated against the declared types and ranges).
"""

from __future__ import annotations

from core.errors import InputError
from core.strategies.adaptive import Adaptive
from core.strategies.base import Param, Strategy
from core.strategies.breakout import Breakout
from core.strategies.buy_and_hold import BuyAndHold
from core.strategies.macd_crossover import MacdCrossover
from core.strategies.mean_reversion import MeanReversion
from core.strategies.ml_filter import MlFilter, NoModelError
from core.strategies.rsi_divergence import RsiDivergence
from core.strategies.sma_cross import SmaCross
from core.strategies.trend_following import TrendFollowing
from core.strategies.wave3 import Wave3

__all__ = [
    "Param",
    "Strategy",
    "STRATEGIES",
    "get_strategy",
    "parse_params",
    "NoModelError",
    "SmaCross",
    "TrendFollowing",
    "MeanReversion",
    "Breakout",
    "MacdCrossover",
    "RsiDivergence",
    "Wave3",
    "MlFilter",
    "Adaptive",
    "BuyAndHold",
]

#: Every strategy by name, in the order the page lists them.
STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (
        SmaCross,
        TrendFollowing,
        MeanReversion,
        Breakout,
        MacdCrossover,
        RsiDivergence,
        Wave3,
        MlFilter,
        Adaptive,
        BuyAndHold,
    )
}


def get_strategy(name: str, **params) -> Strategy:
    """Instantiate the strategy ``name`` with ``params``.

    Raises
    ------
    InputError
        Unknown name or invalid parameters.
    """
    cls = STRATEGIES.get(str(name).strip().lower())
    if cls is None:
        raise InputError(f"Estratégia desconhecida {name!r}. Disponíveis: {', '.join(STRATEGIES)}.")
    return cls(**params)


def parse_params(text: str | None) -> dict[str, str]:
    """Parse ``"k=v,k2=v2"`` into a dict of strings (values validated by the strategy).

    Raises
    ------
    InputError
        On an item without ``=``.
    """
    out: dict[str, str] = {}
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        if "=" not in item:
            raise InputError(
                f"Parâmetro {item!r} inválido: use chave=valor (ex.: fast=10,slow=30)."
            )
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out
