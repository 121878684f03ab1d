"""The one set of parsers for what a trader types, shared by every request builder.

Pages hand over widget values (numbers, strings, ``None`` for an empty field), the CLI hands
over strings, the scheduler hands over Python values; every builder in :mod:`core.requests`
funnels them through these functions, so "100.000,00" means the same R$ everywhere.

Conventions
-----------
* Numbers accept Python numbers or text in pt-BR (``"1.234,56"``) or machine form
  (``"1234.56"``, ``"1e6"``). A dot followed by exactly three digits groups thousands
  (``"1.500"`` = 1500), as a Brazilian writes it; ``"1.5"`` is one and a half.
* Percent fields are typed in % (``12,5`` or ``"12,5%"``) and returned as fractions.
* Rates (``parse_rate``) keep the CLI's long-standing convention: ``"0.12"`` is a fraction,
  ``"12%"`` a percentage.
* ``None`` and ``""`` mean "empty": the builder's default applies.
* NaN and infinities are always refused.

Every error is an :class:`core.errors.InputError` whose pt-BR message names the field, shows
the (shortened) value received and the accepted range.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, overload

from core.errors import InputError
from core.textfmt import pct

__all__ = [
    "MAX_ECHO",
    "shorten",
    "fmt_number",
    "is_empty",
    "parse_number",
    "parse_int",
    "parse_money",
    "parse_percent",
    "parse_rate",
    "parse_date",
    "parse_ticker",
    "parse_tickers",
    "parse_pairs",
    "parse_bool",
    "parse_choice",
]

#: Longest piece of user input echoed back in a message (characters).
MAX_ECHO = 60

#: B3 ticker syntax: 4 letters + 1-2 digits (+ optional F for the fractional market,
#: e.g. PETR4, TAEE11, PETR4F), an index (^BVSP, IBOV), or a futures/options code of letters
#: and digits (WINZ24, WDOF25, PETRA300). Letters, digits, ``^``, ``.`` and ``-`` only.
_TICKER_RE = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-]{1,15}$")


def shorten(text: Any, limit: int = MAX_ECHO) -> str:
    """``repr``-like echo of user input, cut to ``limit`` characters with its full length.

    >>> shorten("x" * 100, 10)
    "'xxxxxxxxx…' (100 caracteres)"
    """
    s = str(text)
    if len(s) <= limit:
        return repr(s)
    r = repr(s[: max(1, limit - 1)])
    return f"{r[:-1]}…{r[-1]} ({len(s)} caracteres)"


def fmt_number(x: float, decimals: int = 2) -> str:
    """A number in pt-BR (``1.234,5``), trailing zeros of the decimals dropped."""
    s = pct(float(x) / 100.0, decimals)[:-1]
    if "," in s:
        s = s.rstrip("0").rstrip(",")
    return s


def is_empty(value: Any) -> bool:
    """True for ``None``, ``""``/whitespace and NaN (an empty widget or flag)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    return False


def _to_float(value: Any, field: str) -> float:
    if isinstance(value, bool):
        raise InputError(f"{field}: número esperado, recebido {shorten(value)}.")
    if isinstance(value, (int, float)):
        v = float(value)
    else:
        s = str(value).strip().replace("\u00a0", "").replace(" ", "")
        s = s.replace("R$", "").replace("r$", "")
        if "," in s:
            if s.count(",") > 1 or not re.fullmatch(r"[+-]?(\d{1,3}(\.\d{3})*|\d+),\d*", s):
                raise InputError(
                    f"{field}: número inválido {shorten(value)} (ex.: 1.234,56 ou 1234.56)."
                )
            s = s.replace(".", "").replace(",", ".")
        elif re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+", s):
            s = s.replace(".", "")
        try:
            v = float(s)
        except ValueError:
            raise InputError(
                f"{field}: número inválido {shorten(value)} (ex.: 1.234,56 ou 1234.56)."
            ) from None
    if not math.isfinite(v):
        raise InputError(f"{field}: use um número finito (recebido {shorten(value)}).")
    return v


