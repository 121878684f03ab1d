"""The data jobs: file import (Dados page, ``python -m dashboard import``) and the online
update ("Atualizar", ``python -m dashboard update``, the daily scheduled job).

:func:`build_import_request` checks the format, the ticker's B3 syntax (so no free text
becomes an instrument) and the generic-CSV column mapping; :func:`run_import_request` calls
:func:`core.data.imports.import_files`. :func:`build_update_request` /
:func:`run_update_request` do the same for :func:`core.data.imports.update_prices`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.errors import InputError
from core.requests.parsing import (
    is_empty,
    parse_bool,
    parse_choice,
    parse_ticker,
    parse_tickers,
    shorten,
)

if TYPE_CHECKING:
    from core.data.imports import ImportReport
    from core.data.store import Store

__all__ = [
    "SOURCES",
    "MAPPING_KEYS",
    "ImportRequest",
    "UpdateRequest",
    "build_import_request",
    "build_update_request",
    "run_import_request",
    "run_update_request",
    "report_summary",
]

Progress = Callable[[float, str], None]

#: Online sources of the update.
SOURCES: tuple[str, ...] = ("yahoo", "mt5")
#: Column-mapping keys of the generic CSV format (besides the reader options).
MAPPING_KEYS: tuple[str, ...] = (
    "date",
    "open",
    "high",
    "low",
    "close",
    "adj_close",
    "volume",
    "ticker",
)
_READER_KEYS = ("sep", "decimal", "dayfirst", "date_format")


@dataclass(frozen=True)
class ImportRequest:
    """Files to import.

    Attributes
    ----------
    paths : tuple of str
    format : str
        :data:`core.data.imports.FORMATS`.
    ticker : str or None
        For CSV files that do not name their instrument (syntax-checked).
    mapping : dict or None
        Generic CSV (``format="csv"``): column names and reader options.
    fractional : bool
        COTAHIST: also the fractional market.
    names : tuple of str or None
        Display names of uploaded files.
    strict : bool
        All or nothing: a vendor placeholder row on a non-session fails the import too.
    tickers : tuple of str
        Whole-market files: instruments to add besides those already followed.
    kinds : tuple of str
        Whole-market files: instrument kinds to add (:data:`core.data.models.INSTRUMENT_KINDS`).
    everything : bool
        Whole-market files: add every instrument of the file ("todos").
    """

    paths: tuple[str, ...]
    format: str = "auto"
    ticker: str | None = None
    mapping: dict | None = None
    fractional: bool = False
    names: tuple[str, ...] | None = field(default=None)
    strict: bool = False
    tickers: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    everything: bool = False


def build_import_request(
    paths: Any,
    *,
    format: Any = None,  # noqa: A002 - the CLI flag's name
    ticker: Any = None,
    mapping: Mapping | None = None,
    fractional: Any = None,
    names: Any = None,
    strict: Any = None,
    tickers: Any = None,
    kinds: Any = None,
    everything: Any = None,
) -> ImportRequest:
    """Validate raw input into an :class:`ImportRequest`.

    Raises
    ------
    InputError
        No file, unknown format, a malformed ticker, an unknown mapping key or kind.
    """
    from core.data.imports import FORMATS
    from core.data.models import INSTRUMENT_KINDS

    items = [paths] if isinstance(paths, str) else list(paths or [])
    items = [str(p) for p in items if not is_empty(p)]
    if not items:
        raise InputError("Escolha ao menos um arquivo para importar.")
    fmt = parse_choice(format, "Formato", FORMATS, default="auto")
    tick = None if is_empty(ticker) else parse_ticker(ticker, "Ticker do arquivo")
    mp = None
    if fmt == "csv":
        raw = {k: v for k, v in dict(mapping or {}).items() if not is_empty(v)}
        unknown = sorted(set(raw) - set(MAPPING_KEYS) - set(_READER_KEYS))
        if unknown:
            raise InputError(f"Mapeamento: chave(s) desconhecida(s) {', '.join(unknown)}.")
        for k in MAPPING_KEYS:
            if k in raw and (not isinstance(raw[k], str) or len(raw[k]) > 100):
                raise InputError(
                    f"Mapeamento: nome de coluna inválido para {k} ({shorten(raw[k], 30)})."
                )
        raw.setdefault("date", "date")
        raw.setdefault("close", "close")
        mp = raw
    return ImportRequest(
        paths=tuple(items),
        format=fmt,
        ticker=tick,
        mapping=mp,
        fractional=parse_bool(fractional, "Mercado fracionário", default=False),
        names=tuple(str(n) for n in names) if names else None,
        strict=parse_bool(strict, "Estrito", default=False),
        tickers=parse_tickers(tickers, "Ativos a incluir", minimum=0),
        kinds=tuple(
            parse_choice(k, "Tipo de instrumento", INSTRUMENT_KINDS)
            for k in ([kinds] if isinstance(kinds, str) else list(kinds or []))
            if not is_empty(k)
        ),
        everything=parse_bool(everything, "Todos os instrumentos", default=False),
    )


def run_import_request(
    store: Store,
    req: ImportRequest,
    *,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
) -> ImportReport:
    """Import ``req`` (:func:`core.data.imports.import_files`): all or nothing, logged."""
    from core.data.imports import import_files

    return import_files(
        store,
        list(req.paths),
        req.format,
        ticker=req.ticker,
        mapping=req.mapping,
        names=list(req.names) if req.names else None,
        include_fractional=req.fractional,
        progress=progress,
        cancel=cancel,
        strict=req.strict,
        tickers=list(req.tickers) or None,
        kinds=list(req.kinds) or None,
        everything=req.everything,
    )


@dataclass(frozen=True)
class UpdateRequest:
    """An online update: ``source`` and the tickers (empty = every stored stock, fund, index)."""

    source: str = "yahoo"
    tickers: tuple[str, ...] = ()


def build_update_request(source: Any = None, tickers: Any = None) -> UpdateRequest:
    """Validate the update inputs.

    Raises
    ------
    InputError
        Unknown source or a malformed ticker.
    """
    return UpdateRequest(
        source=parse_choice(source, "Fonte", SOURCES, default="yahoo"),
        tickers=parse_tickers(tickers, "Ativos", minimum=0),
    )


def run_update_request(
    store: Store,
    req: UpdateRequest,
    *,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
) -> ImportReport:
    """Fetch what is missing (:func:`core.data.imports.update_prices`)."""
    from core.data.imports import update_prices

    return update_prices(
        store, req.source, list(req.tickers) or None, progress=progress, cancel=cancel
    )


def report_summary(report: ImportReport, *, limit: int = 200) -> dict:
    """``report.summary()`` with every error reason shortened to ``limit`` characters.

    A malformed file can carry a huge field (a 30 MB "line"); the reason quoting it must not
    be echoed in full on a terminal or in JSON.
    """
    out = report.summary()
    out["errors"] = [
        {**e, "reason": _cut(e.get("reason", ""), limit)} for e in out.get("errors", [])
    ]
    return out


def _cut(text: Any, limit: int) -> str:
    s = str(text)
    return s if len(s) <= limit else f"{s[: limit - 1]}… ({len(s)} caracteres)"
