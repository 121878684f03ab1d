"""B3 ticker syntax: the one check every entry point applies before a ticker is stored.

A B3 code is four letters plus a numeric suffix (``PETR4``, ``TAEE11``, ``AAPL34``), a
fractional-market code (``PETR4F``), an option series (``PETRA245``, ``PETRX26``), a future
(``WINFUT``, ``WINQ21``, ``DOLV24``) or an index (``IBOV``, Yahoo's ``^BVSP``). What they
share, and what :data:`TICKER_PATTERN` enforces: upper-case ASCII letters and digits only,
starting with a letter (an index may start with ``^``), 2 to 12 characters. Quotes,
spaces, ``;``, ``<`` and the like are refused, so a ticker can never smuggle SQL or HTML
into a table, a log or a page. Source: B3, "Código de negociação" (Manual de
Procedimentos Operacionais, ticker formation rules).
"""

from __future__ import annotations

import re

from core.errors import InputError

__all__ = ["TICKER_PATTERN", "is_valid_ticker", "validate_ticker", "normalize_ticker"]

#: Regular expression of an accepted ticker (module docstring).
TICKER_PATTERN = re.compile(r"^\^?[A-Z][A-Z0-9]{1,11}$")


def normalize_ticker(ticker: str) -> str:
    """Strip and upper-case ``ticker`` (no validation)."""
    return str(ticker or "").strip().upper()


def is_valid_ticker(ticker: str) -> bool:
    """True when ``ticker`` (after :func:`normalize_ticker`) has B3 ticker syntax."""
    return bool(TICKER_PATTERN.match(normalize_ticker(ticker)))


def validate_ticker(ticker: str) -> str:
    """Return the normalised ticker or raise a pt-BR :class:`InputError`.

    Parameters
    ----------
    ticker : str
        Candidate code, e.g. ``" petr4 "``.

    Returns
    -------
    str
        ``"PETR4"``.

    Raises
    ------
    InputError
        Empty, or not B3 ticker syntax (the message shows at most 40 characters of it).
    """
    t = normalize_ticker(ticker)
    if not t:
        raise InputError("Ticker vazio.")
    if not TICKER_PATTERN.match(t):
        shown = t if len(t) <= 40 else t[:40] + "…"
        raise InputError(
            f"Ticker inválido: {shown!r}. Use o código da B3: letras e números, como PETR4, "
            "TAEE11, PETR4F, WINFUT ou ^BVSP."
        )
    return t