def _check_range(v: float, field: str, lo, hi, lo_open: bool, hi_open: bool, unit: str) -> None:
    below = lo is not None and (v <= lo if lo_open else v < lo)
    above = hi is not None and (v >= hi if hi_open else v > hi)
    if not (below or above):
        return

    def f(x):
        return fmt_number(x, 4) + unit

    if lo is not None and hi is not None:
        rng = f"{'(' if lo_open else '['}{f(lo)}; {f(hi)}{')' if hi_open else ']'}"
        msg = f"deve estar em {rng}"
    elif lo is not None:
        msg = f"deve ser {'maior que' if lo_open else 'no mínimo'} {f(lo)}"
    else:
        msg = f"deve ser {'menor que' if hi_open else 'no máximo'} {f(hi)}"
    raise InputError(f"{field} {msg} (recebido {f(v)}).")


@overload
def parse_number(
    value: Any,
    field: str,
    *,
    default: float,
    lo: float | None = ...,
    hi: float | None = ...,
    lo_open: bool = ...,
    hi_open: bool = ...,
    unit: str = ...,
) -> float: ...
@overload
def parse_number(
    value: Any,
    field: str,
    *,
    default: None = ...,
    lo: float | None = ...,
    hi: float | None = ...,
    lo_open: bool = ...,
    hi_open: bool = ...,
    unit: str = ...,
) -> float | None: ...


def parse_number(
    value: Any,
    field: str,
    *,
    default: float | None = None,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    unit: str = "",
) -> float | None:
    """A finite float within ``[lo, hi]`` (open ends with ``lo_open``/``hi_open``).

    Returns ``default`` (unchecked) when ``value`` is empty.

    Raises
    ------
    InputError
        Not a number, not finite, or out of range (the message names ``field``).
    """
    if is_empty(value):
        return default
    v = _to_float(value, field)
    _check_range(v, field, lo, hi, lo_open, hi_open, unit)
    return v


@overload
def parse_int(
    value: Any, field: str, *, default: int, lo: int | None = ..., hi: int | None = ...
) -> int: ...
@overload
def parse_int(
    value: Any, field: str, *, default: None = ..., lo: int | None = ..., hi: int | None = ...
) -> int | None: ...


def parse_int(
    value: Any,
    field: str,
    *,
    default: int | None = None,
    lo: int | None = None,
    hi: int | None = None,
) -> int | None:
    """An integer within ``[lo, hi]``; ``"5"``, ``5`` and ``5.0`` are accepted, ``5.5`` is not.

    Raises
    ------
    InputError
        Not a whole number or out of range.
    """
    if is_empty(value):
        return default
    v = _to_float(value, field)
    if v != int(v):
        raise InputError(f"{field}: use um número inteiro (recebido {shorten(value)}).")
    _check_range(v, field, lo, hi, False, False, "")
    return int(v)


@overload
def parse_money(
    value: Any,
    field: str = ...,
    *,
    default: float,
    allow_zero: bool = ...,
    hi: float | None = ...,
) -> float: ...
@overload
def parse_money(
    value: Any,
    field: str = ...,
    *,
    default: None = ...,
    allow_zero: bool = ...,
    hi: float | None = ...,
) -> float | None: ...


def parse_money(
    value: Any,
    field: str = "Valor em R$",
    *,
    default: float | None = None,
    allow_zero: bool = False,
    hi: float | None = None,
) -> float | None:
    """R$ amount: ``100000``, ``"100.000,00"``, ``"R$ 50.000"``, ``"50000.5"``.

    The one money parser of the project. Text with a decimal point and three or more
    decimals that is not a valid thousands grouping (``"1234.567"``) is ambiguous between
    pt-BR and machine notation and refused, as is anything below one centavo of precision.

    Parameters
    ----------
    allow_zero : bool
        Accept R$ 0 (e.g. a rebalance with no new cash); otherwise the amount must be > 0.
    hi : float, optional
        Upper bound in R$.

    Raises
    ------
    InputError
        Not a number, ambiguous, not finite, negative (or zero when not allowed).
    """
    if is_empty(value):
        return default
    if isinstance(value, str):
        s = value.strip().replace(" ", "").replace("R$", "")
        m = re.fullmatch(r"[+-]?\d+\.(\d{3,})", s)
        if m and not re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+", s):
            raise InputError(
                f"{field}: valor ambíguo {shorten(value)}; em R$ escreva 1.234.567 (milhares) "
                "ou 1234,57 (centavos)."
            )
    v = _to_float(value, field)
    if v < 0 or (v == 0 and not allow_zero):
        raise InputError(
            f"{field} deve ser {'zero ou positivo' if allow_zero else 'positivo'} "
            f"(recebido {shorten(value)})."
        )
    if hi is not None and v > hi:
        raise InputError(
            f"{field} deve ser no máximo R$ {fmt_number(hi)} (recebido {shorten(value)})."
        )
    return v


