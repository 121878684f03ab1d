"""The condition builder: picker values -> expression-language text (:mod:`core.alerts.expr`).

The "Alertas" page offers operand / indicator / parameters / comparison pickers; this module
turns them into the text the CLI also takes (``crosses_above(close, sma(50))``), so the page
writes exactly the language that is documented and validated in one place
(:func:`core.alerts.expr.parse`). Nothing here evaluates anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import InputError

__all__ = ["Operand", "OPERANDS", "COMPARISONS", "operand_text", "condition_text", "join"]


@dataclass(frozen=True)
class Operand:
    """One operand of the builder: pt-BR label, expression template, parameter count."""

    key: str
    label: str
    template: str  # ``{p}`` = the parameters joined by ", "
    n_params: tuple[int, ...]  # accepted counts of numeric parameters
    default: str = ""


#: Builder operands, in the order the page lists them.
OPERANDS: dict[str, Operand] = {
    o.key: o
    for o in (
        Operand("close", "Fechamento", "close", (0,)),
        Operand("open", "Abertura", "open", (0,)),
        Operand("high", "Máxima", "high", (0,)),
        Operand("low", "Mínima", "low", (0,)),
        Operand("volume", "Volume", "volume", (0,)),
        Operand("number", "Número", "{p}", (1,), "30"),
        Operand("sma", "MMS (média móvel simples)", "sma({p})", (1,), "50"),
        Operand("ema", "MME (média móvel exponencial)", "ema({p})", (1,), "9"),
        Operand("rsi", "IFR (RSI)", "rsi({p})", (1,), "14"),
        Operand("macd", "MACD (linha)", "macd({p})", (3,), "12, 26, 9"),
        Operand("macd_signal", "MACD (sinal)", "macd({p}).signal", (3,), "12, 26, 9"),
        Operand("macd_hist", "MACD (histograma)", "macd({p}).hist", (3,), "12, 26, 9"),
        Operand("bb_upper", "Bollinger (banda superior)", "bollinger({p}).upper", (2,), "20, 2"),
        Operand("bb_middle", "Bollinger (média)", "bollinger({p}).middle", (2,), "20, 2"),
        Operand("bb_lower", "Bollinger (banda inferior)", "bollinger({p}).lower", (2,), "20, 2"),
        Operand("atr", "ATR", "atr({p})", (1,), "14"),
        Operand("highest", "Máxima de N barras", "highest(high, {p})", (1,), "20"),
        Operand("lowest", "Mínima de N barras", "lowest(low, {p})", (1,), "20"),
        Operand("volume_sma", "Média do volume", "sma(volume, {p})", (1,), "20"),
    )
}
#: Comparison key -> pt-BR label.
COMPARISONS: dict[str, str] = {
    ">": "maior que",
    "<": "menor que",
    ">=": "maior ou igual a",
    "<=": "menor ou igual a",
    "crosses_above": "cruza acima de",
    "crosses_below": "cruza abaixo de",
}
_NUM = re.compile(r"^-?\d+(\.\d+)?$")


def operand_text(key: str, params: str = "") -> str:
    """The expression text of one operand, e.g. ``operand_text("sma", "50") == "sma(50)"``.

    Parameters accept a decimal comma for a single number (``"1,5"``); several parameters are
    separated by ``,`` or ``;`` (``"12, 26, 9"``).

    Raises
    ------
    InputError
        Unknown operand, wrong number of parameters or a parameter that is not a number.
    """
    op = OPERANDS.get(key)
    if op is None:
        raise InputError(f"Operando desconhecido {key!r}.")
    raw = (params or "").strip() or op.default
    if op.n_params == (0,):
        return op.template
    if op.n_params == (1,) and re.fullmatch(r"-?\d+,\d+", raw):
        parts = [raw.replace(",", ".")]
    else:
        parts = [p.strip() for p in re.split(r"[,;]", raw) if p.strip()]
    if len(parts) not in op.n_params:
        want = " ou ".join(str(n) for n in op.n_params)
        raise InputError(f"{op.label}: informe {want} parâmetro(s) numérico(s), recebido {raw!r}.")
    for p in parts:
        if not _NUM.match(p):
            raise InputError(f"{op.label}: o parâmetro {p!r} não é um número.")
    return op.template.format(p=", ".join(parts))


def condition_text(left: str, comparison: str, right: str) -> str:
    """``a > b`` or ``crosses_above(a, b)`` from two operand texts."""
    if comparison not in COMPARISONS:
        raise InputError(f"Comparação desconhecida {comparison!r}.")
    if comparison.startswith("crosses_"):
        return f"{comparison}({left}, {right})"
    return f"{left} {comparison} {right}"


def join(existing: str, new: str, connector: str = "and") -> str:
    """Append ``new`` to the condition ``existing`` with ``and``/``or``."""
    if connector not in ("and", "or"):
        raise InputError("Use 'and' ou 'or' para juntar condições.")
    existing = (existing or "").strip()
    return f"{existing} {connector} {new}" if existing else new
