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
from core.strategies.opening_range_breakout import OpeningRangeBreakout
from core.strategies.rsi_divergence import RsiDivergence
from core.strategies.sma_cross import SmaCross
from core.strategies.trend_following import TrendFollowing
from core.strategies.vwap_reversion import VwapReversion
from core.strategies.wave3 import Wave3

__all__ = [
    "Param",
    "Strategy",
    "STRATEGIES",
    "get_strategy",
    "parse_params",
    "choice_label",
    "params_text",
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
    "OpeningRangeBreakout",
    "VwapReversion",
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
        OpeningRangeBreakout,
        VwapReversion,
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


#: pt-BR names of the non-strategy choices of ``choice`` parameters.
_CHOICE_LABELS = {"none": "nenhuma (fica de fora)"}


def choice_label(value) -> str:
    """pt-BR display name of a ``choice`` parameter value (a strategy name or ``"none"``)."""
    if value in STRATEGIES:
        return STRATEGIES[value].label
    return _CHOICE_LABELS.get(value, str(value))


def params_text(strategy: str, values: dict) -> str:
    """Parameters as a pt-BR phrase: ``"Média rápida (barras): 10 · Média lenta (barras): 30"``.

    Labels come from the strategy's declared :class:`Param` (unknown names are shown as
    given); numbers in pt-BR, booleans ``sim``/``não``, choices by :func:`choice_label`.
    The code names stay in the CLI and JSON.
    """
    from core import textfmt

    declared = {p.name: p for p in STRATEGIES[strategy].params} if strategy in STRATEGIES else {}
    parts = []
    for k, v in values.items():
        p = declared.get(k)
        label = (p.label if p and p.label else k) if p else k
        if isinstance(v, bool):
            text = "sim" if v else "não"
        elif p is not None and p.kind == "choice":
            text = choice_label(v)
        elif isinstance(v, int):
            text = textfmt.integer(v)
        elif isinstance(v, float):
            text = textfmt.num(v, 2).rstrip("0").rstrip(",") if v % 1 else textfmt.integer(v)
        else:
            text = str(v)
        parts.append(f"{label}: {text}")
    return " · ".join(parts)