@overload
def parse_percent(
    value: Any,
    field: str,
    *,
    default: float,
    lo: float | None = ...,
    hi: float | None = ...,
    lo_open: bool = ...,
    hi_open: bool = ...,
) -> float: ...
@overload
def parse_percent(
    value: Any,
    field: str,
    *,
    default: None = ...,
    lo: float | None = ...,
    hi: float | None = ...,
    lo_open: bool = ...,
    hi_open: bool = ...,
) -> float | None: ...


def parse_percent(
    value: Any,
    field: str,
    *,
    default: float | None = None,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float | None:
    """A percentage typed in % (``12,5``, ``"12.5%"``) returned as a fraction (0.125).

    ``lo``/``hi`` are in % too. ``default`` is returned as given (a fraction).

    Raises
    ------
    InputError
        Not a number or out of range.
    """
    if is_empty(value):
        return default
    text = value.strip().rstrip("%").strip() if isinstance(value, str) else value
    v = _to_float(text, field)
    _check_range(v, field, lo, hi, lo_open, hi_open, "%")
    return v / 100.0


@overload
def parse_rate(
    value: Any,
    field: str,
    *,
    default: float,
    lo: float | None = ...,
    hi: float | None = ...,
) -> float: ...
@overload
def parse_rate(
    value: Any, field: str, *, default: None = ..., lo: float | None = ..., hi: float | None = ...
) -> float | None: ...


def parse_rate(
    value: Any,
    field: str,
    *,
    default: float | None = None,
    lo: float | None = None,
    hi: float | None = None,
) -> float | None:
    """A rate as a fraction: ``0.12`` / ``"0.12"`` or ``"12%"`` -> 0.12 (the CLI convention).

    ``lo``/``hi`` are fractions; messages show them in %.

    Raises
    ------
    InputError
        Not a number or out of range.
    """
    if is_empty(value):
        return default
    if isinstance(value, str) and value.strip().endswith("%"):
        return parse_percent(
            value,
            field,
            lo=None if lo is None else lo * 100,
            hi=None if hi is None else hi * 100,
        )
    v = _to_float(value, field)
    _check_range(
        v * 100,
        field,
        None if lo is None else lo * 100,
        None if hi is None else hi * 100,
        False,
        False,
        "%",
    )
    return v


def parse_date(value: Any, field: str):
    """A date: ``"2024-11-14"``, ``"14/11/2024"``, a ``date``/``Timestamp``; None when empty.

    Returns
    -------
    pandas.Timestamp or None
        Normalised to midnight (tz-naive).

    Raises
    ------
    InputError
        Unreadable date.
    """
    import pandas as pd

    if is_empty(value):
        return None
    if isinstance(value, str):
        s = value.strip()[:10] if re.match(r"^\d{4}-\d{2}-\d{2}T", value.strip()) else value.strip()
        fmt = "%d/%m/%Y" if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", s) else "%Y-%m-%d"
        try:
            return pd.Timestamp(pd.to_datetime(s, format=fmt))
        except (ValueError, TypeError):
            raise InputError(
                f"{field}: data inválida {shorten(value)} (use AAAA-MM-DD ou DD/MM/AAAA)."
            ) from None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise InputError(f"{field}: data inválida {shorten(value)}.") from None
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def parse_ticker(value: Any, field: str = "Ativo") -> str:
    """One B3 ticker in upper case (``petr4`` -> ``PETR4``), syntax-checked.

    Accepts stock/unit/BDR/FII codes (``PETR4``, ``TAEE11``, ``PETR4F``), indices
    (``^BVSP``) and futures/options codes (``WINZ24``). Rejects quotes, spaces, markup and
    anything longer than 16 characters, so no free text ever becomes an instrument.

    Raises
    ------
    InputError
        Empty or not a ticker.
    """
    if is_empty(value):
        raise InputError(f"{field}: informe um ticker (ex.: PETR4).")
    t = str(value).strip().upper()
    if not _TICKER_RE.fullmatch(t) or not re.search(r"[A-Z]", t):
        raise InputError(
            f"{field}: ticker inválido {shorten(value, 20)}; use o código da B3 (ex.: PETR4, "
            "TAEE11, ^BVSP)."
        )
    return t


def parse_tickers(
    value: Any, field: str = "Ativos", *, minimum: int = 1, unique: bool = True
) -> tuple[str, ...]:
    """Tickers from a list or a text separated by commas/spaces, upper case, in order.

    Raises
    ------
    InputError
        Fewer than ``minimum``, a malformed ticker, or repeated tickers when ``unique``.
    """
    if is_empty(value):
        items: list = []
    elif isinstance(value, str):
        items = [t for t in re.split(r"[,;\s]+", value) if t]
    else:
        items = [t for t in value if not is_empty(t)]
    out = tuple(parse_ticker(t, field) for t in items)
    if unique and len(set(out)) != len(out):
        dup = sorted({t for t in out if out.count(t) > 1})
        raise InputError(f"{field}: ativos repetidos na lista ({', '.join(dup)}).")
    if len(out) < minimum:
        raise InputError(
            "Escolha pelo menos um ativo."
            if minimum == 1
            else f"{field}: escolha pelo menos {minimum} ativos."
        )
    return out


def parse_pairs(value: Any, field: str, cast: Callable[[str], Any]) -> dict[str, Any]:
    """``"PETR4=12,5; VALE3=10"`` or a mapping -> ``{"PETR4": cast("12,5"), ...}``.

    Items are separated by ``;``, whitespace, or a comma followed by a ticker (so the pt-BR
    decimal comma survives: ``"PETR4=12,5, VALE3=10"``); ``=`` or ``:`` separates the ticker
    from its value, spaces around it allowed (``"VALE3 = 12,5"``). Tickers are syntax-checked.

    Raises
    ------
    InputError
        An item without ``=``, a malformed ticker, a repeated ticker or a value ``cast``
        rejects (the message names ``field`` and the item).
    """
    if is_empty(value):
        return {}
    if isinstance(value, Mapping):
        items: Iterable[tuple[str, Any]] = value.items()
    else:
        text = re.sub(r"\s*([=:])\s*", r"\1", str(value).strip())
        raw = [p for p in re.split(r"[;\s]+|,(?=\s*\^?[A-Za-z])", text) if p]
        items = []
        for item in raw:
            if "=" not in item and ":" not in item:
                raise InputError(f"{field}: use TICKER=VALOR ({shorten(item, 30)}).")
            k, v = re.split(r"[=:]", item, maxsplit=1)
            items.append((k, v))
    out: dict[str, Any] = {}
    for k, v in items:
        t = parse_ticker(k, field)
        if t in out:
            raise InputError(f"{field}: {t} aparece duas vezes.")
        try:
            out[t] = cast(v.strip() if isinstance(v, str) else v)
        except InputError as exc:
            raise InputError(f"{field}, {t}: {exc}") from None
        except (TypeError, ValueError):
            raise InputError(f"{field}: valor inválido para {t} ({shorten(v, 30)}).") from None
    return out


def parse_bool(value: Any, field: str, *, default: bool = False) -> bool:
    """A switch: bools, ``"sim"/"não"``, ``"1"/"0"``, ``"true"/"false"``; empty -> default.

    A Dash checklist value (a list) is true when non-empty.

    Raises
    ------
    InputError
        Unreadable text.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (list, tuple, set)):
        return bool(value)
    if isinstance(value, (int, float)):
        return bool(value)
    s = str(value).strip().lower()
    if s in ("1", "true", "sim", "s", "yes", "y", "on"):
        return True
    if s in ("0", "false", "não", "nao", "n", "no", "off"):
        return False
    raise InputError(f"{field}: use sim ou não (recebido {shorten(value)}).")


def parse_choice(
    value: Any, field: str, choices: Iterable[str], *, default: str | None = None
) -> str:
    """One of ``choices`` (case-insensitive); empty -> ``default``.

    Raises
    ------
    InputError
        Not among the choices (the message lists them).
    """
    options = list(choices)
    if is_empty(value):
        if default is None:
            raise InputError(f"{field}: escolha um de {', '.join(options)}.")
        return default
    s = str(value).strip()
    for c in options:
        if s.lower() == c.lower():
            return c
    raise InputError(f"{field}: {shorten(value, 30)} desconhecido; use {', '.join(options)}.")
